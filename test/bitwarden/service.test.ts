import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mrkdwn } from '../../src/slack/blocks/mrkdwn';
import { memoryKeyValueStore } from '../../src/bitwarden/memory-kv';
import { BitwardenVerification } from '../../src/bitwarden/verifier';
import type { Actor, Rollout } from '../../src/core/checklist/model';
import { ChecklistService } from '../../src/core/checklist/service';
import type { OrgCredentials } from '../../src/core/verification/ports';
import { VerificationService } from '../../src/core/verification/service';
import { render, renderRich } from '../../src/i18n';
import { buildCheckReportView } from '../../src/views/check-report';
import { buildChecklistView } from '../../src/views/checklist';
import { plainText } from '../../src/views/rich';
import { loadTemplate } from '../../src/templates';
import { type FakeBitwardenServer, startFakeBitwarden } from '../fakes/bitwarden-server';
import { MemoryStore } from '../fakes/memory-store';
import { FAKE_SECRET, halfDoneOrg, readyOrg, selfHostedOrg } from '../fixtures/bitwarden';
import { fakeEndpoints, NOW, TestClock } from './helpers';

const ADMIN: Actor = { user: 'slack:U0ADMIN', surface: 'slack', name: 'Ada' };
const CONV = { platform: 'slack' as const, workspace: 'T0TEST', channel: 'C0ROLLOUT' };

let server: FakeBitwardenServer;
beforeAll(async () => {
  server = await startFakeBitwarden();
});
afterAll(async () => {
  await server.stop();
});

interface Setup {
  store: MemoryStore;
  checklist: ChecklistService;
  service: VerificationService;
  rollout: Rollout;
  resolved: Rollout[];
}

async function setup(
  hosting: 'cloud-us' | 'cloud-eu' | 'self-hosted',
  opts: { defaultCredentials?: OrgCredentials | null; resolve?: (r: Rollout) => OrgCredentials | undefined } = {},
): Promise<Setup> {
  const clock = new TestClock();
  const store = new MemoryStore();
  const checklist = new ChecklistService({
    store,
    template: loadTemplate(),
    clock,
    defaults: {
      locale: 'en',
      hosting,
      ...(hosting === 'self-hosted' ? { serverUrl: server.url } : {}),
      timezone: 'Europe/Amsterdam',
      digestTime: '09:00',
      weekdays: [1, 2, 3, 4, 5],
    },
    globalAdmins: [],
  });
  const verifier = new BitwardenVerification({
    kv: memoryKeyValueStore(),
    clock,
    endpoints: (s) => fakeEndpoints(server, s.hosting),
    retry: { baseDelayMs: 1 },
  });
  const resolved: Rollout[] = [];
  const defaults = opts.defaultCredentials === null ? undefined : (opts.defaultCredentials ?? { clientId: server.clientId, clientSecret: FAKE_SECRET });
  const service = new VerificationService({
    checklist,
    verifier,
    clock,
    ...(defaults ? { defaultCredentials: defaults } : {}),
    ...(opts.resolve
      ? {
          resolveCredentials: async (r: Rollout) => {
            resolved.push(r);
            return opts.resolve!(r);
          },
        }
      : {}),
  });
  const rollout = await checklist.ensureRollout(CONV, ADMIN);
  return { store, checklist, service, rollout, resolved };
}

describe('VerificationService', () => {
  beforeEach(() => {
    server.load(readyOrg(NOW));
  });

  it('records every step: passes become verified; evidence stays on the step; the audit has only the changes', async () => {
    const s = await setup('cloud-us');
    const run = await s.service.run(s.rollout, { actor: ADMIN });
    expect(run.results).toHaveLength(14);
    expect(run.transitions.map((t) => t.stepId).sort()).toEqual(['1a', '2a', '2b', '4a', '4c', '4d', '4e', '5b', '6']);
    expect(run.transitions.every((t) => t.from === 'open' && t.to === 'verified')).toBe(true);
    expect(run.rollout.steps['2a']).toMatchObject({ state: 'verified', lastCheck: { status: 'pass', evidence: { endpoint: 'GET /public/policies' } } });
    expect(run.rollout.steps['4b']).toMatchObject({ state: 'open', lastCheck: { status: 'manual' } });
    expect(run.rollout.steps['3a']).toMatchObject({ state: 'not_applicable', lastCheck: { status: 'not_applicable' } });
    const audit = await s.store.listAudit(s.rollout.id);
    // The audit trail records what changed (nine steps became verified), not every result, and no evidence.
    const checks = audit.filter((a) => a.action === 'step.check');
    expect(checks.map((a) => a.stepId).sort()).toEqual(['1a', '2a', '2b', '4a', '4c', '4d', '4e', '5b', '6']);
    expect(JSON.stringify(checks)).not.toContain('evidence');
    expect(run.results[0]!.record.at).toBe(NOW.toISOString());
  });

  it('a failing check flags a claimed step as failing but leaves unclaimed ones open', async () => {
    server.load(halfDoneOrg(NOW));
    const s = await setup('cloud-eu');
    await s.checklist.markDone(s.rollout.id, '2a', ADMIN, 'policies done');
    const run = await s.service.run(s.rollout, { actor: { user: 'cli:ops', surface: 'cli' } });
    expect(run.transitions).toEqual(
      expect.arrayContaining([
        { stepId: '2a', from: 'done', to: 'failing' },
        { stepId: '4a', from: 'open', to: 'verified' },
      ]),
    );
    expect(run.rollout.steps['2a']).toMatchObject({ state: 'failing', doneBy: ADMIN.user, note: 'policies done' });
    expect(run.rollout.steps['4c']).toMatchObject({ state: 'open', lastCheck: { status: 'fail' } });
    expect(render('en', run.rollout.steps['4c']!.lastCheck!.summary)).toContain('Finance');
    // The next run cannot read the policies: 2a stays failing (an error is not a verdict).
    server.fault({ path: '/public/policies', kind: 'malformed' });
    const again = await s.service.run(run.rollout, { stepIds: ['2a'], actor: ADMIN });
    expect(again.transitions).toEqual([]);
    expect(again.rollout.steps['2a']).toMatchObject({ state: 'failing', lastCheck: { status: 'error' } });
  });

  it('runs only the requested steps (ids case-insensitive) and rejects unknown ones', async () => {
    const s = await setup('cloud-us');
    const run = await s.service.run(s.rollout, { stepIds: ['2A', '4c'], actor: ADMIN });
    expect(run.results.map((r) => r.stepId)).toEqual(['2a', '4c']);
    expect(server.count('GET', '/public/members')).toBe(0);
    await expect(s.service.run(s.rollout, { stepIds: ['9z'], actor: ADMIN })).rejects.toMatchObject({ code: 'unknown_step' });
  });

  it('a second concurrent call joins the running one', async () => {
    const s = await setup('cloud-us');
    server.fault({ path: '/public/members', kind: 'slow', delayMs: 50, times: 1 });
    const a = s.service.run(s.rollout, { actor: ADMIN });
    expect(s.service.isRunning(s.rollout.id)).toBe(true);
    const b = s.service.run(s.rollout, { actor: ADMIN });
    expect(b).toBe(a);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toBe(rb);
    expect(server.count('POST', '/connect/token')).toBe(1);
    expect(server.count('GET', '/public/members')).toBe(1);
    expect(s.service.isRunning(s.rollout.id)).toBe(false);
    // After it finished, a new call runs again.
    await s.service.run(s.rollout, { stepIds: ['6'], actor: ADMIN });
    expect(server.count('GET', '/public/members')).toBe(2);
  });

  it('one failing endpoint only marks the steps that need it error, and an error never changes a step state', async () => {
    const s = await setup('cloud-us');
    await s.checklist.markDone(s.rollout.id, '2a', ADMIN);
    // A first good run verifies 2b and 4d.
    await s.service.run(s.rollout, { stepIds: ['2b', '4d'], actor: ADMIN });
    server.fault({ path: '/public/policies', kind: 'status', status: 502 });
    server.fault({ path: '/public/members', kind: 'malformed' });
    const run = await s.service.run(s.rollout, { actor: ADMIN });
    expect(run.results).toHaveLength(14);
    const status = Object.fromEntries(run.results.map((r) => [r.stepId, r.record.status]));
    expect(status).toMatchObject({
      '2a': 'error',
      '2b': 'error',
      '4d': 'error',
      '4e': 'error',
      '5b': 'error',
      '6': 'error',
      '4a': 'pass',
      '4c': 'pass',
      '1a': 'pass',
    });
    // Claimed, verified and open steps keep their state: missing data is not drift.
    expect(run.rollout.steps['2a']).toMatchObject({ state: 'done', lastCheck: { status: 'error', evidence: { endpoint: 'GET /public/policies' } } });
    expect(run.rollout.steps['2b']).toMatchObject({ state: 'verified', lastCheck: { status: 'error' } });
    expect(run.rollout.steps['4d']).toMatchObject({ state: 'verified', lastCheck: { status: 'error', evidence: { endpoint: 'GET /public/members' } } });
    expect(run.rollout.steps['6']).toMatchObject({ state: 'open' });
    expect(run.transitions.map((t) => t.stepId).sort()).toEqual(['1a', '4a', '4c']);
    expect(render('en', run.rollout.steps['2a']!.lastCheck!.summary)).toContain('Not checked: GET /public/policies failed. Bitwarden at');
    expect(render('en', run.rollout.steps['2a']!.lastCheck!.summary)).toContain('(HTTP 502)');
    // An error changes no state, so the audit trail (what changed) has no entry for it; the step keeps the result.
    const audit = await s.store.listAudit(s.rollout.id);
    expect(audit.filter((a) => a.action === 'step.check' && (a.detail as { status?: string } | undefined)?.status === 'error')).toEqual([]);
    expect(run.rollout.steps['2a']?.lastCheck?.status).toBe('error');
  });

  it('the check report and the card name the steps that could not be checked and why', async () => {
    const s = await setup('cloud-us');
    server.fault({ path: '/public/policies', kind: 'status', status: 500 });
    const run = await s.service.run(s.rollout, { actor: ADMIN });
    const report = buildCheckReportView(s.checklist.template, run.results, run.transitions, 'en');
    expect(report.unchecked).toBe(
      'Not checked (2): 2a, 2b. The data they need did not come from Bitwarden; the reason is on each line. These steps keep their state.',
    );
    expect(plainText(report.footer).startsWith(report.unchecked!)).toBe(true);
    expect(report.tally).toContain('2 could not check');
    const line = report.lines.find((l) => l.step === '2a')!;
    expect(line).toMatchObject({ status: 'error', icon: '❗', statusLabel: 'Could not check' });
    expect(plainText(line.summary)).toContain('Not checked: GET /public/policies failed.');
    expect(plainText(line.summary)).toContain('(HTTP 500)');
    const nl = buildCheckReportView(s.checklist.template, run.results, run.transitions, 'nl');
    expect(nl.unchecked).toContain('Niet gecontroleerd (2): 2a, 2b.');
    const card = buildChecklistView(s.checklist.template, run.rollout, NOW, 'nl');
    const step = card.phases.flatMap((p) => p.steps).find((x) => x.id === '2b')!;
    expect(step.lastCheck).toMatchObject({ status: 'error', label: 'Niet gecontroleerd' });
    expect(plainText(step.lastCheck!.summary)).toContain('Niet gecontroleerd: GET /public/policies mislukte.');
    // A run where everything could be checked has no such note.
    server.clearFaults();
    const ok = await s.service.run(run.rollout, { actor: ADMIN });
    expect(buildCheckReportView(s.checklist.template, ok.results, ok.transitions, 'en').unchecked).toBeUndefined();
  });

  it('when the whole run fails (a revoked key) it throws and leaves every step untouched', async () => {
    const s = await setup('cloud-us');
    await s.checklist.markDone(s.rollout.id, '2a', ADMIN);
    const before = await s.checklist.get(s.rollout.id);
    // The key is revoked: the cached token stops working and a new one is refused.
    server.expireTokens();
    server.fault({ path: '/connect/token', kind: 'invalid-client' });
    await expect(s.service.run(s.rollout, { actor: ADMIN })).rejects.toMatchObject({ code: 'bitwarden_auth' });
    const after = await s.checklist.get(s.rollout.id);
    expect(after).toEqual(before);
    expect(Object.values(after!.steps).some((r) => r.lastCheck)).toBe(false);
  });

  it('without any credentials it says how to set them', async () => {
    const s = await setup('cloud-us', { defaultCredentials: null });
    const e = await s.service.run(s.rollout, { actor: ADMIN }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'no_credentials', userMessage: { key: 'bw.error.no_credentials' } });
    const msg = mrkdwn(renderRich('nl', (e as { userMessage: { key: string } }).userMessage));
    expect(msg).toContain('BW_CLIENT_ID');
    expect(msg).toContain('/bwprep setup'); // on Slack the command is spelled the Slack way
    expect(render('nl', (e as { userMessage: { key: string } }).userMessage)).toContain('invullen met setup'); // in a terminal, bare
    expect(server.log).toHaveLength(0);
  });

  it("uses the rollout's own key when it has one, else the environment default", async () => {
    const s = await setup('cloud-us', {
      defaultCredentials: { clientId: 'organization.00000000-0000-4000-8000-000000000000', clientSecret: 'wrong-default-secret' },
      resolve: () => ({ clientId: server.clientId, clientSecret: FAKE_SECRET }),
    });
    // No per-rollout key yet: the (wrong) default is used, and the resolver is not asked.
    await expect(s.service.run(s.rollout, { stepIds: ['4a'], actor: ADMIN })).rejects.toMatchObject({ code: 'bitwarden_auth' });
    expect(s.resolved).toHaveLength(0);
    const { rollout } = await s.checklist.updateSettings(
      s.rollout.id,
      { credentials: { clientId: server.clientId, secret: { v: 1, iv: 'aXY=', tag: 'dGFn', data: 'ZGF0YQ==' } } },
      ADMIN,
    );
    const run = await s.service.run(rollout, { stepIds: ['4a'], actor: ADMIN });
    expect(run.results[0]!.record.status).toBe('pass');
    expect(s.resolved).toHaveLength(1);
  });

  it('verifies a self-hosted rollout against its server URL', async () => {
    server.load(selfHostedOrg(NOW));
    const s = await setup('self-hosted');
    const run = await s.service.run(s.rollout, { actor: ADMIN });
    expect(run.rollout.steps['3b']).toMatchObject({ state: 'verified' });
    expect(run.rollout.steps['5a']).toMatchObject({ state: 'open', lastCheck: { status: 'warn', summary: { key: 'check.5a.warn_http' } } });
    expect(run.rollout.steps['3a']).toMatchObject({ state: 'open', lastCheck: { status: 'manual' } });
  });
});
