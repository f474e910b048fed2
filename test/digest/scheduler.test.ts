import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MessageRef, Rollout, UserKey } from '../../src/core/checklist/model';
import { ChecklistService } from '../../src/core/checklist/service';
import { BwprepError } from '../../src/core/errors';
import type { PostedDigest } from '../../src/core/digest/ports';
import type { Store } from '../../src/core/ports';
import { Platforms } from '../../src/interactions/platforms';
import type { ConversationRef } from '../../src/core/checklist/model';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler';
import { openStore } from '../../src/store';
import type { DigestView } from '../../src/views/digest';
import { plainText, type Rich } from '../../src/views/rich';
import type { ReminderView } from '../../src/views/reminder';
import { FakeClock, makeRollout, TEMPLATE } from './fixtures';

/** The digest's structured text as the plain text a reader sees (the assertions below read it so). */
function readable(v: DigestView) {
  const p = (r: Rich) => plainText(r);
  return {
    ...v,
    notices: v.notices.map(p),
    lines: v.lines.map(p),
    footer: p(v.footer),
    sections: v.sections.map((x) => ({ ...x, items: x.items.map((i) => ({ ...i, text: p(i.text) })) })),
  };
}

/** An in-memory double of the application layer's publisher port: records what would be posted. */
class RecordingPublisher {
  posts: { rolloutId: string; view: ReturnType<typeof readable> }[] = [];
  failNext = 0;
  /** When set, a post waits for it (a post held in flight, released by the test). */
  gate?: Promise<void>;
  /** Resolves when a post has started (it may be waiting at the gate). */
  started: Promise<void>;
  private markStarted!: () => void;
  constructor() {
    this.started = new Promise((r) => (this.markStarted = r));
  }
  async postDigest(conversation: ConversationRef, view: DigestView): Promise<PostedDigest> {
    this.markStarted();
    if (this.gate) await this.gate;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('channel_not_found');
    }
    this.posts.push({ rolloutId: `${conversation.platform}:${conversation.workspace}:${conversation.channel}`, view: readable(view) });
    const ref: MessageRef = { platform: 'slack', channel: conversation.channel, ts: `${this.posts.length}.000` };
    return { ref, permalink: `https://example.invalid/archives/${ref.channel}/p${ref.ts}` };
  }
}

/** An in-memory double of the notifier port: records reminders; can fail or be undeliverable. */
class RecordingSender {
  sent: { user: UserKey; view: ReminderView }[] = [];
  failNext = 0;
  undeliverable = 0;
  async send(user: UserKey, view: ReminderView): Promise<boolean> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('cannot_dm_bot');
    }
    if (this.undeliverable > 0) {
      this.undeliverable--;
      return false;
    }
    this.sent.push({ user, view });
    return true;
  }
}

/** One chat platform ('slack') made of the doubles above. */
function platformsOf(publisher: RecordingPublisher, sender?: RecordingSender, tz?: (u: UserKey) => Promise<string | undefined>): Platforms {
  return new Platforms().register({
    id: 'slack',
    publisher: { postDigest: (c, v) => publisher.postDigest(c, v), postCheckReport: async () => undefined },
    directory: { profile: async (user) => ({ user, exists: true, platformAdmin: false, ...((await tz?.(user)) ? { tz: (await tz?.(user))! } : {}) }) },
    cards: { post: async () => ({ platform: 'slack', channel: 'C', ts: '1' }), update: async () => undefined, retire: async () => undefined },
    ...(sender ? { notifier: { send: async (u, m) => (m.kind === 'reminder' ? sender.send(u, m.view) : true) } } : {}),
  });
}

let dir: string;
let file: string;
let stores: Store[];

async function open(): Promise<Store> {
  const s = await openStore(`sqlite://${file}`);
  stores.push(s);
  return s;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bwprep-sched-'));
  file = join(dir, 'bwprep.sqlite');
  stores = [];
});

afterEach(async () => {
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Wednesday 25 November 2026. */
const WED_0859 = '2026-11-25T07:59:00Z';
const WED_0900 = '2026-11-25T08:00:00Z';

type TestExtra = Partial<SchedulerOptions> & { reminderSender?: RecordingSender; userTimezone?: (u: UserKey) => Promise<string | undefined> };

function scheduler(store: Store, clock: FakeClock, publisher: RecordingPublisher, extra: TestExtra = {}): Scheduler {
  const { reminderSender, userTimezone, ...opts } = extra;
  const service = new ChecklistService({ store: store.rollouts, template: TEMPLATE, clock, defaults: DEFAULTS, globalAdmins: [] });
  return new Scheduler({
    store,
    service,
    template: TEMPLATE,
    clock,
    platforms: platformsOf(publisher, reminderSender, userTimezone),
    reminders: Boolean(reminderSender),
    ...opts,
  });
}

const DEFAULTS = { locale: 'nl' as const, hosting: 'cloud-eu' as const, timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] };

async function seed(store: Store, r: Rollout = makeRollout()): Promise<Rollout> {
  return store.rollouts.create(r, []);
}

/** Holds every post of `pub` until the returned function is called. */
function gate(pub: RecordingPublisher): () => void {
  let open!: () => void;
  pub.gate = new Promise<void>((r) => (open = r));
  return open;
}

const digestAudit = async (store: Store, id: string) => (await store.audit.list(id)).filter((a) => a.action === 'digest.posted');

describe('Scheduler: one digest per slot', () => {
  it('posts at 09:00 Amsterdam, once, and records the slot, the snapshot, the history and an audit entry', async () => {
    const store = await open();
    // Created on Tuesday afternoon: Tuesday's slot predates it, so no late digest for it on Wednesday morning.
    const r = await seed(store, { ...makeRollout(), createdAt: '2026-11-24T15:00:00.000Z' });
    const clock = new FakeClock(WED_0859);
    const pub = new RecordingPublisher();
    const s = scheduler(store, clock, pub);

    expect((await s.tick()).digests[0]).toMatchObject({ posted: false, skipped: 'not_due' });
    clock.set(WED_0900);
    const first = await s.tick();
    expect(first.digests[0]).toMatchObject({ posted: true, slot: '2026-11-25T09:00', late: false, checksFailed: false });
    clock.advance(60_000);
    await s.tick();
    clock.advance(3 * 3_600_000);
    await s.tick();
    expect(pub.posts).toHaveLength(1);
    expect(pub.posts[0]!.view.title).toBe('Dagelijks gereedheidsoverzicht · 25 november 2026');

    const stored = (await store.rollouts.get(r.id))!;
    expect(stored.digest).toMatchObject({ lastSlot: '2026-11-25T09:00', lastPostedAt: WED_0900.replace('Z', '.000Z') });
    expect(stored.digest.lastStates?.['1a']).toBe('open');
    expect(stored.digest.history).toEqual([{ date: '2026-11-25', stepsPct: 0, hoursPct: 0 }]);
    const audit = await digestAudit(store, r.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'bwprep:scheduler', surface: 'scheduler', detail: { slot: '2026-11-25T09:00', preview: false, late: false } });
  });

  it('two replicas sharing one store post exactly once', async () => {
    const store = await open();
    await seed(store);
    const clock = new FakeClock(WED_0900);
    const pub = new RecordingPublisher();
    const release = gate(pub);
    const a = scheduler(store, clock, pub);
    const b = scheduler(store, clock, pub);
    expect(a.holder).not.toBe(b.holder);
    // The winner is held inside its post until the loser's tick has finished: the two really overlap.
    const ticks = [a.tick(), b.tick()] as const;
    await Promise.race(ticks);
    release();
    const [ra, rb] = await Promise.all(ticks);
    expect(pub.posts).toHaveLength(1);
    expect([ra.digests[0]!.posted, rb.digests[0]!.posted].sort()).toEqual([false, true]);
    clock.advance(5 * 60_000);
    await Promise.all([a.tick(), b.tick()]);
    expect(pub.posts).toHaveLength(1);
  });

  it('two replicas with their own connections to the same database post exactly once', async () => {
    const s1 = await open();
    const s2 = await open();
    await seed(s1);
    const clock = new FakeClock(WED_0900);
    const pub = new RecordingPublisher();
    const release = gate(pub);
    const ticks = [scheduler(s1, clock, pub).tick(), scheduler(s2, clock, pub).tick(), scheduler(s2, clock, pub).tick()];
    await pub.started;
    release();
    await Promise.all(ticks);
    expect(pub.posts).toHaveLength(1);
  });

  it('a replica whose lease expired mid-way (very slow checks) loses the claim and does not post', async () => {
    const store = await open();
    await seed(store);
    const clock = new FakeClock(WED_0900);
    const pub = new RecordingPublisher();
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const slow = scheduler(store, clock, pub, { leaseTtlMs: 30, verifier: () => stuck });
    const fast = scheduler(store, clock, pub, { leaseTtlMs: 30 });
    const slowTick = slow.tick();
    // Poll (no fixed sleep) until the slow replica's 30 ms lease has expired and the fast one posts.
    await vi.waitFor(async () => expect((await fast.tick()).digests[0]).toMatchObject({ posted: true }), { timeout: 5_000, interval: 20 });
    release();
    expect((await slowTick).digests[0]).toMatchObject({ posted: false, skipped: 'claimed' });
    expect(pub.posts).toHaveLength(1);
  });

  it('a restart after posting does not post again (new process, new holder, same database)', async () => {
    const store = await open();
    const r = await seed(store);
    const clock = new FakeClock(WED_0900);
    const pub = new RecordingPublisher();
    await scheduler(store, clock, pub).tick();
    await store.close();
    stores = stores.filter((x) => x !== store);

    const reopened = await open();
    clock.advance(2 * 60_000);
    const after = await scheduler(reopened, clock, pub).tick();
    expect(after.digests[0]).toMatchObject({ posted: false, skipped: 'not_due' });
    expect(pub.posts).toHaveLength(1);
    expect(await digestAudit(reopened, r.id)).toHaveLength(1);
  });

  it('digest disabled: nothing is posted', async () => {
    const store = await open();
    await seed(store, makeRollout({ settings: { digestEnabled: false } }));
    const pub = new RecordingPublisher();
    await scheduler(store, new FakeClock(WED_0900), pub).tick();
    expect(pub.posts).toEqual([]);
  });
});

describe('Scheduler: time zones, DST and downtime', () => {
  it('29 March 2026 (spring forward): the Sunday digest goes out at 07:00 UTC = 09:00 CEST', async () => {
    const store = await open();
    await seed(store, { ...makeRollout({ settings: { weekdays: [1, 2, 3, 4, 5, 6, 7] } }), createdAt: '2026-01-05T10:00:00.000Z' });
    const clock = new FakeClock('2026-03-28T08:00:00Z');
    const pub = new RecordingPublisher();
    const s = scheduler(store, clock, pub);
    await s.tick(); // Saturday 09:00 CET
    clock.set('2026-03-29T06:59:00Z');
    await s.tick();
    expect(pub.posts).toHaveLength(1);
    clock.set('2026-03-29T07:00:00Z');
    await s.tick();
    expect(pub.posts.map((p) => p.view.model.slot)).toEqual(['2026-03-28T09:00', '2026-03-29T09:00']);
  });

  it('25 October 2026 (fall back): the Sunday digest waits until 08:00 UTC = 09:00 CET', async () => {
    const store = await open();
    await seed(store, { ...makeRollout({ settings: { weekdays: [1, 2, 3, 4, 5, 6, 7] } }), createdAt: '2026-01-05T10:00:00.000Z' });
    const clock = new FakeClock('2026-10-24T07:00:00Z');
    const pub = new RecordingPublisher();
    const s = scheduler(store, clock, pub);
    await s.tick(); // Saturday 09:00 CEST
    clock.set('2026-10-25T07:00:00Z'); // 08:00 CET: not yet
    await s.tick();
    expect(pub.posts).toHaveLength(1);
    clock.set('2026-10-25T08:00:00Z');
    await s.tick();
    expect(pub.posts.map((p) => p.view.model.slot)).toEqual(['2026-10-24T09:00', '2026-10-25T09:00']);
  });

  it('after downtime over two slots: the newest is posted once, late, with a note; the older one never', async () => {
    const store = await open();
    const r = makeRollout();
    r.digest = { lastSlot: '2026-11-23T09:00', history: [] };
    await seed(store, r);
    const clock = new FakeClock('2026-11-25T14:00:00Z'); // back on Wednesday afternoon
    const pub = new RecordingPublisher();
    const s = scheduler(store, clock, pub);
    await s.tick();
    clock.advance(60_000);
    await s.tick();
    expect(pub.posts).toHaveLength(1);
    expect(pub.posts[0]!.view.model).toMatchObject({ slot: '2026-11-25T09:00', late: true });
    expect(pub.posts[0]!.view.notices).toContain('🕘 Later geplaatst: bwprep was offline op het geplande tijdstip (09:00).');
    expect((await digestAudit(store, r.id))[0]).toMatchObject({ detail: { late: true } });
  });

  it('a slot missed for more than a day is skipped; the next one posts on time', async () => {
    const store = await open();
    const r = makeRollout();
    r.digest = { lastSlot: '2026-11-26T09:00', history: [] };
    await seed(store, r);
    const clock = new FakeClock('2026-11-29T12:00:00Z'); // Sunday; Friday's slot was missed
    const pub = new RecordingPublisher();
    const s = scheduler(store, clock, pub);
    await s.tick();
    expect(pub.posts).toEqual([]);
    clock.set('2026-11-30T08:00:00Z');
    await s.tick();
    expect(pub.posts.map((p) => [p.view.model.slot, p.view.model.late])).toEqual([['2026-11-30T09:00', false]]);
  });
});

describe('Scheduler: fresh checks before composing', () => {
  it('re-runs the checks through the verifier, so drift since yesterday shows up', async () => {
    const store = await open();
    const r = makeRollout({ locale: 'en', steps: { '4c': { state: 'verified' } } });
    r.digest = { lastSlot: '2026-11-24T09:00', lastStates: Object.fromEntries(Object.entries(r.steps).map(([k, v]) => [k, v.state])), history: [] };
    await seed(store, r);
    const clock = new FakeClock(WED_0900);
    const service = new ChecklistService({
      store: store.rollouts,
      template: TEMPLATE,
      clock,
      defaults: { locale: 'en', hosting: 'self-hosted', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] },
      globalAdmins: [],
    });
    const verifier = async (ro: Rollout) => {
      await service.recordChecks(
        ro.id,
        [{ stepId: '4c', record: { status: 'fail', summary: { key: 'error.conflict' }, evidence: {}, at: clock.now().toISOString() } }],
        { user: 'bwprep:scheduler', surface: 'scheduler' },
      );
    };
    const pub = new RecordingPublisher();
    await scheduler(store, clock, pub, { verifier }).tick();
    const v = pub.posts[0]!.view;
    expect(v.sections.find((x) => x.id === 'changes')!.items.map((i) => i.text)).toEqual(['❌ Drifted (the check fails now): 4c']);
    expect(v.sections.find((x) => x.id === 'failing')!.items[0]!.text).toContain('Someone changed the checklist at the same moment.');
    expect((await store.rollouts.get(r.id))!.digest.lastStates?.['4c']).toBe('failing');
  });

  it('Bitwarden unreachable: the digest still goes out and says the checks could not run', async () => {
    const store = await open();
    await seed(store);
    const pub = new RecordingPublisher();
    const verifier = async () => {
      throw new BwprepError('bitwarden_unavailable', { key: 'error.conflict' });
    };
    const out = await scheduler(store, new FakeClock(WED_0900), pub, { verifier }).tick();
    expect(out.digests[0]).toMatchObject({ posted: true, checksFailed: true });
    // This rollout was never checked, so there is no "last successful check" to fall back on.
    expect(pub.posts[0]!.view.notices[0]).toMatch(/^⚠️ Er is nog geen controle bij Bitwarden uitgevoerd, .+ De controles konden niet draaien: .+$/);
    expect(pub.posts[0]!.view.notices[0]).not.toContain('laatste geslaagde controle');
  });

  it('an unexpected verifier error or a hanging verifier does not hold the digest back', async () => {
    const store = await open();
    await seed(store, makeRollout({ locale: 'en' }));
    await seed(store, makeRollout({ id: 'slack:T0TEST:C0OTHER', locale: 'en' }));
    const pub = new RecordingPublisher();
    let calls = 0;
    const verifier = async () => {
      if (calls++ === 0) throw new TypeError('boom');
      await new Promise(() => undefined); // never settles
    };
    await scheduler(store, new FakeClock(WED_0900), pub, { verifier, verifierTimeoutMs: 50 }).tick();
    expect(pub.posts).toHaveLength(2);
    const notices = pub.posts.map((p) => p.view.notices[0]).sort();
    expect(notices).toEqual([
      '⚠️ No check against Bitwarden has run yet, so the figures show only what people marked done. The checks could not run: something went wrong on our side.',
      '⚠️ No check against Bitwarden has run yet, so the figures show only what people marked done. The checks could not run: they took too long.',
    ]);
  });

  it('gives steps without a due date a planned one before the digest (manual dates win)', async () => {
    const store = await open();
    const r = await seed(store, makeRollout({ settings: { goLive: '2026-12-15' }, steps: { '4d': { due: '2026-12-01', dueSource: 'manual' } } }));
    await scheduler(store, new FakeClock(WED_0900), new RecordingPublisher()).tick();
    const stored = (await store.rollouts.get(r.id))!;
    expect(stored.steps['4d']).toMatchObject({ due: '2026-12-01', dueSource: 'manual' });
    expect(stored.steps['1a']).toMatchObject({ due: '2026-12-11', dueSource: 'planned' });
  });
});

describe('Scheduler: failed posts and previews', () => {
  it('a post that fails frees the slot and is retried after the back-off, then posted once', async () => {
    const store = await open();
    const r = await seed(store);
    const clock = new FakeClock(WED_0900);
    const pub = new RecordingPublisher();
    pub.failNext = 1;
    const s = scheduler(store, clock, pub, { retryDelayMs: 5 * 60_000 });
    expect((await s.tick()).digests[0]).toMatchObject({ posted: false, skipped: 'post_failed' });
    expect((await store.rollouts.get(r.id))!.digest.lastSlot).toBeUndefined();
    clock.advance(60_000);
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'backoff' });
    clock.advance(5 * 60_000);
    const retry = await s.tick();
    expect(retry.digests[0]).toMatchObject({ posted: true });
    expect(pub.posts).toHaveLength(1);
    expect(pub.posts[0]!.view.late).toBe(false); // 6 minutes: still within the grace period
  });

  it('gives up on a slot after maxPostAttempts, without freeing it again', async () => {
    const store = await open();
    const r = await seed(store);
    const clock = new FakeClock(WED_0900);
    const pub = new RecordingPublisher();
    pub.failNext = 10;
    const s = scheduler(store, clock, pub, { retryDelayMs: 60_000, maxPostAttempts: 2 });
    for (let i = 0; i < 5; i++) {
      await s.tick();
      clock.advance(2 * 60_000);
    }
    expect(pub.failNext).toBe(8);
    expect((await store.rollouts.get(r.id))!.digest.lastSlot).toBe('2026-11-25T09:00');
  });

  it('/bwprep digest: a preview now, marked as such, that changes no digest state', async () => {
    const store = await open();
    const r = await seed(store);
    const clock = new FakeClock('2026-11-25T06:00:00Z');
    const pub = new RecordingPublisher();
    const s = scheduler(store, clock, pub);
    const out = await s.previewDigest(r.id, { user: 'slack:U0ADMIN', surface: 'slack' });
    expect(out).toMatchObject({ preview: true, posted: true });
    expect(pub.posts[0]!.view.notices[0]).toMatch(/^👁️ Voorbeeld/);
    expect((await store.rollouts.get(r.id))!.digest).toEqual({ history: [] });
    expect((await digestAudit(store, r.id))[0]).toMatchObject({ actor: 'slack:U0ADMIN', surface: 'slack', detail: { preview: true } });
    clock.set(WED_0900);
    await s.tick();
    expect(pub.posts).toHaveLength(2);
    expect(pub.posts[1]!.view.preview).toBe(false);
  });

  it('start() ticks on an interval and stop() waits for the tick in flight', async () => {
    const store = await open();
    await seed(store);
    const pub = new RecordingPublisher();
    const release = gate(pub);
    const s = scheduler(store, new FakeClock(WED_0900), pub, { intervalMs: 10 });
    s.start();
    await pub.started; // the interval fired a tick; its post is held in flight
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(pub.posts).toHaveLength(1);
  });
});

describe('Scheduler: reminders', () => {
  const ALICE = 'slack:U0ALICE';
  const tz = async (u: UserKey) => (u === ALICE ? 'Europe/Amsterdam' : undefined);

  it('sends one DM per owner per day, across two replicas and a restart', async () => {
    const store = await open();
    await seed(store, makeRollout({ steps: { '1a': { owner: ALICE, due: '2026-11-24' }, '2a': { owner: ALICE, due: '2026-11-26' } } }));
    const clock = new FakeClock('2026-11-25T08:30:00Z');
    const sender = new RecordingSender();
    const pub = new RecordingPublisher();
    const a = scheduler(store, clock, pub, { reminderSender: sender, userTimezone: tz });
    const b = scheduler(store, clock, pub, { reminderSender: sender, userTimezone: tz });
    await Promise.all([a.tick(), b.tick()]);
    expect(sender.sent).toHaveLength(1);
    expect(sender.sent[0]).toMatchObject({ user: ALICE });
    expect(await store.kv.get(`reminder:${ALICE}:2026-11-25`)).toBeTruthy();
    expect(sender.sent[0]!.view.items.map((i) => i.stepId)).toEqual(['1a', '2a']);
    // A restarted replica (new holder) later that day.
    clock.advance(3_600_000);
    await scheduler(store, clock, pub, { reminderSender: sender, userTimezone: tz }).tick();
    expect(sender.sent).toHaveLength(1);
    // The next working day: again.
    clock.set('2026-11-26T08:30:00Z');
    await a.tick();
    expect(sender.sent).toHaveLength(2);
  });

  it('a DM that fails is retried on a later tick', async () => {
    const store = await open();
    await seed(store, makeRollout({ steps: { '1a': { owner: ALICE, due: '2026-11-24' } } }));
    const clock = new FakeClock('2026-11-25T08:30:00Z');
    const sender = new RecordingSender();
    sender.failNext = 1;
    const s = scheduler(store, clock, new RecordingPublisher(), { reminderSender: sender, userTimezone: tz, retryDelayMs: 60_000 });
    expect((await s.tick()).reminders).toEqual([{ user: ALICE, key: `reminder:${ALICE}:2026-11-25`, sent: false }]);
    clock.advance(2 * 60_000);
    expect((await s.tick()).reminders).toEqual([{ user: ALICE, key: `reminder:${ALICE}:2026-11-25`, sent: true }]);
    expect(sender.sent).toHaveLength(1);
  });
});

describe('Scheduler: what it logs about lost slots', () => {
  it('warns once about a slot claimed but never recorded (crash between claim and post), and about a skipped stale slot', async () => {
    const store = await open();
    const r = makeRollout();
    // Tuesday's slot was claimed, but the last recorded post is Monday's: the process died in between.
    r.digest = { lastSlot: '2026-11-24T09:00', lastPostedAt: '2026-11-23T08:00:04.000Z', history: [] };
    await seed(store, r);
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
    const clock = new FakeClock('2026-11-25T07:00:00Z');
    const s = scheduler(store, clock, new RecordingPublisher(), { logger });
    await s.tick();
    await s.tick();
    expect(warnings).toEqual(['digest slot claimed but not recorded as posted']);

    const store2 = await open();
    const stale = makeRollout({ id: 'slack:T0TEST:C0STALE' });
    stale.digest = { lastSlot: '2026-11-26T09:00', lastPostedAt: '2026-11-26T08:00:02.000Z', history: [] };
    await seed(store2, stale);
    const w2: string[] = [];
    const s2 = scheduler(store2, new FakeClock('2026-11-29T12:00:00Z'), new RecordingPublisher(), {
      logger: { ...logger, warn: (_o: object, msg?: string) => void w2.push(msg ?? '') },
    });
    await s2.tick();
    expect(w2).toContain('digest slot missed for too long (downtime); skipped, the next slot posts');
  });
});

describe('Scheduler: the timer', () => {
  it('ticks right away and then every interval until stopped (fake timers, ticks counted at the store)', async () => {
    const { vi } = await import('vitest');
    const store = await open();
    await seed(store);
    // Count ticks where they show: each tick lists the rollouts once.
    let lists = 0;
    // A tick walks the rollouts page by page (listPage, from the first page) where the store can.
    const counting: Store = {
      ...store,
      rollouts: {
        get: (id) => store.rollouts.get(id),
        update: (id, m) => store.rollouts.update(id, m),
        create: (r, a) => store.rollouts.create(r, a),
        list: () => store.rollouts.list(),
        listPage: (after, n) => {
          if (after === undefined) lists++;
          return store.rollouts.listPage!(after, n);
        },
      },
    };
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const s = scheduler(counting, new FakeClock(WED_0859), new RecordingPublisher(), { intervalMs: 60_000 });
      s.start();
      await vi.waitFor(() => expect(lists).toBe(1));
      for (let n = 2; n <= 4; n++) {
        await vi.advanceTimersByTimeAsync(60_000);
        await vi.waitFor(() => expect(lists).toBe(n));
      }
      await s.stop();
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      expect(lists).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });
});
