import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DIGEST_POST_ALLOWANCE_SECONDS } from '../../src/config/schema';
import { openStore } from '../../src/store';
import { FakeBitwardenServer } from '../fakes/bitwarden-server';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { readyOrg } from '../fixtures/bitwarden';
import { FAKE_BOT_TOKEN, FAKE_CHANNEL_ID, FAKE_SIGNING_SECRET } from '../helpers/slack-requests';
import { buildApp, type ChildApp, killChildren, startChildApp } from './child-app';
import { ROLLOUT, seedDueDigest } from './seed';
import { postgresServer, redisServer, type TestServer } from './servers';

/**
 * Issue 11 §4: three real bwprep processes on one Redis, then on one PostgreSQL (each started by this test
 * on its own port). A rollout's digest is due; the replica that takes the digest lease is held in the checks
 * it runs before posting (the fake Bitwarden holds its members request open) and is SIGKILLed there, before
 * its claim and its post. Read from the store, not guessed: the lease's holder names the process id.
 *
 * What the design promises (ARCHITECTURE.md, "Digest, reminders, scheduler"): the lease keeps the others off
 * until it expires; then the next tick of another replica takes it, runs the checks, claims the slot and posts
 * — once — at most lease + one tick after the dead replica took the lease, plus that replica's checks and
 * post. The bound is asserted as "it happened before a timeout derived from the settings", never as a speed.
 */
/** Seconds, as the operator sets them. The lease is the smallest the config accepts for this check timeout. */
const INTERVAL_S = 1;
const CHECK_TIMEOUT_S = 10;
const LEASE_S = CHECK_TIMEOUT_S + DIGEST_POST_ALLOWANCE_SECONDS;
/** The stated bound (README → Operations), from the kill: lease + one tick + the new holder's checks and post. */
const FAILOVER_BOUND_MS = (LEASE_S + INTERVAL_S + CHECK_TIMEOUT_S + DIGEST_POST_ALLOWANCE_SECONDS) * 1000;
/** Ticks every surviving replica must finish after the post before the test counts posts for the last time. */
const FURTHER_TICKS = 5;

/** Reads who holds a lease, straight from the backend (the LeaseStore port only acquires and releases). */
type LeaseReader = { holder(key: string): Promise<string | undefined>; close(): Promise<void> };

const backends: [string, (dir: string) => Promise<TestServer>, (s: TestServer) => string, (s: TestServer) => LeaseReader][] = [
  [
    'Redis',
    redisServer,
    (s) => s.url('/0?prefix=lf:'),
    (s) => {
      const redis = new Redis({ host: '127.0.0.1', port: s.port, lazyConnect: false });
      return { holder: async (key) => (await redis.get(`lf:lease:${key}`)) ?? undefined, close: async () => void (await redis.quit()) };
    },
  ],
  [
    'PostgreSQL',
    postgresServer,
    (s) => s.url('?schema=lf'),
    (s) => {
      const pool = new Pool({ connectionString: s.url(), max: 1 });
      return {
        holder: async (key) =>
          (
            await pool.query<{ holder: string }>(
              'SELECT holder FROM "lf".bwprep_leases WHERE key = $1 AND expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint',
              [key],
            )
          ).rows[0]?.holder,
        close: () => pool.end(),
      };
    },
  ],
];

let dir: string;
let mainJs: string;
let slack: FakeSlackApi;
let bw: FakeBitwardenServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bwprep-failover-'));
  chmodSync(dir, 0o755); // the postgres OS user must reach its cluster directory
  mainJs = buildApp(path.join(dir, 'build'));
  slack = await startFakeSlackApi();
  bw = await new FakeBitwardenServer().start();
}, 60_000);
afterAll(async () => {
  await slack?.close();
  await bw?.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  killChildren();
});

/** A digest post: its header block reads "Daily readiness digest · <date>". */
const isDigest = (args: Record<string, unknown>) => /Daily readiness digest/.test(JSON.stringify(args.blocks ?? ''));
const digestPosts = () => slack.calls('chat.postMessage').filter((c) => isDigest(c.args));
/** Completed ticks a replica has logged (`scheduler tick done`, debug). */
const ticks = (app: ChildApp) =>
  app
    .logs()
    .split('\n')
    .filter((l) => l.includes('"msg":"scheduler tick done"'));

/** Switches the digest on: the next tick of whichever replica comes first takes its lease. */
async function enableDigest(storeUrl: string): Promise<void> {
  const store = await openStore(storeUrl);
  try {
    await store.rollouts.update(ROLLOUT, (r) => {
      r.settings = { ...r.settings, digestEnabled: true };
      return { rollout: r, audit: [] };
    });
  } finally {
    await store.close();
  }
}

describe.each(backends)('three bwprep processes on one %s: the digest lease holder is SIGKILLed', (name, startServer, storeUrl, leaseReader) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(path.join(dir, `server-${name}`));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it(
    'another replica posts that digest exactly once within lease + one tick (+ its checks and post); later ticks post nothing more',
    async () => {
      slack.reset();
      const org = readyOrg(new Date());
      bw.load(org);
      const url = storeUrl(server);
      const slot = await seedDueDigest(url, { enabled: false }); // off until every replica ticks
      const leaseKey = `digest:${ROLLOUT}:${slot}`;
      const env = {
        SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
        SLACK_SIGNING_SECRET: FAKE_SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        BW_API_URL: bw.url,
        BW_IDENTITY_URL: `${bw.url}/identity`,
        BW_CLIENT_ID: bw.clientId,
        BW_CLIENT_SECRET: org.clientSecret,
        BWPREP_STORE_URL: url,
        BWPREP_LOCALE: 'en',
        BWPREP_SCHEDULER_INTERVAL_SECONDS: String(INTERVAL_S),
        BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS: String(CHECK_TIMEOUT_S),
        BWPREP_DIGEST_LEASE_SECONDS: String(LEASE_S),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
      };

      // Whoever takes the lease hangs in its checks: the fake Bitwarden holds the members list open.
      bw.fault({ path: '/public/members', kind: 'slow', delayMs: 10 * 60_000 });
      const replicas: ChildApp[] = [];
      for (let i = 0; i < 3; i++) replicas.push(await startChildApp(mainJs, dir, env));
      // All three are up and ticking; the digest becomes due for them at once. (The holder must be caught in its
      // checks within CHECK_TIMEOUT_S, and within the Bitwarden client's own 10 s request timeout: it is, by an
      // event, not by a start-up race.)
      await vi.waitFor(() => replicas.forEach((r) => expect(ticks(r).length).toBeGreaterThan(0)), { timeout: 15_000, interval: 20 });
      await enableDigest(url);
      await vi.waitFor(() => expect(bw.count('GET', '/public/members')).toBeGreaterThan(0), { timeout: 30_000, interval: 20 });

      // Which replica holds the lease: the store says (holder = <host>:<pid>:<random>).
      const reader = leaseReader(server);
      let holder: string | undefined;
      try {
        holder = await reader.holder(leaseKey);
      } finally {
        await reader.close();
      }
      expect(holder).toBeDefined();
      const victim = replicas.find((r) => holder!.split(':').at(-2) === String(r.process.pid));
      expect(victim, `lease holder ${holder}`).toBeDefined();
      expect(victim!.logs()).toContain(`"holder":"${holder}"`); // its own log says it took that lease
      expect(victim!.logs()).toContain('"msg":"digest lease taken"');
      expect(digestPosts()).toEqual([]); // held in the checks: nothing posted

      victim!.process.kill('SIGKILL');
      expect(await victim!.exited).toEqual({ code: null, signal: 'SIGKILL' });
      bw.clearFaults(); // the next holder's checks get their answers
      // It died before its claim (the others cannot claim while its lease lasts): the slot is still free.
      const before = await openStore(url);
      try {
        expect((await before.rollouts.get(ROLLOUT))!.digest.lastSlot).toBeUndefined();
      } finally {
        await before.close();
      }
      const survivors = replicas.filter((r) => r !== victim);

      // Within the bound, one of the others posts it.
      const post = await slack.waitFor('chat.postMessage', (c) => isDigest(c.args), FAILOVER_BOUND_MS);
      expect(post.args.channel).toBe(FAKE_CHANNEL_ID);
      // The poster logs it once the post is recorded (right after the fake answered).
      const posters = () => survivors.filter((r) => r.logs().includes('"msg":"digest posted"'));
      await vi.waitFor(() => expect(posters()).toHaveLength(1), { timeout: 15_000, interval: 50 });
      // Until the lease expired, the survivors were kept off it (the lease, not luck, decided who posts).
      expect(survivors.some((r) => ticks(r).some((l) => l.includes('"leased":1')))).toBe(true);

      // The survivors keep ticking; the dead holder's slot stays posted once.
      const seen = survivors.map((r) => ticks(r).length);
      await vi.waitFor(() => survivors.forEach((r, i) => expect(ticks(r).length).toBeGreaterThanOrEqual(seen[i]! + FURTHER_TICKS)), {
        timeout: (FURTHER_TICKS + 2) * INTERVAL_S * 1000 + 30_000,
        interval: 50,
      });
      expect(digestPosts()).toHaveLength(1);

      for (const r of survivors) r.process.kill('SIGTERM');
      for (const r of survivors) expect(await r.exited).toEqual({ code: 0, signal: null });
      for (const r of survivors) expect(r.logs()).not.toMatch(/"level":"error"/);

      // State and audit agree with the one post: the slot is recorded as posted, on time, with fresh checks.
      const store = await openStore(url);
      try {
        const r = (await store.rollouts.get(ROLLOUT))!;
        expect(r.digest.lastSlot).toBe(slot);
        expect(r.digest.lastPostedAt).toBeDefined();
        const posted = (await store.audit.list(ROLLOUT)).filter((a) => a.action === 'digest.posted');
        expect(posted).toHaveLength(1);
        expect(posted[0]).toMatchObject({
          actor: 'bwprep:scheduler',
          surface: 'scheduler',
          to: slot,
          at: r.digest.lastPostedAt,
          detail: { slot, late: false, preview: false, checksFailed: false },
        });
        // The poster let go of the lease once the post was recorded.
        expect(await store.leases.acquire(leaseKey, 'another-replica', 60_000)).toBe(true);
      } finally {
        await store.close();
      }
    },
    FAILOVER_BOUND_MS + 120_000,
  );
});
