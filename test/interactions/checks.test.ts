import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { conversationKey } from '../../src/core/checklist/model';
import { CHECK_LEASE_MS } from '../../src/interactions/checks';
import { ACTIONS } from '../../src/views/actions';
import { plainText } from '../../src/views/rich';
import { FakeBitwardenServer } from '../fakes/bitwarden-server';
import { policy, readyOrg } from '../fixtures/bitwarden';
import { ADA, BRAM, CONVERSATION, gate, type LayerHarness, layer, resolveUser } from './harness';

/**
 * Check runs through the application layer against the fake Bitwarden server (its HTTP wire): the card's
 * "checking…" overlay, the report, the lease that keeps one run per rollout across replicas, and the DM
 * an owner gets when their step drifts to failing.
 */

const ROLLOUT = conversationKey(CONVERSATION);
let bw: FakeBitwardenServer;
let h: LayerHarness;

beforeAll(async () => {
  bw = await new FakeBitwardenServer().start();
});
afterAll(async () => {
  await bw.stop();
});
beforeEach(async () => {
  bw.load(readyOrg(new Date('2026-11-25T09:00:00.000Z')));
  h = await layer({ bw });
});
afterEach(async () => {
  await h.close();
});

describe('check runs', () => {
  it('a full run shows checking… on the card, verifies steps, updates the card and posts the report to the conversation', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    expect(h.platform.updates.map((u) => u.checking)).toEqual([true, false]);
    expect(h.platform.reports).toHaveLength(1);
    const report = h.platform.reports[0]!.view;
    expect(report.title).toBe('Verification against Bitwarden');
    expect(report.lines.find((l) => l.step === '2a')).toMatchObject({ status: 'pass', transition: 'now verified' });
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('verified');
    // The report went to everyone; the requester got nothing extra.
    expect(ada.replies).toEqual([]);
  });

  it('status then check at once: the check waits for the card still being posted and shows checking… on it', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'help', resolveUser); // the rollout exists, no card yet
    // The card post of `status` is held at the platform until the check has started.
    const held = gate();
    h.platform.cards.post = held.hold(h.platform.cards.post);
    const status = h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    const check = h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    await new Promise((r) => setImmediate(r));
    held.open();
    await Promise.all([status, check]);
    expect(h.platform.posts).toHaveLength(1);
    expect(h.platform.updates.map((u) => u.checking)).toEqual([true, false]);
    expect(ada.replies.filter((r) => r.kind === 'notice')).toEqual([]); // no separate "check started"
  });

  it('without a card, the requester hears that the check started', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    expect(ada.replies[0]).toMatchObject({ kind: 'notice', tone: 'wait' });
    expect(ada.texts()[0]).toBe('Checking against Bitwarden…');
    expect(h.platform.reports).toHaveLength(1);
  });

  it('a check of one step (the card button) answers the clicker alone', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await h.interactions.cardAction(ada, { action: ACTIONS.runCheck, rolloutId: ROLLOUT, stepId: '2b' });
    expect(ada.replies.map((r) => r.kind)).toEqual(['check_report']);
    expect(h.platform.reports).toEqual([]);
    const r = ada.replies[0]!;
    if (r.kind === 'check_report') expect(r.view.lines.map((l) => l.step)).toEqual(['2b']);
  });

  it('one run per rollout: while another replica holds the lease, a second run waits its turn', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    // Another replica holds the check lease in the shared store.
    expect(await h.store.leases.acquire(`check:${ROLLOUT}`, 'other-replica', CHECK_LEASE_MS)).toBe(true);
    const before = bw.count('POST', /token/);
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    expect(ada.texts()).toEqual(['A check of this rollout is already running. The result will follow here when it is done.']);
    expect(bw.count('POST', /token/)).toBe(before);
    await h.store.leases.release(`check:${ROLLOUT}`, 'other-replica');
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    expect(h.platform.reports).toHaveLength(1);
  });

  it('a step that drifts to failing: its owner gets a DM in their own language', async () => {
    const ada = h.person(ADA);
    h.person(BRAM, { locale: 'nl' });
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'assign 2a @bram', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('verified');
    expect(h.platform.dms).toEqual([]);

    // Someone turns two-step login off in Bitwarden.
    const org = readyOrg(new Date('2026-11-25T09:00:00.000Z'));
    bw.load({ ...org, policies: org.policies.map((p) => (p.type === 0 ? policy(0, false) : p)) });
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('failing');
    expect(h.platform.dms.map((d) => d.user)).toEqual([BRAM]);
    const dm = h.platform.dms[0]!.message;
    expect(dm.kind).toBe('notice');
    if (dm.kind === 'notice')
      expect(plainText(dm.lines[0]!)).toMatch(
        /^❌ Stap 2a \(Beleidsconfiguratie nalopen\) in #bitwarden-rollout slaagt niet meer voor de Bitwarden-controle: /,
      );
    // The report in the conversation stays in the rollout's language.
    expect(h.platform.reports[1]!.view.locale).toBe('en');
  });

  it('a run that fails as a whole changes no step and tells the requester what to do', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    bw.fault({ method: 'POST', path: '/connect/token', kind: 'invalid-client' });
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    bw.clearFaults();
    expect(ada.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'warn' });
    expect(ada.texts().at(-1)).toContain('The check could not run, so no step changed.');
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('open');
    // The card lost its checking… overlay again.
    expect(h.platform.updates.at(-1)?.checking).toBe(false);
  });
});
