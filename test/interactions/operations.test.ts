import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { conversationKey } from '../../src/core/checklist/model';
import { CHECK_LEASE_MS } from '../../src/interactions/checks';
import { ACTIONS } from '../../src/views/actions';
import { FakeBitwardenServer } from '../fakes/bitwarden-server';
import { policy, readyOrg } from '../fixtures/bitwarden';
import { ADA, BRAM, CONVERSATION, counter, type LayerHarness, layer, resolveUser } from './harness';

/**
 * What an operator sees of the layer's work: the Prometheus counters `/metrics` serves, and a log line for
 * every best-effort step that failed (the user's request still succeeds). Also the scheduler's check run
 * (before a digest) and the renewal of a check run's lease while the run lasts.
 */

const ROLLOUT = conversationKey(CONVERSATION);
const NOW = new Date('2026-11-25T09:00:00.000Z');
let bw: FakeBitwardenServer;
let h: LayerHarness;

beforeAll(async () => {
  bw = await new FakeBitwardenServer().start();
});
afterAll(async () => {
  await bw.stop();
});
beforeEach(async () => {
  bw.clearFaults();
  bw.load(readyOrg(NOW));
  h = await layer({ bw });
});
afterEach(async () => {
  vi.useRealTimers();
  await h.close();
});

async function observations(kind: string): Promise<number> {
  const { values } = await h.metrics.handlerSeconds.get();
  return values.find((v) => v.metricName === 'bwprep_handler_seconds_count' && v.labels.kind === kind)?.value ?? 0;
}

describe('counters', () => {
  it('commands and clicks are counted by platform, name and outcome; handler time is observed per kind', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'done 9z', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'frobnicate', resolveUser);
    await h.interactions.cardAction(ada, { action: ACTIONS.markDone, rolloutId: ROLLOUT, stepId: '2a' });
    await h.interactions.cardAction(ada, { action: ACTIONS.markDone, rolloutId: 'slack:T0:C0', stepId: '2a' });
    expect(await counter(h.metrics.commands, { platform: 'teams', command: 'status', outcome: 'ok' })).toBe(1);
    expect(await counter(h.metrics.commands, { platform: 'teams', command: 'done', outcome: 'error' })).toBe(1);
    expect(await counter(h.metrics.commands, { platform: 'teams', command: 'unknown', outcome: 'error' })).toBe(1);
    expect(await counter(h.metrics.actions, { platform: 'teams', action: ACTIONS.markDone, outcome: 'ok' })).toBe(1);
    expect(await counter(h.metrics.actions, { platform: 'teams', action: ACTIONS.markDone, outcome: 'error' })).toBe(1);
    expect(await counter(h.metrics.errors, { code: 'unknown_step' })).toBe(1);
    expect(await counter(h.metrics.errors, { code: 'unknown_command' })).toBe(1);
    expect(await counter(h.metrics.errors, { code: 'bad_usage' })).toBe(1);
    expect(await observations('command')).toBe(3);
    expect(await observations('action')).toBe(2);
  });

  it('a check run counts each result by step and status, and its time apart from the command', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    expect(await counter(h.metrics.checks, { step: '2a', status: 'pass' })).toBe(1);
    expect(await observations('check')).toBe(1);
    expect(await observations('command')).toBe(1);
    // The whole run: one result per verifiable step.
    const { values } = await h.metrics.checks.get();
    expect(values.reduce((n, v) => n + v.value, 0)).toBe(h.platform.reports[0]!.view.lines.length);
  });
});

describe('logs', () => {
  it('a refused command is logged with the command, the conversation, the person and the rollout', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'done 9z', resolveUser);
    await h.interactions.cardAction(ada, { action: ACTIONS.markDone, rolloutId: ROLLOUT, stepId: '9z' });
    expect(h.logs('request refused')).toMatchObject([
      { level: 'info', code: 'unknown_step', key: 'error.unknown_step', command: 'done', conversation: CONVERSATION.channel, user: ADA, rolloutId: ROLLOUT },
      { level: 'info', code: 'unknown_step', action: ACTIONS.markDone, step: '9z', user: ADA, rolloutId: ROLLOUT },
    ]);
    // In a direct message: the command, marked as direct.
    await h.interactions.direct(ada, 'done 9z', resolveUser, CONVERSATION);
    expect(h.logs('request refused').at(-1)).toMatchObject({
      level: 'info',
      code: 'unknown_step',
      command: 'done',
      direct: true,
      user: ADA,
      rolloutId: ROLLOUT,
    });
    await h.interactions.direct(ada, 'frobnicate', resolveUser);
    expect(ada.texts().at(-1)).toBe('I don\'t know the command "frobnicate".\nUsage: help: list every command');
    await h.interactions.direct(ada, 'done', resolveUser);
    expect(ada.texts().at(-1)).toMatch(/^Usage: done <step> \[note\]: mark a step done$|\nUsage: done <step> \[note\]: mark a step done$/);
  });

  it('an error reply the platform will not deliver is logged with the refusal it carried', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    ada.reply = async () => {
      throw new Error('response_url expired');
    };
    await h.interactions.command(CONVERSATION, ada, 'done 9z', resolveUser);
    expect(h.logs('could not send the error reply')).toMatchObject([{ level: 'warn', command: 'done', user: ADA, err: { message: 'response_url expired' } }]);
  });
});

describe('the scheduled check run (before a digest)', () => {
  it('verifies and updates the card without "checking…" or a report; an owner of a step that fails hears it by DM', async () => {
    const ada = h.person(ADA);
    h.person(BRAM, { locale: 'nl' });
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'assign 2a @bram', resolveUser);
    const scheduler = { user: 'system:scheduler', surface: 'teams' as const };
    await h.interactions.checks!.runScheduled((await h.service.get(ROLLOUT))!, scheduler);
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('verified');
    expect(h.platform.updates.at(-1)).toMatchObject({ checking: false });
    expect(h.platform.updates.at(-1)!.view.readiness.complete).toBeGreaterThan(0);
    expect(h.platform.reports).toEqual([]);
    expect(await counter(h.metrics.checks, { step: '2a', status: 'pass' })).toBe(1);

    const org = readyOrg(NOW);
    bw.load({ ...org, policies: org.policies.map((p) => (p.type === 0 ? policy(0, false) : p)) });
    await h.interactions.checks!.runScheduled((await h.service.get(ROLLOUT))!, scheduler);
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('failing');
    expect(h.platform.dms.map((d) => d.user)).toEqual([BRAM]);
    expect(await counter(h.metrics.checks, { step: '2a', status: 'fail' })).toBe(1);
    expect(h.platform.reports).toEqual([]);
  });
});

describe('the check lease', () => {
  /** Records the lease calls the run makes on the real store. */
  function watchLeases() {
    const calls: { op: 'acquire' | 'release'; key: string; holder: string; ttl?: number }[] = [];
    const { acquire, release } = h.store.leases;
    h.store.leases.acquire = (key, holder, ttl) => {
      calls.push({ op: 'acquire', key, holder, ttl });
      return acquire.call(h.store.leases, key, holder, ttl);
    };
    h.store.leases.release = (key, holder) => {
      calls.push({ op: 'release', key, holder });
      return release.call(h.store.leases, key, holder);
    };
    return calls;
  }

  it('is renewed every third of its time by the same holder while the run lasts, and released at its end', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const calls = watchLeases();
    bw.fault({ method: 'GET', path: '/public/members', kind: 'slow', delayMs: 300, times: 1 });
    const ada = h.person(ADA);
    const run = h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    // The run holds its lease and renews it on a timer; the member list it now waits for is slow.
    await bw.arrived('GET', '/public/members');
    vi.advanceTimersByTime(CHECK_LEASE_MS / 3 - 1);
    expect(calls).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(calls).toHaveLength(2);
    vi.advanceTimersByTime(CHECK_LEASE_MS / 3);
    expect(calls).toHaveLength(3);
    await run;
    const holder = calls[0]!.holder;
    expect(calls).toEqual([
      { op: 'acquire', key: `check:${ROLLOUT}`, holder, ttl: CHECK_LEASE_MS },
      { op: 'acquire', key: `check:${ROLLOUT}`, holder, ttl: CHECK_LEASE_MS },
      { op: 'acquire', key: `check:${ROLLOUT}`, holder, ttl: CHECK_LEASE_MS },
      { op: 'release', key: `check:${ROLLOUT}`, holder },
    ]);
    // No renewal after the run.
    vi.advanceTimersByTime(CHECK_LEASE_MS);
    expect(calls).toHaveLength(4);
    // Free for the next run.
    expect(await h.store.leases.acquire(`check:${ROLLOUT}`, 'other-replica', CHECK_LEASE_MS)).toBe(true);
  });

  it('a renewal or release the store refuses is logged; the run still reports', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { acquire } = h.store.leases;
    let acquires = 0;
    h.store.leases.acquire = (key, holder, ttl) =>
      ++acquires > 1 ? Promise.reject(new Error('store hiccup')) : acquire.call(h.store.leases, key, holder, ttl);
    h.store.leases.release = () => Promise.reject(new Error('store hiccup'));
    bw.fault({ method: 'GET', path: '/public/members', kind: 'slow', delayMs: 200, times: 1 });
    const run = h.interactions.command(CONVERSATION, h.person(ADA), 'check', resolveUser);
    await bw.arrived('GET', '/public/members');
    vi.advanceTimersByTime(CHECK_LEASE_MS / 3);
    await run;
    expect(h.platform.reports).toHaveLength(1);
    expect(h.logs('could not renew the check lease')).toMatchObject([{ level: 'warn', rolloutId: ROLLOUT, err: { message: 'store hiccup' } }]);
    expect(h.logs('could not release the check lease')).toMatchObject([{ level: 'warn', rolloutId: ROLLOUT, err: { message: 'store hiccup' } }]);
  });
});

describe('best-effort steps that fail are logged, the request still succeeds', () => {
  it('"checking…" the platform refuses: logged at info, the run goes ahead and reports', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    h.platform.updateFails = 'refused';
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    expect(h.platform.reports).toHaveLength(1);
    expect(h.logs('could not show checking… on the card')).toMatchObject([{ level: 'info', err: { message: 'platform outage' } }]);
    expect(h.logs('change saved, card not updated')).toMatchObject([{ level: 'warn', rolloutId: ROLLOUT }]);
  });

  it('a failed run whose card cannot be restored: logged, and the requester still hears why the run failed', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    bw.fault({ method: 'POST', path: '/connect/token', kind: 'invalid-client' });
    const update = h.platform.cards.update;
    let calls = 0;
    h.platform.cards.update = async (...args) => {
      // "checking…" shows; restoring the card afterwards fails.
      if (++calls > 1) throw new Error('platform outage');
      return update(...args);
    };
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    expect(ada.texts().at(-1)).toContain('The check could not run, so no step changed.');
    expect(h.logs('could not restore the card after a failed run')).toMatchObject([{ level: 'info', err: { message: 'platform outage' } }]);
  });

  it('a drift DM that fails: logged at warn with the step and rollout, the other owners still hear', async () => {
    const ada = h.person(ADA);
    h.person(BRAM);
    await h.interactions.command(CONVERSATION, ada, 'assign 2a @bram', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'assign 2b @ada', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    const send = h.platform.notifier.send;
    h.platform.notifier.send = async (user, message) => {
      if (user === BRAM) throw new Error('dm refused');
      return send(user, message);
    };
    const org = readyOrg(NOW);
    // 2a (two-step login) and 2b (account recovery: its policy, type 8) both start failing.
    bw.load({ ...org, policies: org.policies.map((p) => (p.type === 0 || p.type === 8 ? policy(p.type, false) : p)) });
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    const state = await h.service.get(ROLLOUT);
    expect([state?.steps['2a']?.state, state?.steps['2b']?.state]).toEqual(['failing', 'failing']);
    expect(h.platform.dms.map((d) => d.user)).toEqual([ADA]);
    expect(h.logs('could not tell the owner about a failing check')).toMatchObject([
      { level: 'warn', stepId: '2a', rolloutId: ROLLOUT, err: { message: 'dm refused' } },
    ]);
  });

  it('the previous card that cannot be retired: logged at info, the new card stands', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    h.platform.cards.retire = async () => {
      throw new Error('message deleted');
    };
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    expect((await h.service.get(ROLLOUT))?.card).toEqual(h.platform.posts[1]!.ref);
    expect(h.logs('could not retire the previous card')).toMatchObject([{ level: 'info', rolloutId: ROLLOUT, err: { message: 'message deleted' } }]);
  });
});
