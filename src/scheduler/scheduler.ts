import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Actor, Message, Rollout, UserKey } from '../core/checklist/model';
import type { ChecklistService } from '../core/checklist/service';
import type { Template } from '../core/checklist/template';
import { isBwprepError, BwprepError } from '../core/errors';
import { buildDigestModel } from '../core/digest/model';
import type { DigestLookup, DigestVerifier, PostedDigest } from '../core/digest/ports';
import { isPlatformError } from '../interactions/errors';
import type { Platforms } from '../interactions/platforms';
import { renderRich, tr } from '../i18n';
import { reminderKind, remindersDue, type ReminderDue, type ReminderOptions } from '../core/digest/reminders';
import { alreadyPosted, dueSlot, missedSlot, slotInstant, type DueOptions, type DueSlot } from '../core/digest/schedule';
import { type Clock, type Store, systemClock } from '../core/ports';
import { localDate } from '../core/time';
import { buildDigestView, type DigestView } from '../views/digest';
import { buildReminderView } from '../views/reminder';

/**
 * The platform-free scheduler loop: daily digests and owner reminders (DESIGN §6, §7).
 *
 * ## Exactly one digest per rollout per slot
 *
 * Three layers, from cheap to authoritative:
 * 1. `dueSlot(now, settings, rollout.digest.lastSlot)`: a slot already recorded is never due again, so a
 *    restarted process (same or new replica) does not post twice.
 * 2. A lease `digest:<rolloutId>:<slot>` (TTL `leaseTtlMs`, holder unique per replica): only one replica
 *    runs the checks and builds the digest; the others skip the rollout on this tick.
 * 3. The *claim*: before posting, `lastSlot` is set to the slot in one atomic, conditional store update
 *    (it only succeeds when `lastSlot` is still older). Even if a lease expired mid-way (a very slow
 *    verifier), only one replica can win the claim, and only the winner posts.
 *
 * Crash windows: the marker is written BEFORE posting and the result recorded AFTER (lastPostedAt, the
 * step snapshot for "what changed", the day's readiness, and a `digest.posted` audit entry). A crash in
 * between leaves a slot *claimed but not recorded*, and whether its digest went out depends on where the
 * process died. The *reconciliation* (`reconcile`) settles it on a later tick, exactly once where the
 * platform can look:
 * - it runs for the newest claimed slot with no recorded post (`digest.postedSlot` is another slot),
 *   within `maxLateMs`, not given up (below), once this replica can take the slot's lease (a live replica
 *   still posting holds it; a dead one's lapses after `leaseTtlMs`) and a re-read confirms it is still
 *   unrecorded;
 * - it asks the home platform's publisher `findDigest(conversation, { rolloutId, slot }, since)`. Slack
 *   tags every scheduled digest with message metadata (rollout, slot) and reads the channel's history;
 *   Teams gives the digest card's title a marker id and lists the channel's or chat's messages through
 *   Microsoft Graph (resource-specific consent, src/teams/graph.ts):
 *   found → the post is recorded now (`detail.recovered`, the found ref), and the linked conversations get
 *   it (links are posted only after the record, so none was tried; one whose lookup finds it is skipped,
 *   for a process of an earlier version); absent → the
 *   checks run and the digest is posted (late past the grace period) and recorded, as the normal path does;
 *   cannot tell (a missing scope, the bot not in the channel) → a warning, no post (at most once); a
 *   lookup that throws → nothing posted, asked again after the back-off. The slot is claimed already, so
 *   here the lease alone keeps a second replica off: it holds while a post takes less than the lease (the
 *   config makes it at least the checks + DIGEST_POST_ALLOWANCE_SECONDS);
 * - a platform without `findDigest` (the console; Teams without an app secret, e.g. a managed identity)
 *   keeps **at most once**: that slot's digest is lost, never posted twice, and logged as "claimed but not
 *   recorded". The next slot posts normally.
 * The other failures:
 * - crash between post and record on a platform without `findDigest` → posted once; tomorrow's "what
 *   changed" covers two days.
 * - the publisher throws *without an answer* (`PlatformError.uncertain`: a timeout, a lost connection, a
 *   5xx) where the platform can look → the post may be out: the claim and this replica's lease stay, and
 *   this replica's reconciliation looks after the back-off (the home post is sent once: never resent by
 *   the Slack client, nor by the Teams connector client where Graph can look, so a late answer is not
 *   followed by a second post);
 * - the linked conversations are posted *after* the record, with the platforms' retries, by the replica
 *   that recorded the slot: retries that outlast the lease cannot race another replica's reconciliation (it
 *   finds the slot recorded). A process that dies during the linked posts leaves the rest of them without
 *   that day's digest (at most once there);
 * - a slot is recorded once (`ChecklistService.recordDigest` skips a slot already recorded), so a replica
 *   whose lease lapsed mid-post and a reconciliation that found its post do not both record it;
 * - the publisher *throws* (Slack error, channel archived) → nothing went out, so the claim is rolled back
 *   and a later tick retries, with back-off, up to `maxPostAttempts`; the lease keeps other replicas off
 *   the slot meanwhile. After the last attempt the slot is *given up*: its claim stays and
 *   `digest.abandonedSlot` marks it (ChecklistService.abandonDigestSlot), so the reconciliation, in this
 *   or any later process, does not retry it.
 * At-least-once without a lookup (recording the slot only after posting) would double-post whenever a
 * replica died right after Slack accepted the message; where the platform cannot look, a rare missing
 * digest is the lesser evil, and it is visible in the logs.
 *
 * Fail-over: a replica that dies holding the lease *before its claim* (in the checks) leaves only the lease
 * behind. It lapses `leaseTtlMs` after it was taken (it is not renewed), and the next tick of another
 * replica, at most `intervalMs` later, takes it and posts the digest once: at most lease + interval + that
 * replica's checks (`verifierTimeoutMs`) and post after the dead one took the lease (ARCHITECTURE.md,
 * "Digest, reminders, scheduler"; test/faults/lease-failover.e2e.test.ts).
 *
 * A publisher error the platform classifies as *lasting* (bot removed from the channel, channel archived,
 * installation revoked) is not retried: the rollout's conversation is marked unreachable, its admins are
 * told once by DM, and no digest is attempted until the bot can post there again (the next successful
 * `status`, or the platform telling us it is back).
 *
 * ## Platforms
 * Every post and DM is routed through `Platforms`: a rollout's digest to the platform of its conversation,
 * a reminder to the owner's platform. A Slack-only, Teams-only or mixed deployment runs the same loop.
 *
 * ## Reminders
 * One DM per owner per owner-local day: key `reminder:<user>:<YYYY-MM-DD>`, taken as a lease (TTL 36 h, so
 * a restarted replica with a new holder id cannot take it again) and recorded in the kv store before
 * sending (at most once, like digests); a send that throws, or that the platform could not deliver, frees
 * both for a later tick (with back-off).
 *
 * Every state change goes through ChecklistService (slot claims, the posted record, a given-up slot, re-planning).
 */

export interface SchedulerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SchedulerOptions {
  store: Store;
  /** The one writer of rollout state. */
  service: ChecklistService;
  template: Template;
  /** The chat platforms to post digests and send reminders on. */
  platforms: Platforms;
  clock?: Clock;
  logger?: SchedulerLogger;
  /** Tick interval for `start()`, ms. Default 60 s (BWPREP_SCHEDULER_INTERVAL_SECONDS). */
  intervalMs?: number;
  verifier?: DigestVerifier;
  /** The checks get this long (ms) before the digest goes out without them. Default 2 minutes (BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS). */
  verifierTimeoutMs?: number;
  /** Send owner reminders (default true). */
  reminders?: boolean;
  reminderOptions?: ReminderOptions;
  /** Unique per replica; default `<hostname>:<pid>:<random>`. */
  holder?: string;
  /**
   * Digest lease TTL, ms; should exceed `verifierTimeoutMs` + the post time (the config refuses less, see
   * DIGEST_POST_ALLOWANCE_SECONDS). Not renewed: it also bounds how long a replica that died holding it
   * keeps the others off that digest. Default 10 minutes (BWPREP_DIGEST_LEASE_SECONDS).
   */
  leaseTtlMs?: number;
  schedule?: DueOptions;
  /** Failed posts of one slot retried this often at most. Default 3. */
  maxPostAttempts?: number;
  /** Wait between attempts of a failed post or reminder. Default 5 minutes. */
  retryDelayMs?: number;
  /** Rollouts handled in parallel per tick. Default 4. */
  concurrency?: number;
  /** Give steps without a due date a planned one before each digest (when go-live is set). Default true. */
  planDueDates?: boolean;
  /** Rollouts read per page in a tick, when the store can page (`RolloutStore.listPage`). Default 100. */
  pageSize?: number;
}

export interface DigestOutcome {
  rolloutId: string;
  slot?: string;
  late: boolean;
  preview: boolean;
  posted: boolean;
  checksFailed: boolean;
  view?: DigestView;
  result?: PostedDigest;
  /**
   * Reconciliation of a slot claimed but never recorded (see the header): the platform found the digest in
   * the conversation and it was recorded now, without a new post (`posted` stays false).
   */
  recovered?: boolean;
  /**
   * Why nothing was posted. `unknown`: a claimed, unrecorded slot whose platform cannot tell whether it
   * went out (at most once); `lookup_failed`: asking the platform failed, asked again after the back-off.
   */
  skipped?:
    'not_due' | 'leased' | 'claimed' | 'backoff' | 'post_failed' | 'disabled' | 'gone' | 'unreachable' | 'error' | 'unknown' | 'lookup_failed' | 'stopping';
}

export interface TickResult {
  digests: DigestOutcome[];
  reminders: { user: UserKey; key: string; sent: boolean }[];
}

export const SCHEDULER_ACTOR: Actor = { user: 'bwprep:scheduler', surface: 'scheduler' };
const REMINDER_LEASE_MS = 36 * 3_600_000;
const REMINDER_SENT_TTL_MS = 3 * 24 * 3_600_000;
const TZ_CACHE_MS = 6 * 3_600_000;
const DEFAULT_MAX_LATE_MS = 24 * 3_600_000;
const DEFAULT_GRACE_MS = 15 * 60_000;
/**
 * How far before a claimed slot's instant the reconciliation looks for its digest: a slot key is a local
 * time, and a rollout whose time zone changed after the post has the same key at another instant (UTC−12
 * to UTC+14). The metadata names the rollout and the slot, so a wider window finds nothing wrong.
 */
const LOOKUP_MARGIN_MS = 26 * 3_600_000;

/**
 * The digest state has a slot claimed, not given up, and no post recorded for it: `postedSlot` is another
 * slot. A state from before `postedSlot` existed falls back to comparing `lastPostedAt` with the slot's instant.
 */
function unrecordedClaim(r: Pick<Rollout, 'digest' | 'settings'>): { slot: string; at: Date } | undefined {
  const slot = r.digest.lastSlot;
  const at = slot ? slotInstant(slot, r.settings.timezone) : undefined;
  // A slot given up after failed posts is settled: nothing went out, and it is not tried again.
  if (!slot || !at || r.digest.abandonedSlot === slot) return undefined;
  if (r.digest.postedSlot !== undefined) return r.digest.postedSlot === slot ? undefined : { slot, at };
  if (r.digest.lastPostedAt && Date.parse(r.digest.lastPostedAt) >= at.getTime()) return undefined;
  return { slot, at };
}

const noopLogger: SchedulerLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class Scheduler {
  private readonly o: Required<Pick<SchedulerOptions, 'intervalMs' | 'verifierTimeoutMs' | 'leaseTtlMs' | 'maxPostAttempts' | 'retryDelayMs' | 'concurrency'>> &
    SchedulerOptions;
  private readonly clock: Clock;
  private readonly log: SchedulerLogger;
  readonly holder: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<TickResult> | undefined;
  /** Set by stop(): the tick in flight starts no further rollout and sends no reminders. */
  private stopping = false;
  /** `<rolloutId>:<slot>` → attempts and the time before which not to retry. */
  private readonly failures = new Map<string, { attempts: number; retryAt: number }>();
  private readonly warned = new Set<string>();
  /** `<rolloutId>:<slot>` of unrecorded claims whose platform could not tell whether they went out (asked once per process). */
  private readonly cannotTell = new Set<string>();
  /** Reminder keys known to be sent (a cache over the kv sent log). */
  private readonly sent = new Set<string>();
  private readonly tzCache = new Map<UserKey, { tz: string | undefined; at: number }>();

  constructor(opts: SchedulerOptions) {
    this.o = {
      intervalMs: 60_000,
      verifierTimeoutMs: 120_000,
      leaseTtlMs: 10 * 60_000,
      maxPostAttempts: 3,
      retryDelayMs: 5 * 60_000,
      concurrency: 4,
      ...opts,
    };
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? noopLogger;
    this.holder = opts.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  /** Ticks every `intervalMs` (first tick right away); overlapping ticks are skipped. */
  start(): void {
    if (this.timer) return;
    this.stopping = false;
    const run = () => {
      if (this.running) return;
      this.running = this.tick()
        .catch((err) => {
          this.log.error({ err }, 'scheduler tick failed');
          return { digests: [], reminders: [] };
        })
        .finally(() => {
          this.running = undefined;
        });
    };
    this.timer = setInterval(run, this.o.intervalMs);
    this.timer.unref?.();
    run();
  }

  /**
   * Stops ticking at once; the tick in flight starts no further rollout (the digests already under way finish),
   * and the returned promise resolves when it is done. The caller bounds the wait (app.stop's drain).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass: due digests, then due reminders. Errors of one rollout or owner do not stop the others. */
  async tick(): Promise<TickResult> {
    const digests: DigestOutcome[] = [];
    // A page at a time where the store can (1,000 rollouts: peak RSS, bench/README.md), else all at once.
    for await (const page of this.rolloutPages()) {
      if (this.stopping) break; // no further page read once stopping (the store may close after the drain)
      digests.push(
        ...(await this.pool(page, async (r) => {
          if (this.stopping) return { rolloutId: r.id, late: false, preview: false, posted: false, checksFailed: false, skipped: 'stopping' as const };
          try {
            return await this.scheduledDigest(r);
          } catch (err) {
            this.log.error({ err, rolloutId: r.id }, 'digest failed');
            return { rolloutId: r.id, late: false, preview: false, posted: false, checksFailed: false, skipped: 'error' as const };
          }
        })),
      );
    }
    // A workspace whose installation is gone (uninstalled, token revoked) gets no reminder DMs either.
    const reminders =
      this.o.reminders !== false && !this.stopping
        ? await this.reminders((await this.o.store.rollouts.list()).filter((r) => !r.unreachable?.installation))
        : [];
    // One line a tick at debug: what each replica did (a `leased` rollout is another replica's to post).
    const skipped: Record<string, number> = {};
    for (const d of digests) if (d.skipped) skipped[d.skipped] = (skipped[d.skipped] ?? 0) + 1;
    this.log.debug(
      {
        holder: this.holder,
        rollouts: digests.length,
        posted: digests.filter((d) => d.posted).length,
        skipped,
        reminders: reminders.filter((r) => r.sent).length,
      },
      'scheduler tick done',
    );
    return { digests, reminders };
  }

  private async *rolloutPages(): AsyncGenerator<Rollout[]> {
    const store = this.o.store.rollouts;
    if (!store.listPage) {
      yield await store.list();
      return;
    }
    const size = this.o.pageSize ?? 100;
    let after: string | undefined;
    for (;;) {
      const page = await store.listPage(after, size);
      if (page.length > 0) yield page;
      if (page.length < size) return;
      after = page[page.length - 1]!.id;
    }
  }

  /**
   * `/bwprep digest`: runs the checks and posts a digest now, marked as a preview. A preview changes no
   * digest state (tomorrow's "what changed" still compares with the last scheduled digest) and is audited
   * as `digest.posted` with `detail.preview = true`.
   */
  async previewDigest(rolloutId: string, actor: Actor = SCHEDULER_ACTOR): Promise<DigestOutcome> {
    const found = await this.o.store.rollouts.get(rolloutId);
    if (!found) throw new BwprepError('internal', { key: 'error.internal', vars: { ref: rolloutId } }, { detail: `no rollout ${rolloutId}` });
    const checkRunFailed = await this.verify(found);
    const rollout = (await this.o.store.rollouts.get(rolloutId)) ?? found;
    const now = this.clock.now();
    const view = this.view(rollout, { now, preview: true, ...(checkRunFailed ? { checkRunFailed } : {}) });
    const result = await this.publishHome(rollout, view);
    await this.o.service.recordDigest(rollout.id, view.model, { at: now, detail: this.postedDetail(view, result, undefined) }, actor);
    await this.publishLinks(rollout, view);
    return { rolloutId, late: false, preview: true, posted: true, checksFailed: !!checkRunFailed, view, result };
  }

  // ---- digests --------------------------------------------------------------------------------

  private async scheduledDigest(listed: Rollout): Promise<DigestOutcome> {
    const id = listed.id;
    const base = { rolloutId: id, late: false, preview: false, posted: false, checksFailed: false };
    if (!listed.settings.digestEnabled) return { ...base, skipped: 'disabled' };
    if (listed.unreachable) return { ...base, skipped: 'unreachable' };
    const now = this.clock.now();
    let due: DueSlot | undefined;
    const opts: DueOptions = { ...this.o.schedule, notBefore: new Date(listed.createdAt) };
    try {
      due = dueSlot(now, listed.settings, listed.digest.lastSlot, opts);
    } catch (err) {
      this.warnOnce(`schedule:${id}`, { err, rolloutId: id }, 'invalid digest schedule; no digest');
      return { ...base, skipped: 'not_due' };
    }
    if (!due) {
      const reconciled = await this.reconcile(listed, now);
      if (reconciled) return reconciled;
      this.warnMissed(listed, now, opts);
      return { ...base, skipped: 'not_due' };
    }
    const slot = due.key;
    const out = { ...base, slot, late: due.late };

    const failKey = `${id}:${slot}`;
    const failed = this.failures.get(failKey);
    if (failed && failed.retryAt > now.getTime()) return { ...out, skipped: 'backoff' };

    const leaseKey = `digest:${id}:${slot}`;
    if (!(await this.o.store.leases.acquire(leaseKey, this.holder, this.o.leaseTtlMs))) return { ...out, skipped: 'leased' };
    this.log.debug({ rolloutId: id, slot, lease: leaseKey, holder: this.holder, ttlMs: this.o.leaseTtlMs }, 'digest lease taken');

    // Another replica may have posted between our list() and the lease.
    const fresh = await this.o.store.rollouts.get(id);
    if (!fresh) return { ...out, skipped: 'gone' };
    if (alreadyPosted(due, fresh.digest.lastSlot)) return { ...out, skipped: 'claimed' };

    if (this.o.planDueDates !== false && fresh.settings.goLive) {
      await this.o.service.replanDueDates(id, 'fill', SCHEDULER_ACTOR);
    }
    const checkRunFailed = await this.verify(fresh);

    // The claim (see the header): conditional, atomic; only the winner posts.
    const { rollout, before: prev } = await this.o.service.claimDigestSlot(id, slot, (last) => alreadyPosted(due, last));
    if (!prev) return { ...out, skipped: 'claimed' };

    const view = this.view(rollout, { now, lastState: prev, late: due.late, slot, ...(checkRunFailed ? { checkRunFailed } : {}) });
    // Nothing went out: free the slot (only if it is still our claim), so the digest can go out later.
    const release = () => this.o.service.releaseDigestSlot(id, slot, prev.lastSlot);
    return this.postClaimed({ out, rollout, view, slot, late: due.late, now, failed, leaseKey, checksFailed: !!checkRunFailed, release });
  }

  /**
   * Posts the digest of a slot this replica holds the claim and the lease of, and records it. A post that
   * got no answer (`uncertain`) keeps claim and lease for the reconciliation. One the platform refused sent
   * nothing out: a lasting error marks the conversation unreachable; otherwise it is retried after
   * `retryDelayMs`, and after `maxPostAttempts` the slot is given up (`abandonDigestSlot`, so the
   * reconciliation does not retry it either). `release` frees the claim for a retry (the normal path); the
   * reconciliation has no earlier slot to go back to and keeps it (a retry finds the claim unrecorded).
   */
  private async postClaimed(p: {
    out: DigestOutcome;
    rollout: Rollout;
    view: DigestView;
    slot: string;
    late: boolean;
    now: Date;
    failed: { attempts: number } | undefined;
    leaseKey: string;
    checksFailed: boolean;
    release?: () => Promise<void>;
  }): Promise<DigestOutcome> {
    const { out, rollout, view, slot, now, leaseKey, checksFailed } = p;
    const id = rollout.id;
    const failKey = `${id}:${slot}`;
    let result: PostedDigest;
    try {
      result = await this.publishHome(rollout, view);
    } catch (err) {
      const attempts = (p.failed?.attempts ?? 0) + 1;
      this.failures.set(failKey, { attempts, retryAt: now.getTime() + this.o.retryDelayMs });
      // No answer (a timeout, a lost connection, a 5xx): the post may be in the conversation. Where the
      // platform can look, keep the claim and this replica's lease; the reconciliation of a later tick of
      // this replica (after the back-off) looks for it and records it, or posts it. Other replicas stay off
      // until the lease lapses, so a post that lands late is not raced by a second one.
      if (isPlatformError(err) && err.uncertain && this.o.platforms.get(rollout.conversation.platform)?.publisher.findDigest) {
        this.log.warn({ err, rolloutId: id, slot }, 'digest post got no answer; it may have gone out, so the conversation is checked before any new post');
        return { ...out, checksFailed, view, skipped: 'post_failed' };
      }
      const lasting = isPlatformError(err) && err.kind === 'lasting';
      const giveUp = lasting || attempts >= this.o.maxPostAttempts;
      if (p.release && (!giveUp || lasting)) await p.release();
      if (lasting) {
        this.log.warn(
          { rolloutId: id, slot, code: err.code },
          'digest not posted: the conversation is unreachable; no retries until the bot can post there again',
        );
        await this.markUnreachable(rollout, err.code, err.hint);
      } else {
        // Given up: the claim stays (the slot is not posted by a later tick) and is marked so.
        if (giveUp) await this.o.service.abandonDigestSlot(id, slot);
        this.log.error(
          { err, rolloutId: id, slot, attempts, giveUp },
          giveUp ? 'digest post failed; giving up on this slot' : 'digest post failed; will retry',
        );
      }
      return { ...out, checksFailed, view, skipped: 'post_failed' };
    }
    this.failures.delete(failKey);

    const postedAt = this.clock.now();
    // Snapshot the steps the digest reported on, so changes made meanwhile show in the next one. Recorded
    // before the linked posts: their retries may outlast the lease, and a recorded slot is never looked
    // at again by another replica. Only the replica that recorded it posts the links (one that found the
    // slot recorded meanwhile leaves them to the replica that did).
    const recorded = await this.o.service.recordDigest(id, view.model, { at: postedAt, slot, detail: this.postedDetail(view, result, slot) }, SCHEDULER_ACTOR);
    if (recorded) await this.publishLinks(rollout, view);
    await this.o.store.leases.release(leaseKey, this.holder);
    this.log.info({ rolloutId: id, slot, late: p.late, checksFailed }, 'digest posted');
    return { ...out, posted: true, checksFailed, view, result };
  }

  /**
   * Reconciliation of a slot claimed but never recorded as posted (the process died between the claim and
   * the record; see the header). Returns undefined when there is nothing to reconcile here (then
   * `warnMissed` may log), else the outcome:
   * - the slot is too old (`maxLateMs`), was given up, or the home platform has no `findDigest` (the
   *   console, Teams without an app secret): nothing, as before (at most once);
   * - another replica holds the slot's lease (it may still be posting): `leased`;
   * - the platform finds the digest: recorded now (`recovered`), no post;
   * - the platform is sure it is not there: the checks, a post (late if past the grace period), the record;
   * - the platform cannot tell (a missing scope): nothing, once per process (at most once).
   */
  private async reconcile(listed: Rollout, now: Date): Promise<DigestOutcome | undefined> {
    const claim = unrecordedClaim(listed);
    if (!claim) return undefined;
    const { slot, at } = claim;
    const age = now.getTime() - at.getTime();
    if (age < 0 || age > (this.o.schedule?.maxLateMs ?? DEFAULT_MAX_LATE_MS)) return undefined;
    const publisher = this.o.platforms.get(listed.conversation.platform)?.publisher;
    if (!publisher?.findDigest) return undefined;
    const id = listed.id;
    const key = `${id}:${slot}`;
    if (this.cannotTell.has(key)) return undefined;
    const late = age > (this.o.schedule?.graceMs ?? DEFAULT_GRACE_MS);
    const out: DigestOutcome = { rolloutId: id, slot, late, preview: false, posted: false, checksFailed: false };

    const failed = this.failures.get(key);
    if (failed && failed.retryAt > now.getTime()) return { ...out, skipped: 'backoff' };
    // The slot's own lease: a live replica still posting it holds it; a dead one's lapses after leaseTtlMs.
    const leaseKey = `digest:${id}:${slot}`;
    if (!(await this.o.store.leases.acquire(leaseKey, this.holder, this.o.leaseTtlMs))) return { ...out, skipped: 'leased' };
    this.log.debug(
      { rolloutId: id, slot, lease: leaseKey, holder: this.holder, ttlMs: this.o.leaseTtlMs },
      'digest lease taken to reconcile an unrecorded claim',
    );
    const fresh = await this.o.store.rollouts.get(id);
    if (!fresh) return { ...out, skipped: 'gone' };
    const still = unrecordedClaim(fresh);
    if (!still || still.slot !== slot) return { ...out, skipped: 'claimed' };

    const since = new Date(at.getTime() - LOOKUP_MARGIN_MS);
    let lookup: DigestLookup;
    try {
      lookup = await publisher.findDigest(fresh.conversation, { rolloutId: id, slot }, since);
    } catch (err) {
      // Not known either way: post nothing now, ask again after the back-off.
      this.failures.set(key, { attempts: failed?.attempts ?? 0, retryAt: now.getTime() + this.o.retryDelayMs });
      await this.o.store.leases.release(leaseKey, this.holder);
      this.log.warn({ err, rolloutId: id, slot }, 'could not look for an unrecorded digest; asking again later');
      return { ...out, skipped: 'lookup_failed' };
    }

    if (lookup.status === 'unknown') {
      this.cannotTell.add(key);
      await this.o.store.leases.release(leaseKey, this.holder);
      this.warnOnce(
        `orphan:${id}:${slot}`,
        { rolloutId: id, slot, reason: lookup.reason },
        'digest slot claimed but not recorded as posted; the platform cannot tell whether it went out, so it is not posted again',
      );
      return { ...out, skipped: 'unknown' };
    }

    if (lookup.status === 'found') {
      // It went out before the process died: record it (snapshot, readiness, audit), post nothing.
      const view = this.view(fresh, { now, lastState: fresh.digest, slot });
      const result = lookup.digest;
      const { late: _late, ...detail } = this.postedDetail(view, result, slot);
      const recorded = await this.o.service.recordDigest(
        id,
        view.model,
        { at: this.clock.now(), slot, detail: { ...detail, recovered: true } },
        SCHEDULER_ACTOR,
      );
      this.failures.delete(key);
      // Links are posted after the record, so none was tried for a slot found unrecorded: post them.
      if (recorded) await this.completeLinks(fresh, view, slot, since);
      await this.o.store.leases.release(leaseKey, this.holder);
      this.log.info({ rolloutId: id, slot, ref: result.ref }, 'digest found posted but not recorded; recorded now, not posted again');
      return { ...out, late: false, recovered: true, result };
    }

    // Not there: it never went out. Post it now, as the normal path does (links included).
    this.log.info({ rolloutId: id, slot, late }, 'digest slot claimed but never posted; posting it now');
    if (this.o.planDueDates !== false && fresh.settings.goLive) await this.o.service.replanDueDates(id, 'fill', SCHEDULER_ACTOR);
    const checkRunFailed = await this.verify(fresh);
    const rollout = (await this.o.store.rollouts.get(id)) ?? fresh;
    const view = this.view(rollout, { now, lastState: rollout.digest, late, slot, ...(checkRunFailed ? { checkRunFailed } : {}) });
    return this.postClaimed({ out, rollout, view, slot, late, now, failed, leaseKey, checksFailed: !!checkRunFailed });
  }

  /**
   * Posts a digest to the rollout's home conversation (what the slot's outcome follows). Sent once where the
   * platform can look for it (`findDigest`): after an unclear answer the reconciliation looks instead of
   * the client posting it twice.
   */
  private async publishHome(rollout: Rollout, view: DigestView): Promise<PostedDigest> {
    const home = this.o.platforms.forConversation(rollout.conversation).publisher;
    return home.postDigest(rollout.conversation, view, view.card ?? rollout.card, { once: Boolean(home.findDigest) });
  }

  /**
   * Posts a digest to every linked conversation, each with a link to its own card, with the platform's own
   * retries (nothing looks for a linked post later). One that cannot be posted in is logged and skipped; it
   * does not undo the home post. Called after the home post is recorded (see postClaimed).
   */
  private async publishLinks(rollout: Rollout, view: DigestView): Promise<void> {
    for (const link of rollout.links ?? []) {
      try {
        const platform = this.o.platforms.get(link.conversation.platform);
        if (!platform) continue;
        await platform.publisher.postDigest(link.conversation, view, link.card);
      } catch (err) {
        this.log.warn({ err, rolloutId: rollout.id, conversation: link.conversation.channel }, 'digest not posted in a linked conversation');
      }
    }
  }

  /**
   * After a home digest found by the reconciliation and recorded here: the linked conversations get it.
   * Links are posted only after a slot is recorded, so a slot found unrecorded had none tried; a lookup
   * (where the platform can look) still skips one that has it, as a process of an earlier version may
   * have posted links before recording. A lookup that cannot tell, or fails, does not stop the post.
   */
  private async completeLinks(rollout: Rollout, view: DigestView, slot: string, since: Date): Promise<void> {
    for (const link of rollout.links ?? []) {
      const publisher = this.o.platforms.get(link.conversation.platform)?.publisher;
      if (!publisher) continue;
      try {
        const there = publisher.findDigest
          ? await publisher.findDigest(link.conversation, { rolloutId: rollout.id, slot }, since).catch((err: unknown) => {
              this.log.info({ err, rolloutId: rollout.id, conversation: link.conversation.channel }, 'linked conversation not looked at; posting');
              return undefined;
            })
          : undefined;
        if (there?.status === 'found') continue;
        await publisher.postDigest(link.conversation, view, link.card);
        this.log.info({ rolloutId: rollout.id, slot, conversation: link.conversation.channel }, 'digest posted in a linked conversation it had not reached');
      } catch (err) {
        this.log.warn({ err, rolloutId: rollout.id, conversation: link.conversation.channel }, 'digest not completed in a linked conversation');
      }
    }
  }

  /**
   * Records that the rollout's conversation cannot be posted in, and tells its admins once, by DM, what
   * happened and what to do (the platform's hint). Cleared by the next successful post there.
   */
  private async markUnreachable(rollout: Rollout, code: string, hint: Message): Promise<void> {
    const first = await this.o.service.markUnreachable(rollout.id, code);
    if (!first) return;
    for (const admin of rollout.settings.admins) {
      try {
        await this.o.platforms.notify(admin, rollout.settings.locale, (locale) => [
          tr(locale, 'digest.unreachable', { channel: { conversation: rollout.conversation } }),
          renderRich(locale, hint),
        ]);
      } catch (err) {
        this.log.warn({ err, rolloutId: rollout.id, admin }, 'could not tell an admin that the digest cannot be posted');
      }
    }
  }

  private view(rollout: Rollout, opts: Parameters<typeof buildDigestModel>[2]): DigestView {
    const template = this.o.service.templateFor(rollout);
    const model = buildDigestModel(template, rollout, opts);
    return buildDigestView(template, model);
  }

  /** Runs the verifier; returns why the checks could not run, or undefined when they ran. */
  private async verify(rollout: Rollout): Promise<Message | undefined> {
    if (!this.o.verifier) return undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.o.verifier(rollout),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new BwprepError('bitwarden_timeout', { key: 'digest.checks_timeout' })), this.o.verifierTimeoutMs);
          timer.unref?.();
        }),
      ]);
      return undefined;
    } catch (err) {
      this.log.warn({ err, rolloutId: rollout.id }, 'checks could not run before the digest');
      return isBwprepError(err) ? err.userMessage : { key: 'digest.checks_failed_unknown' };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private postedDetail(view: DigestView, result: PostedDigest, slot: string | undefined): Record<string, unknown> {
    const m = view.model;
    return {
      preview: m.preview,
      late: m.late,
      ...(slot ? { slot } : {}),
      checksFailed: !!m.checkRunFailed,
      stepsPct: m.readiness.stepsPct,
      hoursPct: m.readiness.hoursPct,
      ...(result.ref ? { ref: result.ref } : {}),
      ...(result.permalink ? { permalink: result.permalink } : {}),
    };
  }

  private warnMissed(r: Rollout, now: Date, opts: DueOptions): void {
    const missed = missedSlot(now, r.settings, r.digest.lastSlot, opts);
    if (missed)
      this.warnOnce(
        `missed:${r.id}:${missed.key}`,
        { rolloutId: r.id, slot: missed.key },
        'digest slot missed for too long (downtime); skipped, the next slot posts',
      );
    // A claim without a recorded post that the reconciliation could not settle (a platform without
    // findDigest, a slot too old): the process died between the two (see the header). A post always happens
    // after its slot's time, so a recorded post older than the slot means it never got recorded. (Only a
    // hint: a replica may still be posting a late slot right now.) A slot given up after failed posts is not
    // an unrecorded claim: it was logged then.
    const claim = unrecordedClaim(r);
    if (claim && now.getTime() - claim.at.getTime() > this.o.leaseTtlMs) {
      this.warnOnce(`orphan:${r.id}:${claim.slot}`, { rolloutId: r.id, slot: claim.slot }, 'digest slot claimed but not recorded as posted');
    }
  }

  private warnOnce(key: string, obj: object, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(obj, msg);
  }

  // ---- reminders ------------------------------------------------------------------------------

  private async reminders(rollouts: Rollout[]): Promise<TickResult['reminders']> {
    const now = this.clock.now();
    // Only owners with something to be reminded of need their time zone (a Slack API call behind the port).
    const owners = new Set<UserKey>();
    for (const r of rollouts) {
      const today = localDate(now, r.settings.timezone);
      for (const rec of Object.values(r.steps)) if (rec.owner && reminderKind(rec, today)) owners.add(rec.owner);
    }
    for (const u of owners) await this.userTz(u, now);
    this.pruneSent(now);
    const due = remindersDue(this.o.template, rollouts, now, (u) => this.tzCache.get(u)?.tz, this.sent, this.o.reminderOptions);
    const out: TickResult['reminders'] = [];
    for (const d of due) {
      try {
        out.push({ user: d.user, key: d.key, sent: await this.sendReminder(d, rollouts, now) });
      } catch (err) {
        this.log.error({ err, user: d.user, key: d.key }, 'reminder failed');
        out.push({ user: d.user, key: d.key, sent: false });
      }
    }
    return out;
  }

  /** Owner time zones, cached for `TZ_CACHE_MS` (people rarely move; the lookup is an API call). */
  private async userTz(user: UserKey, now: Date): Promise<void> {
    const platform = this.o.platforms.forUser(user);
    if (!platform) return;
    const hit = this.tzCache.get(user);
    if (hit && now.getTime() - hit.at < TZ_CACHE_MS) return;
    try {
      this.tzCache.set(user, { tz: (await platform.directory.profile(user)).tz, at: now.getTime() });
    } catch (err) {
      this.log.warn({ err, user }, 'owner time zone lookup failed; using the rollout time zone');
    }
  }

  private async sendReminder(d: ReminderDue, rollouts: Rollout[], now: Date): Promise<boolean> {
    const { kv, leases } = this.o.store;
    const platform = this.o.platforms.forUser(d.user);
    if (!platform?.notifier) {
      // An owner on a platform this process does not serve: nobody to deliver it, nothing recorded.
      this.warnOnce(`no-platform:${d.user}`, { user: d.user }, 'reminder not sent: the owner is on a platform this process does not serve');
      return false;
    }
    const failed = this.failures.get(d.key);
    if (failed && failed.retryAt > now.getTime()) return false;
    if (await kv.get(d.key)) {
      this.sent.add(d.key);
      return false;
    }
    if (!(await leases.acquire(d.key, this.holder, REMINDER_LEASE_MS))) {
      this.sent.add(d.key);
      return false;
    }
    await kv.set(d.key, { at: now.toISOString(), holder: this.holder }, REMINDER_SENT_TTL_MS);
    const unsend = async () => {
      await kv.delete(d.key);
      await leases.release(d.key, this.holder);
      this.failures.set(d.key, { attempts: (failed?.attempts ?? 0) + 1, retryAt: now.getTime() + this.o.retryDelayMs });
    };
    let delivered: boolean;
    try {
      const profile = await platform.directory.profile(d.user);
      const view = buildReminderView(this.o.template, d, rollouts, profile.locale);
      delivered = await platform.notifier.send(d.user, { kind: 'reminder', view });
    } catch (err) {
      await unsend();
      throw err;
    }
    if (!delivered) {
      // Recorded as sent only when it was delivered: free the key, try again after the back-off.
      await unsend();
      this.log.info({ user: d.user, key: d.key }, 'reminder not deliverable now');
      return false;
    }
    this.failures.delete(d.key);
    this.sent.add(d.key);
    this.log.info({ user: d.user, key: d.key, steps: d.steps.length }, 'reminder sent');
    return true;
  }

  /** Forget sent keys older than yesterday (keys end in the owner's date). */
  private pruneSent(now: Date): void {
    const cutoff = new Date(now.getTime() - 2 * 86_400_000).toISOString().slice(0, 10);
    for (const k of this.sent) if (k.slice(-10) < cutoff) this.sent.delete(k);
  }

  private async pool<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, items.length) }, worker));
    return results;
  }
}
