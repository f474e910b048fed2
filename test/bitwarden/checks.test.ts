import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/bitwarden/checks';
import { MEMBER_STATUS, MEMBER_TYPE } from '../../src/bitwarden/schemas';
import { endpointsFromConfig } from '../../src/bitwarden/verifier';
import { DEFAULT_THRESHOLDS } from '../../src/core/checklist/model';
import { render } from '../../src/i18n';
import { loadTemplate } from '../../src/templates';
import { type FakeBitwardenServer, startFakeBitwarden } from '../fakes/bitwarden-server';
import { halfDoneOrg, oldServerOrg, readyOrg, selfHostedOrg, vaultwardenOrg } from '../fixtures/bitwarden';
import { ALL_STEPS, makeVerification, NOW } from './helpers';

let server: FakeBitwardenServer;
beforeAll(async () => {
  server = await startFakeBitwarden();
});
afterAll(async () => {
  await server.stop();
});

function statuses(out: Record<string, { status: string }>): Record<string, string> {
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.status]));
}

describe('checks against a ready cloud organization', () => {
  it('passes every automated step, marks manual ones manual and self-hosted ones not applicable', async () => {
    server.load(readyOrg(NOW));
    const h = makeVerification(server, 'cloud-us');
    const out = await h.run();
    expect(statuses(out)).toEqual({
      '1a': 'pass',
      '2a': 'pass',
      '2b': 'pass',
      '3a': 'not_applicable',
      '3b': 'not_applicable',
      '3c': 'not_applicable',
      '4a': 'pass',
      '4b': 'manual',
      '4c': 'pass',
      '4d': 'pass',
      '4e': 'pass',
      '5a': 'not_applicable',
      '5b': 'pass',
      '6': 'pass',
    });
    const at = NOW.toISOString();
    expect(out['1a']!.evidence).toMatchObject({ counts: { seats: 25, activeMembers: 21 }, at });
    expect(out['1a']!.summary).toEqual({ key: 'check.1a.pass_seats', vars: { seats: 25, members: 21 } });
    expect(out['2a']!.evidence).toMatchObject({ endpoint: 'GET /public/policies', counts: { desired: 3, enabled: 3 }, detail: { missing: [] } });
    expect(render('en', out['2a']!.summary)).toBe(
      'All required policies are on (3): Require two-step login (0), Master password requirements (1), Single organization (3).',
    );
    expect(render('nl', out['2a']!.summary)).toBe(
      'Alle vereiste beleidsregels staan aan (3): Tweestapsaanmelding vereisen (0), Vereisten hoofdwachtwoord (1), Eén organisatie (3).',
    );
    expect(out['2b']!.summary.key).toBe('check.2b.pass_auto');
    expect(out['2b']!.evidence).toMatchObject({ counts: { confirmedMembers: 20, enrolled: 18, enrolledPct: 90 }, detail: { autoEnrollEnabled: true } });
    expect(out['2b']!.evidence.items).toEqual(['member19@example.com', 'member20@example.com']);
    expect(out['4a']!.evidence.counts).toEqual({ collections: 4 });
    expect(out['4c']!.evidence.counts).toMatchObject({ groups: 3, collections: 4, groupsWithoutCollection: 0, collectionsWithoutGroup: 0 });
    expect(out['4d']!.evidence.counts).toMatchObject({ confirmedOwners: 3, admins: 1, custom: 2, acceptedUnconfirmed: 0 });
    expect(out['4e']!.evidence).toMatchObject({ counts: { custom: 2 } });
    expect((out['4e']!.evidence.detail as { customMembers: unknown[] }).customMembers).toEqual([
      { member: 'eva@example.com', permissions: ['manageGroups', 'manageUsers'] },
      { member: 'floor@example.com', permissions: ['accessEventLogs'] },
    ]);
    expect(out['5b']!.evidence.counts).toMatchObject({ confirmedMembers: 20, withExtension: 17, pct: 85, targetPct: 80 });
    expect(out['5b']!.evidence.items).toEqual(['member18@example.com', 'member19@example.com', 'member20@example.com']);
    expect(render('en', out['5b']!.summary)).toBe('Browser extension used in the last 30 days by 17 of 20 confirmed members (85%; target 80%).');
    expect(out['6']!.evidence.counts).toMatchObject({ invited: 1, accepted: 0, confirmed: 20, pct: 95.2 });
    expect(out['3a']!.summary.key).toBe('check.na_cloud');
  });

  it('fetches every endpoint once per run, with one token request', async () => {
    server.load(readyOrg(NOW));
    const h = makeVerification(server, 'cloud-us');
    await h.run();
    expect(server.count('POST', '/connect/token')).toBe(1);
    for (const p of ['/public/members', '/public/groups', '/public/collections', '/public/policies', '/public/organization/subscription', '/config']) {
      expect(server.count('GET', p), p).toBe(1);
    }
    // 118 events in the window → 3 pages of 50.
    expect(server.count('GET', '/public/events')).toBe(3);
    expect(server.log.every((r) => r.method === 'GET' || r.path === '/connect/token')).toBe(true);
  });

  it('a single step only fetches what that step needs', async () => {
    server.load(readyOrg(NOW));
    const h = makeVerification(server, 'cloud-us');
    const out = await h.run(['4c']);
    expect(Object.keys(out)).toEqual(['4c']);
    expect(server.log.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'GET /config',
      'GET /public/collections',
      'GET /public/groups',
      'POST /connect/token',
    ]);
  });
});

describe('checks against a half-done cloud organization', () => {
  it('fails and warns with the offending policies, groups, collections and members named', async () => {
    server.load(halfDoneOrg(NOW));
    const out = await makeVerification(server, 'cloud-eu').run();
    expect(statuses(out)).toEqual({
      '1a': 'warn',
      '2a': 'fail',
      '2b': 'fail',
      '3a': 'not_applicable',
      '3b': 'not_applicable',
      '3c': 'not_applicable',
      '4a': 'pass',
      '4b': 'warn',
      '4c': 'fail',
      '4d': 'warn',
      '4e': 'warn',
      '5a': 'not_applicable',
      '5b': 'warn',
      '6': 'fail',
    });
    expect(out['1a']!.summary).toEqual({ key: 'check.1a.warn_seats', vars: { seats: 10, members: 15 } });
    expect(out['2a']!.evidence).toMatchObject({
      counts: { desired: 3, enabled: 1 },
      items: ['Master password requirements (1)', 'Single organization (3)'],
      detail: { missing: [1, 3] },
    });
    expect(render('nl', out['2a']!.summary)).toBe(
      'Vereiste beleidsregels die niet aan staan (2 van 3): Vereisten hoofdwachtwoord (1), Eén organisatie (3). Zet ze aan in de Beheerconsole onder Instellingen → Beleid.',
    );
    expect(out['2b']!.summary.key).toBe('check.2b.fail_both');
    expect(out['2b']!.evidence.detail).toMatchObject({ resetPasswordPolicy: false, singleOrgPolicy: false, autoEnrollEnabled: false });
    expect(out['4b']!.evidence).toMatchObject({ counts: { collections: 3, withoutGroup: 1 } });
    expect(out['4b']!.evidence.items).toEqual(['orphan-hr (0c000000-0000-4000-8000-000000000003)']);
    expect(out['4c']!.evidence.counts).toMatchObject({ groupsWithoutCollection: 1, collectionsWithoutGroup: 1 });
    expect(out['4c']!.evidence.items).toEqual([
      'group Finance (09000000-0000-4000-8000-000000000002)',
      'collection orphan-hr (0c000000-0000-4000-8000-000000000003)',
    ]);
    expect(render('en', out['4c']!.summary)).toBe(
      'Groups without a collection: 1 (Finance). Collections without a group: 1 (orphan-hr). Assign them in the Admin Console under Groups.',
    );
    expect(out['4d']!.summary).toMatchObject({ key: 'check.4d.warn_owners', vars: { owners: 1, min: 2, names: 'owner@example.com' } });
    expect(out['4d']!.evidence.items).toEqual(['accepted7@example.com', 'accepted8@example.com', 'accepted9@example.com']);
    expect(out['5b']!.evidence.counts).toMatchObject({ confirmedMembers: 6, withExtension: 1, pct: 16.7 });
    // Dutch decimal comma.
    expect(render('nl', out['5b']!.summary)).toBe(
      'Browserextensie gebruikt in de afgelopen 30 dagen door pas 1 van de 6 bevestigde leden (16,7%); het doel is 80%. Rol de extensie uit naar de overige apparaten.',
    );
    expect(out['6']!.evidence.counts).toMatchObject({ invited: 6, accepted: 3, confirmed: 6, revoked: 1, pct: 40 });
    expect(out['6']!.evidence.items).toHaveLength(9);
  });

  it('caps offending items at 20 and says how many more', async () => {
    const org = halfDoneOrg(NOW);
    const { member } = await import('../fixtures/bitwarden');
    for (let n = 100; n < 130; n++) org.members.push(member(n, { status: 0, type: 2 }));
    server.load(org);
    const out = await makeVerification(server, 'cloud-us').run(['6']);
    expect(out['6']!.evidence.items).toHaveLength(20);
    expect(out['6']!.evidence.detail).toMatchObject({ moreItems: 39 - 20 });
  });
});

describe('tolerance', () => {
  it('unknown enum numbers (policy, member type/status, event type/device) do not break a run', async () => {
    const org = readyOrg(NOW);
    const { event, member, policy, userIdOf } = await import('../fixtures/bitwarden');
    org.policies.push(policy(42, true, { futureSetting: 'x' }));
    org.members.push({ ...member(90, { status: 7, type: 9 }), permissions: null });
    org.events.push(event(9999, new Date(NOW.getTime() - 3_600_000), { actingUserId: userIdOf(1), device: 77 }));
    server.load(org);
    const out = await makeVerification(server, 'cloud-us').run();
    expect(Object.values(out).every((o) => o.status !== 'error')).toBe(true);
    expect(out['2a']!.status).toBe('pass');
    expect(out['6']!.evidence.counts).toMatchObject({ invited: 1, accepted: 0, confirmed: 20 });
  });

  it('1a still passes on the token when only the subscription endpoint answers oddly', async () => {
    server.load(readyOrg(NOW));
    server.fault({ path: '/public/organization/subscription', kind: 'malformed' });
    const out = await makeVerification(server, 'cloud-us').run(['1a']);
    expect(out['1a']).toMatchObject({ status: 'pass', summary: { key: 'check.1a.pass_no_seats' }, evidence: { detail: { subscriptionStatus: 0 } } });
  });

  it('an unknown desired policy is named by number', async () => {
    server.load(readyOrg(NOW));
    const h = makeVerification(server, 'cloud-us');
    const out = await h.verification.verify({
      rolloutId: 't',
      settings: { hosting: 'cloud-us', desiredPolicies: [0, 57], thresholds: DEFAULT_THRESHOLDS },
      credentials: { clientId: server.clientId, clientSecret: server.fixture.clientSecret },
      stepIds: ['2a'],
    });
    expect(out['2a']).toMatchObject({ status: 'fail', evidence: { items: ['#57'] } });
    expect(render('en', out['2a']!.summary)).toContain('(1 of 2): #57.');
  });
});

describe('checks against a self-hosted server', () => {
  it('checks the licence probe and server config, and keeps billing sync and licence download manual', async () => {
    server.load(selfHostedOrg(NOW));
    const out = await makeVerification(server, 'self-hosted').run();
    expect(statuses(out)).toEqual({
      '1a': 'pass',
      '2a': 'pass',
      '2b': 'pass',
      '3a': 'manual',
      '3b': 'pass',
      '3c': 'manual',
      '4a': 'pass',
      '4b': 'manual',
      '4c': 'pass',
      '4d': 'pass',
      '4e': 'pass',
      '5a': 'warn',
      '5b': 'pass',
      '6': 'pass',
    });
    // The fake speaks plain HTTP: the server answers, but clients need HTTPS (the TLS test covers the pass).
    expect(out['5a']!.summary.key).toBe('check.5a.warn_http');
    expect(server.requests('GET', '/public/members')[0]!.rawPath).toBe('/api/public/members');
    expect(server.requests('POST', '/connect/token')[0]!.rawPath).toBe('/identity/connect/token');
    expect(out['1a']!.summary.key).toBe('check.1a.pass');
    expect(out['2b']!.summary.key).toBe('check.2b.pass_manual');
    expect(out['3b']!.evidence.detail).toMatchObject({ subscriptionStatus: 400, message: 'Only allowed when not self hosted.' });
    expect(out['5a']!.evidence).toMatchObject({ counts: { usersLoggedIn30d: 4 }, detail: { version: '2026.8.0' } });
    expect(out['5b']!.evidence.counts).toMatchObject({ confirmedMembers: 5, withExtension: 4, pct: 80 });
    expect(server.count('GET', '/config')).toBe(1);
    expect(server.requests('GET', '/config')[0]!.rawPath).toBe('/api/config');
  });

  it('the same key against a cloud organization fails 3b', async () => {
    server.load(readyOrg(NOW));
    const out = await makeVerification(server, 'self-hosted').run(['3b']);
    expect(out['3b']!.status).toBe('fail');
    expect(out['3b']!.summary.key).toBe('check.3b.fail_cloud');
  });
});

describe('checks against an old self-hosted server', () => {
  it('tolerates null collection groups, legacy list tokens, "" event tokens and dates without a zone', async () => {
    server.load(oldServerOrg(NOW));
    const out = await makeVerification(server, 'self-hosted').run();
    expect(statuses(out)).toEqual({
      '1a': 'pass',
      '2a': 'pass',
      '2b': 'pass',
      '3a': 'manual',
      '3b': 'pass',
      '3c': 'manual',
      '4a': 'pass',
      '4b': 'manual',
      '4c': 'pass',
      '4d': 'warn',
      '4e': 'warn',
      '5a': 'warn',
      '5b': 'pass',
      '6': 'warn',
    });
    expect(out['4d']!.evidence.items).toEqual(['waiting@old.example']);
    expect(out['6']!.evidence.counts).toMatchObject({ confirmed: 3, accepted: 1, pct: 75 });
    expect(out['4c']!.evidence.counts).toMatchObject({ groups: 2, collections: 2, collectionsWithoutGroup: 0 });
    expect(out['4d']!.summary.key).toBe('check.4d.warn_accepted');
    expect(out['5a']!.evidence.detail).toMatchObject({ version: '2024.12.0' });
    expect(out['5b']!.evidence.counts).toMatchObject({ withExtension: 3, newEvents: 76, eventPages: 2 });
    expect(server.count('GET', '/public/events')).toBe(2);
  });
});

describe('checks against Vaultwarden', () => {
  it('stops the whole run: the Public API is not available there', async () => {
    server.load(vaultwardenOrg());
    const err = await makeVerification(server, 'self-hosted')
      .run()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bitwarden_not_supported', userMessage: { key: 'bw.error.vaultwarden' } });
    const msg = render('en', (err as { userMessage: { key: string; vars?: Record<string, string | number> } }).userMessage);
    expect(msg).toContain('Vaultwarden');
    expect(msg).toContain('Public API is not available');
    expect(server.count('GET', /^\/public\//)).toBe(0);
  });
});

it('has a check registered for every step of the built-in template', () => {
  expect(loadTemplate().steps.map((st) => st.id)).toEqual(ALL_STEPS);
  for (const id of ALL_STEPS) expect(CHECKS[id]?.stepId).toBe(id);
});

describe('endpointsFromConfig', () => {
  const env = { hosting: 'cloud-eu' as const, apiUrl: 'http://127.0.0.1:1/api-override', identityUrl: 'http://127.0.0.1:1/id-override' };
  it('keeps the BW_* overrides for rollouts on the configured hosting, standard URLs otherwise', () => {
    const f = endpointsFromConfig(env);
    const base = { desiredPolicies: [0], thresholds: DEFAULT_THRESHOLDS };
    expect(f({ ...base, hosting: 'cloud-eu' })).toMatchObject({ apiUrl: env.apiUrl, identityUrl: env.identityUrl });
    expect(f({ ...base, hosting: 'cloud-us' })).toMatchObject({ apiUrl: 'https://api.bitwarden.com', identityUrl: 'https://identity.bitwarden.com' });
    expect(f({ ...base, hosting: 'self-hosted', serverUrl: 'https://vault.example.com/' })).toMatchObject({
      apiUrl: 'https://vault.example.com/api',
      identityUrl: 'https://vault.example.com/identity',
    });
  });
});

// Written for the mutants StrykerJS left alive in step4e.ts (test/MUTATION.md).
describe('4e custom roles', () => {
  it('names the custom-role members in the summary, from GET /public/members, registered under its step id', async () => {
    expect(CHECKS['4e']?.stepId).toBe('4e');
    server.load(readyOrg(NOW));
    const out = await makeVerification(server, 'cloud-us').run(['4e']);
    expect(out['4e']!.evidence.endpoint).toBe('GET /public/members');
    expect(render('en', out['4e']!.summary)).toBe('Members with a custom role (2): eva@example.com, floor@example.com.');
  });

  it('does not count a revoked member, lists at most 20 in the evidence, and warns (localized) when none is left', async () => {
    const org = readyOrg(NOW);
    const template = org.members.find((m) => m.type === MEMBER_TYPE.custom)!;
    org.members = org.members.filter((m) => m.type !== MEMBER_TYPE.custom);
    org.members.push({ ...template, id: 'revoked-custom', email: 'gone@example.com', status: MEMBER_STATUS.revoked });
    for (let i = 0; i < 22; i++) org.members.push({ ...template, id: `custom-${i}`, email: `custom${i}@example.com`, status: MEMBER_STATUS.confirmed });
    server.load(org);
    const many = (await makeVerification(server, 'cloud-us').run(['4e']))['4e']!;
    expect(many.evidence.counts).toEqual({ custom: 22 });
    expect((many.evidence.detail as { customMembers: unknown[] }).customMembers).toHaveLength(20);
    expect(render('en', many.summary)).not.toContain('gone@example.com');

    org.members = org.members.filter((m) => m.type !== MEMBER_TYPE.custom || m.status === MEMBER_STATUS.revoked);
    server.load(org);
    const none = (await makeVerification(server, 'cloud-us').run(['4e']))['4e']!;
    expect(none.status).toBe('warn');
    expect(render('en', none.summary)).toBe('No member has a custom role. If some admins need only part of the rights, give them a custom role under Members.');
  });
});
