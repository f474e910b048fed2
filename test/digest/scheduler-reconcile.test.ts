import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationRef, MessageRef, Rollout } from '../../src/core/checklist/model';
import { ChecklistService } from '../../src/core/checklist/service';
import type { DigestLookup, PostedDigest } from '../../src/core/digest/ports';
import type { Store } from '../../src/core/ports';
import type { ConversationPublisher } from '../../src/interactions/ports';
import { PlatformError } from '../../src/interactions/errors';
import { Platforms } from '../../src/interactions/platforms';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler';
import { openStore } from '../../src/store';
import type { DigestView } from '../../src/views/digest';
import { FakeClock, makeRollout, TEMPLATE } from './fixtures';

/**
 * Reconciliation of a digest slot claimed but never recorded (the process died between the claim and the
 * record; src/scheduler/scheduler.ts, "Crash windows"): a platform that can look (findDigest) records a
 * digest that went out and posts one that did not; one that cannot (no findDigest, a missing scope) keeps
 * the at-most-once behaviour. Fake platform, real SQLite store.
 */

/** Wednesday 25 November 2026, 09:00 Amsterdam = 08:00Z: the claimed slot. */
const SLOT = '2026-11-25T09:00';
const SLOT_AT = '2026-11-25T08:00:00.000Z';
const CONVERSATION: ConversationRef = { platform: 'slack', workspace: 'T0TEST', channel: 'C0ROLLOUT' };

/** A publisher double: records posts; `lookup` decides what findDigest answers (absent: no findDigest at all). */
class FakePublisher {
  posts: { conversation: ConversationRef; view: DigestView }[] = [];
  lookups: { conversation: ConversationRef; digest: { rolloutId: string; slot: string }; since: Date }[] = [];
  failNext = 0;
  /** What a failing post throws (default: a plain Error). */
  failWith: () => Error = () => new Error('internal_error');
  constructor(public lookup?: (conversation: ConversationRef) => Promise<DigestLookup>) {}
  port(): ConversationPublisher {
    return {
      postDigest: async (conversation, view): Promise<PostedDigest> => {
        if (this.failNext > 0) {
          this.failNext--;
          throw this.failWith();
        }
        this.posts.push({ conversation, view });
        const ref: MessageRef = { platform: 'slack', channel: conversation.channel, ts: `${this.posts.length}.000100` };
        return { ref };
      },
      postCheckReport: async () => undefined,
      ...(this.lookup
        ? {
            findDigest: async (conversation: ConversationRef, digest: { rolloutId: string; slot: string }, since: Date) => {
              this.lookups.push({ conversation, digest, since });
              return this.lookup!(conversation);
            },
          }
        : {}),
    };
  }
}

let dir: string;
let stores: Store[];

async function open(): Promise<Store> {
  const s = await openStore(`sqlite://${join(dir, 'bwprep.sqlite')}`);
  stores.push(s);
  return s;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bwprep-reconcile-'));
  stores = [];
});
afterEach(async () => {
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const DEFAULTS = { locale: 'nl' as const, hosting: 'cloud-eu' as const, timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] };

function scheduler(store: Store, clock: FakeClock, pub: FakePublisher, extra: Partial<SchedulerOptions> = {}): Scheduler {
  const service = new ChecklistService({ store: store.rollouts, template: TEMPLATE, clock, defaults: DEFAULTS, globalAdmins: [] });
  const platforms = new Platforms().register({
    id: 'slack',
    publisher: pub.port(),
    directory: { profile: async (user) => ({ user, exists: true, platformAdmin: false }) },
    cards: { post: async () => ({ platform: 'slack', channel: 'C', ts: '1' }), update: async () => undefined, retire: async () => undefined },
  });
  return new Scheduler({ store, service, template: TEMPLATE, clock, platforms, reminders: false, ...extra });
}

/** As a process killed between the claim and the record leaves it: Wednesday's slot claimed, Tuesday's post the last recorded. */
async function seedClaimed(store: Store): Promise<Rollout> {
  const r = makeRollout();
  r.digest = { lastSlot: SLOT, lastPostedAt: '2026-11-24T08:00:03.000Z', lastStates: {}, history: [] };
  return store.rollouts.create(r, []);
}

const digestAudit = async (store: Store, id: string) => (await store.audit.list(id)).filter((a) => a.action === 'digest.posted');

function warnings() {
  const seen: string[] = [];
  return { seen, logger: { debug() {}, info() {}, error() {}, warn: (_o: object, msg?: string) => void seen.push(msg ?? '') } };
}

describe('Scheduler: a slot claimed but not recorded (reconciliation)', () => {
  it('the platform finds the digest: recorded as posted (recovered, with its ref), nothing posted again', async () => {
    const store = await open();
    const r = await seedClaimed(store);
    const ref: MessageRef = { platform: 'slack', channel: CONVERSATION.channel, ts: '1764057601.000200' };
    const pub = new FakePublisher(async () => ({ status: 'found', digest: { ref, permalink: 'https://example.invalid/p1' } }));
    const clock = new FakeClock('2026-11-25T08:20:00Z');
    const s = scheduler(store, clock, pub);

    const out = (await s.tick()).digests[0]!;
    expect(out).toMatchObject({ slot: SLOT, posted: false, recovered: true, result: { ref } });
    expect(pub.posts).toHaveLength(0);
    expect(pub.lookups).toHaveLength(1);
    expect(pub.lookups[0]!.digest).toEqual({ rolloutId: r.id, slot: SLOT });
    expect(pub.lookups[0]!.conversation).toEqual(r.conversation);
    expect(pub.lookups[0]!.since.getTime()).toBeLessThanOrEqual(Date.parse(SLOT_AT)); // from before the slot

    const after = (await store.rollouts.get(r.id))!;
    expect(after.digest.lastSlot).toBe(SLOT);
    expect(after.digest.lastPostedAt).toBe('2026-11-25T08:20:00.000Z');
    expect(after.digest.lastStates).toMatchObject({ '1a': 'open' }); // tomorrow's "what changed" compares with now
    const audit = await digestAudit(store, r.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      to: SLOT,
      actor: 'bwprep:scheduler',
      detail: { recovered: true, slot: SLOT, ref, permalink: 'https://example.invalid/p1' },
    });

    // Settled: later ticks neither ask nor post.
    clock.advance(60_000);
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'not_due' });
    expect(pub.lookups).toHaveLength(1);
    expect(pub.posts).toHaveLength(0);
  });

  it('the platform is sure it is not there: posted once (the checks, a late note past the grace period), recorded', async () => {
    const store = await open();
    const r = await seedClaimed(store);
    const pub = new FakePublisher(async () => ({ status: 'absent' }));
    const clock = new FakeClock('2026-11-25T08:40:00Z'); // 40 minutes after the slot
    const s = scheduler(store, clock, pub);

    const out = (await s.tick()).digests[0]!;
    expect(out).toMatchObject({ slot: SLOT, posted: true, late: true });
    expect(out.recovered).toBeUndefined();
    expect(pub.posts).toHaveLength(1);
    expect(pub.posts[0]!.conversation).toEqual(r.conversation);
    expect(pub.posts[0]!.view.model).toMatchObject({ slot: SLOT, late: true, preview: false });
    const audit = await digestAudit(store, r.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toMatchObject({ slot: SLOT, late: true, ref: { ts: '1.000100' } });
    expect(audit[0]!.detail?.recovered).toBeUndefined();
    expect((await store.rollouts.get(r.id))!.digest.lastPostedAt).toBe('2026-11-25T08:40:00.000Z');

    clock.advance(60_000);
    await s.tick();
    expect(pub.posts).toHaveLength(1);
    expect(pub.lookups).toHaveLength(1);
  });

  it('a platform without findDigest (the console, Teams without an app secret): unchanged, at most once — a warning, no post', async () => {
    const store = await open();
    const r = await seedClaimed(store);
    const pub = new FakePublisher(); // no findDigest
    const { seen, logger } = warnings();
    const clock = new FakeClock('2026-11-25T08:20:00Z');
    const s = scheduler(store, clock, pub, { logger, leaseTtlMs: 10 * 60_000 });
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'not_due', posted: false });
    await s.tick();
    expect(pub.posts).toHaveLength(0);
    expect(seen).toEqual(['digest slot claimed but not recorded as posted']);
    const after = (await store.rollouts.get(r.id))!;
    expect(after.digest.lastPostedAt).toBe('2026-11-24T08:00:03.000Z');
    expect(await digestAudit(store, r.id)).toHaveLength(0);
  });

  it('the platform cannot tell (missing scope): a warning, nothing posted, asked once', async () => {
    const store = await open();
    const r = await seedClaimed(store);
    const pub = new FakePublisher(async () => ({ status: 'unknown', reason: 'missing_scope' }));
    const { seen, logger } = warnings();
    const clock = new FakeClock('2026-11-25T08:20:00Z');
    const s = scheduler(store, clock, pub, { logger });
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'unknown', posted: false });
    for (let i = 0; i < 3; i++) {
      clock.advance(60_000);
      await s.tick();
    }
    expect(pub.lookups).toHaveLength(1); // not an error loop
    expect(pub.posts).toHaveLength(0);
    expect(seen).toEqual(['digest slot claimed but not recorded as posted; the platform cannot tell whether it went out, so it is not posted again']);
    expect(await digestAudit(store, r.id)).toHaveLength(0);
    expect((await store.rollouts.get(r.id))!.digest.lastSlot).toBe(SLOT); // the claim stays
  });

  it('a lookup that fails posts nothing and is asked again after the back-off', async () => {
    const store = await open();
    await seedClaimed(store);
    let fail = true;
    const pub = new FakePublisher(async () => {
      if (fail) throw new Error('service_unavailable');
      return { status: 'absent' };
    });
    const clock = new FakeClock('2026-11-25T08:20:00Z');
    const s = scheduler(store, clock, pub, { retryDelayMs: 5 * 60_000 });
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'lookup_failed' });
    clock.advance(60_000);
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'backoff' });
    fail = false;
    clock.advance(5 * 60_000);
    expect((await s.tick()).digests[0]).toMatchObject({ posted: true });
    expect(pub.posts).toHaveLength(1);
    expect(pub.lookups).toHaveLength(2);
  });

  it('a replica that still holds the slot lease is not overtaken: no lookup, no post, until it lets go', async () => {
    const store = await open();
    const r = await seedClaimed(store);
    // Another replica took the lease and is still posting.
    expect(await store.leases.acquire(`digest:${r.id}:${SLOT}`, 'other-replica', 10 * 60_000)).toBe(true);
    const pub = new FakePublisher(async () => ({ status: 'absent' }));
    const clock = new FakeClock('2026-11-25T08:20:00Z');
    const s = scheduler(store, clock, pub);
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'leased', posted: false });
    expect(pub.lookups).toHaveLength(0);
    expect(pub.posts).toHaveLength(0);

    // It recorded its post and released the lease: nothing left to reconcile.
    await store.rollouts.update(r.id, (cur) => {
      cur.digest = { ...cur.digest, lastPostedAt: '2026-11-25T08:20:30.000Z' };
      return { rollout: cur, audit: [] };
    });
    await store.leases.release(`digest:${r.id}:${SLOT}`, 'other-replica');
    clock.advance(60_000);
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'not_due' });
    expect(pub.lookups).toHaveLength(0);
    expect(pub.posts).toHaveLength(0);
  });

  it('a slot given up after maxPostAttempts is not retried by the reconciliation, across a restart', async () => {
    const store = await open();
    const r = makeRollout();
    r.createdAt = '2026-11-20T09:00:00.000Z';
    await store.rollouts.create(r, []);
    const pub = new FakePublisher(async () => ({ status: 'absent' }));
    pub.failNext = 10;
    const clock = new FakeClock('2026-11-25T08:00:00Z');
    const s = scheduler(store, clock, pub, { retryDelayMs: 60_000, maxPostAttempts: 2 });
    for (let i = 0; i < 5; i++) {
      await s.tick();
      clock.advance(2 * 60_000);
    }
    expect(pub.failNext).toBe(8); // two attempts, then given up
    const given = (await store.rollouts.get(r.id))!;
    expect(given.digest).toMatchObject({ lastSlot: SLOT, abandonedSlot: SLOT });
    expect(given.digest.lastPostedAt).toBeUndefined();

    // A new process (no memory of the failures) leaves it alone too.
    const again = scheduler(store, clock, pub, { retryDelayMs: 60_000, maxPostAttempts: 2 });
    for (let i = 0; i < 3; i++) {
      expect((await again.tick()).digests[0]).toMatchObject({ skipped: 'not_due' });
      clock.advance(2 * 60_000);
    }
    expect(pub.lookups).toHaveLength(0);
    expect(pub.failNext).toBe(8);
    expect(pub.posts).toHaveLength(0);

    // The next day's slot is claimed and posted as usual.
    pub.failNext = 0;
    clock.set('2026-11-26T08:00:00Z');
    expect((await again.tick()).digests[0]).toMatchObject({ slot: '2026-11-26T09:00', posted: true });
  });

  it('a claimed slot older than maxLateMs is not reconciled (the next slot reports)', async () => {
    const store = await open();
    await seedClaimed(store);
    const pub = new FakePublisher(async () => ({ status: 'absent' }));
    // Thursday 08:59 Amsterdam: Wednesday's claim is 23:59 old, within the default 24 h; at 09:01 Thursday's slot is due.
    const clock = new FakeClock('2026-11-26T07:59:00Z');
    const s = scheduler(store, clock, pub, { schedule: { maxLateMs: 12 * 3_600_000 } });
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'not_due' });
    expect(pub.lookups).toHaveLength(0);
    clock.set('2026-11-26T08:01:00Z');
    expect((await s.tick()).digests[0]).toMatchObject({ slot: '2026-11-26T09:00', posted: true });
    expect(pub.posts).toHaveLength(1);
    expect(pub.lookups).toHaveLength(0);
  });
});

describe('Scheduler: a posted digest stays posted when the rollout moves west (found by a review)', () => {
  it('after a time zone change the recorded slot is not taken for an unrecorded claim: no lookup, no second post or record', async () => {
    const store = await open();
    const r = await store.rollouts.create(makeRollout(), []);
    // Found, or absent (the message was deleted): either answer would record or post the slot a second time.
    const pub = new FakePublisher(async () => ({ status: 'absent' }));
    const clock = new FakeClock('2026-11-25T08:00:30Z');
    const s = scheduler(store, clock, pub);
    expect((await s.tick()).digests[0]).toMatchObject({ slot: SLOT, posted: true });
    expect((await store.rollouts.get(r.id))!.digest).toMatchObject({ lastSlot: SLOT, postedSlot: SLOT });

    // 09:00 in Los Angeles is 17:00Z: read in the new zone, Wednesday's slot now lies after the recorded post.
    await store.rollouts.update(r.id, (x) => {
      x.settings.timezone = 'America/Los_Angeles';
      return { rollout: x, audit: [] };
    });
    clock.set('2026-11-25T17:05:00Z');
    const out = (await s.tick()).digests[0]!;
    expect(out.posted).toBe(false);
    expect(out.recovered).toBeUndefined();
    expect(pub.lookups).toHaveLength(0);
    expect(pub.posts).toHaveLength(1);
    expect(await digestAudit(store, r.id)).toHaveLength(1);
  });

  it('a state from before postedSlot was recorded is still judged by the time of its post', async () => {
    const store = await open();
    const r = makeRollout();
    // Posted and recorded at 08:00:03Z by an older version: no postedSlot.
    r.digest = { lastSlot: SLOT, lastPostedAt: '2026-11-25T08:00:03.000Z', lastStates: {}, history: [] };
    await store.rollouts.create(r, []);
    const pub = new FakePublisher(async () => ({ status: 'absent' }));
    const s = scheduler(store, new FakeClock('2026-11-25T08:30:00Z'), pub);
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'not_due' });
    expect(pub.lookups).toHaveLength(0);
    expect(pub.posts).toHaveLength(0);
  });
});

describe('Scheduler: a failed digest post, answered or not', () => {
  const unavailable = { key: 'error.slack.unavailable' };

  it('the platform answered with an error (nothing went out): the claim is freed, no lookup, and a later tick posts', async () => {
    const store = await open();
    const r = makeRollout();
    r.createdAt = '2026-11-20T09:00:00.000Z';
    await store.rollouts.create(r, []);
    const pub = new FakePublisher(async () => ({ status: 'found', digest: { ref: { platform: 'slack', channel: 'C', ts: '1.0' } } }));
    pub.failNext = 1;
    pub.failWith = () => new PlatformError('slack', 'internal_error', 'transient', unavailable);
    const clock = new FakeClock('2026-11-25T08:00:30Z');
    const s = scheduler(store, clock, pub, { retryDelayMs: 60_000 });
    expect((await s.tick()).digests[0]).toMatchObject({ slot: SLOT, skipped: 'post_failed' });
    expect((await store.rollouts.get(r.id))!.digest.lastSlot).toBeUndefined();
    clock.advance(2 * 60_000);
    expect((await s.tick()).digests[0]).toMatchObject({ slot: SLOT, posted: true });
    expect(pub.lookups).toHaveLength(0);
    expect(pub.posts).toHaveLength(1);
  });

  it('no answer (uncertain): the claim stays, and after the back-off the conversation is looked at instead of posting again', async () => {
    const store = await open();
    const r = makeRollout();
    r.createdAt = '2026-11-20T09:00:00.000Z';
    await store.rollouts.create(r, []);
    const ref: MessageRef = { platform: 'slack', channel: 'C0ROLLOUT', ts: '1764057601.000300' };
    const pub = new FakePublisher(async () => ({ status: 'found', digest: { ref } }));
    pub.failNext = 1;
    pub.failWith = () => new PlatformError('slack', 'service_unavailable', 'transient', unavailable, { uncertain: true });
    const clock = new FakeClock('2026-11-25T08:00:30Z');
    const s = scheduler(store, clock, pub, { retryDelayMs: 60_000 });
    expect((await s.tick()).digests[0]).toMatchObject({ slot: SLOT, skipped: 'post_failed' });
    expect((await store.rollouts.get(r.id))!.digest.lastSlot).toBe(SLOT);
    clock.advance(2 * 60_000);
    expect((await s.tick()).digests[0]).toMatchObject({ slot: SLOT, recovered: true, posted: false, result: { ref } });
    expect(pub.posts).toHaveLength(0);
    expect(await digestAudit(store, r.id)).toHaveLength(1);
  });
});

describe('Scheduler: a found home digest and its linked conversations', () => {
  /**
   * Two replicas on one store: A's digest post to `slowChannel` is held (in Slack, answer pending) until
   * `answer()`; `held` resolves once it got there. The rollout was posted yesterday, today's slot is due, and
   * it has one linked conversation.
   */
  async function twoReplicas(slow: 'home' | 'link') {
    const store = await open();
    const r = makeRollout();
    const linked: ConversationRef = { platform: 'slack', workspace: 'T0TEST', channel: 'C0LINKED' };
    r.links = [{ conversation: linked, linkedAt: '2026-11-20T09:00:00.000Z', linkedBy: 'slack:UADMIN' }];
    r.digest = { lastSlot: '2026-11-24T09:00', lastPostedAt: '2026-11-24T08:00:03.000Z', lastStates: {}, history: [] };
    await store.rollouts.create(r, []);
    const slowChannel = slow === 'home' ? r.conversation.channel : linked.channel;
    let answer!: () => void;
    const pending = new Promise<void>((resolve) => (answer = resolve));
    let arrived!: () => void;
    const held = new Promise<void>((resolve) => (arrived = resolve));
    const pubA = new FakePublisher(async () => ({ status: 'absent' }));
    const portA = pubA.port();
    const original = portA.postDigest;
    portA.postDigest = async (conversation, view, card, opts) => {
      // A link is held before it is posted (the client still retrying); the home post after (in Slack).
      if (conversation.channel === slowChannel && slow === 'link') {
        arrived();
        await pending;
      }
      const out = await original(conversation, view, card, opts);
      if (conversation.channel === slowChannel && slow === 'home') {
        arrived();
        await pending;
      }
      return out;
    };
    pubA.port = () => portA;
    const clock = new FakeClock('2026-11-25T08:01:00Z');
    const tickA = scheduler(store, clock, pubA, { holder: 'replica-a' }).tick();
    await held;
    // A's lease lapses meanwhile.
    await store.leases.release(`digest:${r.id}:${SLOT}`, 'replica-a');
    const homeRef: MessageRef = { platform: 'slack', channel: r.conversation.channel, ts: '1.000100' };
    const replicaB = (lookup: (c: ConversationRef) => Promise<DigestLookup>) => {
      const pubB = new FakePublisher(lookup);
      return { pubB, tick: () => scheduler(store, clock, pubB, { holder: 'replica-b' }).tick() };
    };
    return { store, r, linked, pubA, tickA, answer, homeRef, replicaB };
  }

  it('linked posts come after the record: a replica taking over while they are still retrying finds the slot recorded, and posts nothing (found by a review)', async () => {
    const { store, r, linked, pubA, tickA, answer, homeRef, replicaB } = await twoReplicas('link');
    const b = replicaB(async (c) => (c.channel === linked.channel ? { status: 'absent' } : { status: 'found', digest: { ref: homeRef } }));
    await b.tick();
    answer();
    expect((await tickA).digests[0]).toMatchObject({ slot: SLOT, posted: true });
    expect(b.pubB.posts).toEqual([]);
    expect(pubA.posts.map((p) => p.conversation.channel)).toEqual([r.conversation.channel, linked.channel]);
    expect(await digestAudit(store, r.id)).toHaveLength(1);
  });

  it('a home post answered after its lease lapsed, when another replica recorded the slot meanwhile: this replica posts no links (found by a review)', async () => {
    const { store, r, linked, pubA, tickA, answer, homeRef, replicaB } = await twoReplicas('home');
    const b = replicaB(async (c) => (c.channel === linked.channel ? { status: 'absent' } : { status: 'found', digest: { ref: homeRef } }));
    expect((await b.tick()).digests[0]).toMatchObject({ recovered: true });
    answer();
    await tickA;
    expect(b.pubB.posts.map((p) => p.conversation.channel)).toEqual([linked.channel]);
    expect(pubA.posts.map((p) => p.conversation.channel)).toEqual([r.conversation.channel]); // no second link post
    expect(await digestAudit(store, r.id)).toHaveLength(1);
  });

  it('…and when that late answer is recorded while the other replica is still looking, the other replica posts no links', async () => {
    const { store, r, linked, pubA, tickA, answer, homeRef, replicaB } = await twoReplicas('home');
    // B finds the home digest; meanwhile A's answer comes, and A records the slot and posts the link.
    const b = replicaB(async (c) => {
      if (c.channel === linked.channel) return { status: 'absent' };
      answer();
      await tickA;
      return { status: 'found', digest: { ref: homeRef } };
    });
    await b.tick();
    expect(pubA.posts.map((p) => p.conversation.channel)).toEqual([r.conversation.channel, linked.channel]);
    expect(b.pubB.posts).toEqual([]);
    expect(await digestAudit(store, r.id)).toHaveLength(1);
  });

  it('a linked conversation whose lookup cannot tell still gets the digest: with links posted after the record, none was tried', async () => {
    const store = await open();
    const r = makeRollout();
    const unknown: ConversationRef = { platform: 'slack', workspace: 'T0TEST', channel: 'C0UNKNOWN' };
    r.links = [{ conversation: unknown, linkedAt: '2026-11-20T09:00:00.000Z', linkedBy: 'slack:UADMIN' }];
    r.digest = { lastSlot: SLOT, lastPostedAt: '2026-11-24T08:00:03.000Z', lastStates: {}, history: [] };
    await store.rollouts.create(r, []);
    const ref: MessageRef = { platform: 'slack', channel: r.conversation.channel, ts: '1764057601.000400' };
    const pub = new FakePublisher(async (c) =>
      c.channel === unknown.channel ? { status: 'unknown', reason: 'missing_scope' } : { status: 'found', digest: { ref } },
    );
    const s = scheduler(store, new FakeClock('2026-11-25T08:20:00Z'), pub);
    expect((await s.tick()).digests[0]).toMatchObject({ slot: SLOT, recovered: true, posted: false });
    expect(pub.posts.map((p) => p.conversation.channel)).toEqual([unknown.channel]);
  });

  it('a linked conversation the digest had not reached gets it; one it had reached does not', async () => {
    const store = await open();
    const r = makeRollout();
    const reached: ConversationRef = { platform: 'slack', workspace: 'T0TEST', channel: 'C0REACHED' };
    const missed: ConversationRef = { platform: 'slack', workspace: 'T0TEST', channel: 'C0MISSED' };
    r.links = [
      { conversation: reached, linkedAt: '2026-11-20T09:00:00.000Z', linkedBy: 'slack:UADMIN' },
      { conversation: missed, linkedAt: '2026-11-20T09:00:00.000Z', linkedBy: 'slack:UADMIN' },
    ];
    r.digest = { lastSlot: SLOT, lastPostedAt: '2026-11-24T08:00:03.000Z', lastStates: {}, history: [] };
    await store.rollouts.create(r, []);
    const ref: MessageRef = { platform: 'slack', channel: r.conversation.channel, ts: '1764057601.000400' };
    const pub = new FakePublisher(async (c) => (c.channel === missed.channel ? { status: 'absent' } : { status: 'found', digest: { ref } }));
    const s = scheduler(store, new FakeClock('2026-11-25T08:20:00Z'), pub);

    expect((await s.tick()).digests[0]).toMatchObject({ slot: SLOT, recovered: true, posted: false });
    expect(pub.lookups.map((l) => l.conversation.channel)).toEqual([r.conversation.channel, reached.channel, missed.channel]);
    expect(pub.posts.map((p) => p.conversation.channel)).toEqual([missed.channel]);
    expect(pub.posts[0]!.view.model.slot).toBe(SLOT);
    expect(await digestAudit(store, r.id)).toHaveLength(1);
  });
});
