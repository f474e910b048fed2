import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetFor } from '../../src/bitwarden/budget';
import { render } from '../../src/i18n';
import { type FakeBitwardenServer, type GroupJson, startFakeBitwarden } from '../fakes/bitwarden-server';
import { assoc, EDGE_CASES } from '../fixtures/bitwarden';
import { ALL_STEPS, makeVerification, NOW } from './helpers';
import { runFixture } from './verdicts';

let server: FakeBitwardenServer;
beforeAll(async () => {
  server = await startFakeBitwarden();
});
afterAll(async () => {
  await server.stop();
});

const CASE = Object.fromEntries(EDGE_CASES.map((c) => [c.name, c]));

async function runCase(name: string, steps = ALL_STEPS) {
  const c = CASE[name]!;
  server.load(c.org(NOW));
  return makeVerification(server, c.hosting).run(steps);
}

describe('every edge-case organization gets the right verdicts', () => {
  for (const c of EDGE_CASES) {
    it(`${c.name} (§${c.kind}, ${c.origin})`, async () => {
      const { before, out } = await runFixture(server, c);
      for (const [step, status] of Object.entries(c.expectedBefore ?? {})) expect(before![step]!.status, `${c.name} ${step} (first run)`).toBe(status);
      // A result for every step: the run never stops on one endpoint.
      expect(Object.keys(out).sort()).toEqual([...ALL_STEPS].sort());
      for (const [step, status] of Object.entries(c.expected)) expect(out[step]!.status, `${c.name} ${step}`).toBe(status);
      // Nothing the server did not send is ever judged `fail`.
      expect(Object.values(out).some((o) => o.status === 'fail')).toBe(false);
    });
  }
});

describe('§1 partial results', () => {
  it('subscription 500: 1a passes on the token and names the failed endpoint and the server message', async () => {
    const out = await runCase('subscription-500', ['1a', '4d']);
    expect(out['1a']).toMatchObject({
      status: 'pass',
      summary: { key: 'check.1a.pass_no_seats' },
      evidence: {
        detail: {
          failedEndpoints: {
            subscription: {
              endpoint: 'GET /public/organization/subscription',
              error: 'bitwarden_unavailable',
              serverMessage: 'An error occurred while retrieving the subscription details.',
            },
          },
        },
      },
    });
    // Read once per run, retried within the policy (3 tries).
    expect(server.count('GET', '/public/organization/subscription')).toBe(3);
    expect(server.count('GET', '/public/members')).toBe(1);
  });

  it('a 429 proxy without Retry-After: 2a and 2b say so, nothing else is touched', async () => {
    const out = await runCase('policies-429-proxy', ['2a', '2b', '4c']);
    expect(out['2a']).toMatchObject({ status: 'error', evidence: { endpoint: 'GET /public/policies', detail: { error: 'bitwarden_rate_limited' } } });
    expect(render('en', out['2b']!.summary)).toContain('without saying how long to wait');
    // One request shared by both steps: 1 + 3 retries.
    expect(server.count('GET', '/public/policies')).toBe(4);
  });
});

describe('§2 server shapes', () => {
  it('pre-2022 lists: reads GET /public/collections/C1 (the side with fewer items, collections on a tie) and passes 4c', async () => {
    const out = await runCase('pre-2022-associations', ['4b', '4c']);
    expect(out['4c']).toMatchObject({
      status: 'pass',
      evidence: {
        endpoint: 'GET /public/groups, GET /public/collections, GET /public/collections/{id}',
        detail: { associations: 'per-id collections', perIdReads: 1 },
      },
    });
    expect(server.log.filter((r) => /^\/public\/(groups|collections)\//.test(r.path)).map((r) => r.path)).toEqual(['/public/collections/C1']);
  });

  it('accessAll reaches every collection', async () => {
    const out = await runCase('access-all-2023', ['4b', '4c']);
    expect(out['4c']).toMatchObject({ status: 'pass', evidence: { detail: { accessAllGroups: 1, associations: 'lists' } } });
    expect(out['4b']).toMatchObject({ status: 'manual', summary: { key: 'check.4b.manual' } });
  });

  it('associations not sent anywhere: manual with the reason', async () => {
    const out = await runCase('associations-not-sent', ['4c']);
    expect(out['4c']).toMatchObject({
      status: 'manual',
      summary: { key: 'check.access.manual_not_sent', vars: { missing: 1 } },
      evidence: { counts: { unknownAssociations: 1 } },
    });
    expect(render('nl', out['4c']!.summary)).toContain('kan deze stap niet beoordelen');
  });

  it('more per-id reads than the limit: manual, and no per-id request at all', async () => {
    const c = CASE['pre-2022-associations']!;
    const org = c.org(NOW);
    org.groups = Array.from({ length: 501 }, (_, i): GroupJson => ({
      object: 'group',
      id: `G${i}`,
      name: `Group ${i}`,
      externalId: null,
      collections: [assoc(`C${i}`)],
    }));
    org.collections = Array.from({ length: 502 }, (_, i) => ({ object: 'collection' as const, id: `C${i}`, externalId: null, groups: [assoc(`G${i % 501}`)] }));
    server.load(org);
    const out = await makeVerification(server, 'self-hosted').run(['4c']);
    expect(out['4c']).toMatchObject({ status: 'manual', summary: { key: 'check.access.manual_over_limit', vars: { missing: 501, limit: 500 } } });
    expect(server.count('GET', /^\/public\/(groups|collections)\//)).toBe(0);
  });

  it('a per-id read that fails makes 4b and 4c error with that endpoint', async () => {
    const c = CASE['pre-2022-associations']!;
    server.load({ ...c.org(NOW), faults: [{ path: /^\/public\/collections\//, kind: 'status', status: 500 }] });
    const out = await makeVerification(server, 'self-hosted').run(['4a', '4c']);
    expect(out['4c']).toMatchObject({ status: 'error', evidence: { endpoint: 'GET /public/groups/{id}, GET /public/collections/{id}' } });
    expect(out['4a']!.status).toBe('pass');
  });
});

describe('§3 events', () => {
  it('client-collected events from extensions count: 9 of 10', async () => {
    const out = await runCase('extension-client-events', ['5b']);
    expect(out['5b']).toMatchObject({ status: 'pass', evidence: { counts: { confirmedMembers: 10, withExtension: 9, pct: 90 } } });
  });

  it('vault changes count, failed logins and web-vault views do not: 5 of 10', async () => {
    const out = await runCase('extension-other-types', ['5b']);
    expect(out['5b']).toMatchObject({ status: 'warn', evidence: { counts: { withExtension: 5, pct: 50 } } });
  });
});

describe('§4 paging and budgets', () => {
  it('cycling tokens stop the paging at the first repeat', async () => {
    const out = await runCase('cycling-tokens', ['5b']);
    expect(out['5b']).toMatchObject({ status: 'error', evidence: { endpoint: 'GET /public/events' } });
    expect(render('en', out['5b']!.summary)).toContain('that it had sent before (after 4 pages)');
    expect(server.count('GET', '/public/events')).toBe(4);
  });

  it('endless paging stops at the budget derived from the organization size', async () => {
    const out = await runCase('endless-paging');
    const org = CASE['endless-paging']!.org(NOW);
    const budget = budgetFor({ members: org.members.length, groups: org.groups.length, collections: org.collections.length });
    expect(out['5b']).toMatchObject({ status: 'error', summary: { vars: { endpoint: 'GET /public/events' } } });
    expect(render('en', out['5b']!.summary)).toContain(`after ${budget} requests`);
    // Everything but the token and the unauthenticated config probe is taken from the budget.
    const budgeted = server.log.filter((r) => r.path.startsWith('/public/')).length;
    expect(budgeted).toBe(budget);
    expect(out['4c']!.status).toBe('pass');
  });
});
