import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { t } from '../../src/i18n';
import type { Store } from '../../src/core/ports';
import { openStore } from '../../src/store';
import { FakeBitwardenServer } from '../fakes/bitwarden-server';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { readyOrg } from '../fixtures/bitwarden';
import { FAKE_CHANNEL_ID, FAKE_SIGNING_SECRET, FAKE_USERS, sendToApp, slashCommand } from '../helpers/slack-requests';
import { buildApp, type ChildApp, FAST_RESTART, killChildren, slackChildEnv, startChildApp } from './child-app';
import { ROLLOUT, seedDueDigest } from './seed';

/**
 * The real bwprep in a child process (issue 11 §4): SIGKILL in the middle of posting a digest (exactly once
 * on Slack: the restart reconciles), and SIGTERM with a digest and a command in flight. The fake Slack API runs in this process and holds chosen calls
 * open, so "in the middle" is an event, not a sleep.
 */
let dir: string;
let mainJs: string;
let slack: FakeSlackApi;
let storeFile: string;
let slot: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bwprep-proc-'));
  mainJs = buildApp(path.join(dir, 'build'));
  slack = await startFakeSlackApi();
}, 60_000);
afterAll(async () => {
  await slack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => slackChildEnv(slack.apiUrl, storeFile, { LOG_LEVEL: 'debug' });

/** A rollout created yesterday whose digest (UTC, every day) was due a minute ago: the child's first tick posts it. */
async function seed(): Promise<void> {
  storeFile = path.join(mkdtempSync(path.join(dir, 'run-')), 'bwprep.sqlite');
  slot = await seedDueDigest(`sqlite://${storeFile}`, { enabled: true });
}

/** Holds every chat.postMessage at the fake until released; `arrived(n)` resolves when n have arrived. */
function holdPosts() {
  const waiting: (() => void)[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let count = 0;
  slack.override('chat.postMessage', async (args) => {
    count++;
    for (const w of waiting.splice(0)) w();
    await gate;
    return { ok: true, channel: args.channel, ts: `${Math.floor(Date.now() / 1000)}.${String(count).padStart(6, '0')}`, message: { text: args.text } };
  });
  return {
    arrived: (n: number) => vi.waitFor(() => expect(count).toBeGreaterThanOrEqual(n), { timeout: 15_000, interval: 20 }),
    count: () => count,
    release: () => release(),
  };
}

/** A digest post: its header block reads "Daily readiness digest · <date>". */
const isDigest = (args: Record<string, unknown>) => /Daily readiness digest/.test(JSON.stringify(args.blocks ?? ''));

async function openSeeded(): Promise<Store> {
  return openStore(`sqlite://${storeFile}`);
}

beforeEach(() => {
  slack.reset();
});
afterEach(() => {
  killChildren();
});

/** For the restart after a SIGKILL (child-app.ts FAST_RESTART). */
const INTERVAL_S = FAST_RESTART.intervalS;
const fastEnv = () => ({ ...env(), ...FAST_RESTART.env });

/** The digest messages in the rollout's channel, as Slack keeps them (with their metadata). */
const digestMessages = () => slack.messages(FAKE_CHANNEL_ID).filter((m) => (m.metadata as { event_type?: string } | undefined)?.event_type === 'bwprep_digest');
const digestPosts = () => slack.calls('chat.postMessage').filter((c) => isDigest(c.args));

describe('SIGKILL during a digest (exactly once on Slack)', () => {
  it('killed with the post in flight: after the restart the digest is in the channel once and recorded as posted', async () => {
    await seed();
    // The digest post reaches Slack (it is posted there) but its answer is held: the process dies waiting for it.
    const hold = slack.hold('chat.postMessage', isDigest);
    const first = await startChildApp(mainJs, dir, fastEnv());
    await hold.arrived(1);
    first.process.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    hold.release();
    expect(digestMessages()).toHaveLength(1);
    const posted = digestMessages()[0]!;
    expect(posted.metadata).toEqual({ event_type: 'bwprep_digest', event_payload: { rollout: ROLLOUT, slot } });

    let store = await openSeeded();
    const claimed = (await store.rollouts.get(ROLLOUT))!;
    expect(claimed.digest.lastSlot).toBe(slot); // claimed before posting…
    expect(claimed.digest.lastPostedAt).toBeUndefined(); // …never recorded as posted
    await store.close();

    // A new process on the same store. The dead one's lease keeps it off the slot until it lapses
    // (FAST_RESTART.leaseS after it was taken); then its next tick finds the digest in the channel and records it.
    const second = await startChildApp(mainJs, dir, fastEnv());
    const recovered = '"msg":"digest found posted but not recorded; recorded now, not posted again"';
    await vi.waitFor(() => expect(second.logs()).toContain(recovered), { timeout: FAST_RESTART.recoveryMs, interval: 100 });
    // Until then the lease, not luck, kept it off: its ticks skipped the slot as another replica's.
    expect(second.logs()).toMatch(/"msg":"scheduler tick done"[^\n]*"leased":1|"leased":1[^\n]*"msg":"scheduler tick done"/);
    second.process.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });

    // What a user sees: one digest in the channel; no second post ever arrived.
    expect(digestMessages()).toHaveLength(1);
    expect(digestPosts()).toHaveLength(1);
    expect(slack.calls('conversations.history').length).toBeGreaterThan(0);
    store = await openSeeded();
    const after = (await store.rollouts.get(ROLLOUT))!;
    expect(after.digest.lastSlot).toBe(slot);
    expect(after.digest.lastPostedAt).toBeDefined();
    const audit = (await store.audit.list(ROLLOUT)).filter((a) => a.action === 'digest.posted');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toMatchObject({ recovered: true, slot, ref: { platform: 'slack', channel: FAKE_CHANNEL_ID, ts: posted.ts } });
    await store.close();
    expect(second.logs()).not.toMatch(/"level":"error"/);
  }, 150_000);

  it('killed after the claim, before the post reached Slack: after the restart the digest is posted once and recorded', async () => {
    await seed();
    // What such a process leaves behind: the slot claimed, nothing recorded, nothing in the channel, no lease.
    let store = await openSeeded();
    await store.rollouts.update(ROLLOUT, (r) => {
      r.digest = { ...r.digest, lastSlot: slot };
      return { rollout: r, audit: [] };
    });
    await store.close();

    const app = await startChildApp(mainJs, dir, fastEnv());
    await slack.waitFor('chat.postMessage', (c) => isDigest(c.args), 15_000);
    await vi.waitFor(() => expect(app.logs()).toContain('"msg":"digest posted"'), { timeout: 15_000, interval: 50 });
    // A few more ticks: none posts again.
    const ticks = () =>
      app
        .logs()
        .split('\n')
        .filter((l) => l.includes('"msg":"scheduler tick done"')).length;
    const seen = ticks();
    await vi.waitFor(() => expect(ticks()).toBeGreaterThanOrEqual(seen + 3), { timeout: 3 * INTERVAL_S * 1000 + 15_000, interval: 50 });
    app.process.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });

    expect(digestPosts()).toHaveLength(1);
    expect(digestMessages()).toHaveLength(1);
    store = await openSeeded();
    const after = (await store.rollouts.get(ROLLOUT))!;
    expect(after.digest.lastSlot).toBe(slot);
    expect(after.digest.lastPostedAt).toBeDefined();
    const audit = (await store.audit.list(ROLLOUT)).filter((a) => a.action === 'digest.posted');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toMatchObject({ slot, ref: { ts: digestMessages()[0]!.ts } });
    expect(audit[0]!.detail?.recovered).toBeUndefined();
    await store.close();
    expect(app.logs()).toContain('"msg":"digest slot claimed but never posted; posting it now"');
    expect(app.logs()).not.toMatch(/"level":"error"/);
  }, 90_000);
});

describe('SIGTERM', () => {
  it('stops accepting, finishes the digest and the command in flight, releases its lease, exits 0', async () => {
    await seed();
    const hold = holdPosts();
    const app: ChildApp = await startChildApp(mainJs, dir, env());
    await hold.arrived(1); // the digest post
    const res = await sendToApp(app.url, FAKE_SIGNING_SECRET, slashCommand({ text: 'status', user_id: FAKE_USERS.bob, response_url: slack.responseUrl('st') }));
    expect(res.status).toBe(200);
    await hold.arrived(2); // the card post of the command

    app.process.kill('SIGTERM');
    // Stops accepting: new connections are refused while the work in flight is still held.
    await vi.waitFor(
      async () =>
        expect(
          await fetch(`${app.url}/readyz`).then(
            () => 'open',
            () => 'refused',
          ),
        ).toBe('refused'),
      { timeout: 5_000, interval: 50 },
    );
    expect(app.process.exitCode).toBeNull();

    hold.release();
    expect(await app.exited).toEqual({ code: 0, signal: null }); // within the 10 s bound, else main exits 1
    slack.override('chat.postMessage', undefined);

    const store = await openSeeded();
    const r = (await store.rollouts.get(ROLLOUT))!;
    expect(r.digest.lastSlot).toBe(slot);
    expect(r.digest.lastPostedAt).toBeDefined(); // the digest in flight finished and was recorded
    expect(r.card?.ts).toBeDefined(); // the command in flight finished: its card is recorded
    expect((await store.audit.list(ROLLOUT)).filter((a) => a.action === 'digest.posted')).toHaveLength(1);
    // Its digest lease is free for another replica.
    expect(await store.leases.acquire(`digest:${ROLLOUT}:${slot}`, 'another-replica', 60_000)).toBe(true);
    await store.close();
    expect(app.logs()).not.toMatch(/"level":"error"|after the drain timeout/);
  }, 90_000);
});

describe('SIGKILL during a check run', () => {
  it('after a restart no step stays "checking…": the dead run\'s lease lapses within its bound and a new check runs', async () => {
    await seed();
    const bw = await new FakeBitwardenServer().start();
    try {
      const org = readyOrg(new Date());
      bw.load(org);
      const withBw = { ...env(), BW_API_URL: bw.url, BW_IDENTITY_URL: `${bw.url}/identity`, BW_CLIENT_ID: bw.clientId, BW_CLIENT_SECRET: org.clientSecret };
      const first = await startChildApp(mainJs, dir, withBw);
      await slack.waitFor('chat.postMessage', (c) => isDigest(c.args), 15_000); // the seeded digest, out of the way
      const st = await sendToApp(
        first.url,
        FAKE_SIGNING_SECRET,
        slashCommand({ text: 'status', user_id: FAKE_USERS.alice, response_url: slack.responseUrl('k-status') }),
      );
      expect(st.status).toBe(200);
      const card = await slack.waitFor('chat.postMessage', (c) => !isDigest(c.args), 15_000);
      // The members list hangs: the run is in the middle when the process dies.
      bw.fault({ path: '/public/members', kind: 'slow', delayMs: 120_000 });
      bw.resetLog(); // the digest's own check run before it was posted also read the members
      await sendToApp(first.url, FAKE_SIGNING_SECRET, slashCommand({ text: 'check', user_id: FAKE_USERS.alice, response_url: slack.responseUrl('k-check') }));
      await vi.waitFor(() => expect(bw.count('GET', '/public/members')).toBeGreaterThan(0), { timeout: 15_000, interval: 50 });
      const cardTs = String(card.response.ts);
      // Shown before the run (an update of that card saying so; a later refresh by another thread may redraw it).
      await slack.waitFor('chat.update', (c) => c.args.ts === cardTs && JSON.stringify(c.args.blocks).includes('Checking against Bitwarden'), 15_000);
      first.process.kill('SIGKILL');
      await first.exited;
      bw.clearFaults();

      const second = await startChildApp(mainJs, dir, withBw);
      try {
        // Until the dead run's lease lapses (CHECK_LEASE_MS, 15 s) a new check is told one is already running;
        // then it runs and posts its report in the channel.
        const reports = () => slack.calls('chat.postMessage').filter((c) => String(c.args.text).includes('Verification against Bitwarden')).length;
        let attempt = 0;
        await vi.waitFor(
          async () => {
            const id = `k-again-${++attempt}`;
            await sendToApp(second.url, FAKE_SIGNING_SECRET, slashCommand({ text: 'check', user_id: FAKE_USERS.alice, response_url: slack.responseUrl(id) }));
            await vi.waitFor(() => expect(slack.responses(id).length + reports()).toBeGreaterThan(0), { timeout: 20_000, interval: 50 });
            expect(reports()).toBeGreaterThan(0);
          },
          { timeout: 60_000, interval: 1_000 },
        );
        const told = slack
          .responses()
          .map((r) => String(r.body.text))
          .filter((x) => x.includes(t('nl', 'check_report.in_progress')));
        expect(told.length).toBeGreaterThan(0); // it was blocked for a while: the lease, not luck
        await vi.waitFor(() => expect(JSON.stringify(slack.message(FAKE_CHANNEL_ID, cardTs)?.blocks)).not.toContain('Checking against Bitwarden'), {
          timeout: 10_000,
        });
      } finally {
        second.process.kill('SIGTERM');
        expect((await second.exited).code).toBe(0);
      }
    } finally {
      await bw.stop();
    }
  }, 120_000);
});
