import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Actor, AuditEntry, DigestState, Message, Rollout, UserKey } from '../core/checklist/model';
import type { Template } from '../core/checklist/template';
import { isBwprepError, BwprepError } from '../core/errors';
import { buildDigestModel, nextDigestState } from '../core/digest/model';
import { replanDueDates } from '../core/digest/planning';
import type { DigestPublisher, DigestVerifier, PostedDigest, ReminderSender, UserTimezoneLookup } from '../core/digest/ports';
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
 * Crash windows, and the choice made: the marker is written BEFORE posting and the result recorded AFTER
 * (lastPostedAt, the step snapshot for "what changed", the day's readiness, and a `digest.posted` audit
 * entry). That makes the digest **at most once** per slot:
 * - crash between claim and post → that slot's digest is lost (logged on a later tick as "claimed but not
 *   recorded"); never a double post. The next slot posts normally.
 * - crash between post and record → posted once; tomorrow's "what changed" covers two days.
 * - the publisher *throws* (Slack error, channel archived) → nothing went out, so the claim is rolled back
 *   and a later tick retries, with back-off, up to `maxPostAttempts`; the lease keeps other replicas off
 *   the slot meanwhile.
 * At-least-once (recording the slot only after posting) would double-post whenever a replica died right
 * after Slack accepted the message; for a daily digest in a manager channel a rare missing digest is the
 * lesser evil, and it is visible in the logs.
 *
 * ## Reminders
 * One DM per owner per owner-local day: key `reminder:<user>:<YYYY-MM-DD>`, taken as a lease (TTL 36 h, so
 * a restarted replica with a new holder id cannot take it again) and recorded in the kv store before
 * sending (at most once, like digests); a send that throws frees both for a later tick.
 */

export interface SchedulerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SchedulerOptions {
  store: Store;
  template: Template;
  publisher: DigestPublisher;
  clock?: Clock;
  logger?: SchedulerLogger;
  /** Tick interval for `start()`. Default 60 s. */
  intervalMs?: number;
  verifier?: DigestVerifier;
  /** The checks get this long before the digest goes out without them. Default 2 minutes. */
  verifierTimeoutMs?: number;
  reminderSender?: ReminderSender;
  userTimezone?: UserTimezoneLookup;
  reminderOptions?: ReminderOptions;
  /** How owners show in the digest text (a Slack mention). Default: the bare platform id. */
  formatUser?: (user: UserKey) => string;
  /** Unique per replica; default `<hostname>:<pid>:<random>`. */
  holder?: string;
  /** Digest lease TTL; must exceed verifier time + post time. Default 10 minutes. */
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
  /** Why nothing was posted. */
  skipped?: 'not_due' | 'leased' | 'claimed' | 'backoff' | 'post_failed' | 'disabled' | 'gone' | 'error';
}

export interface TickResult {
  digests: DigestOutcome[];
  reminders: { user: UserKey; key: string; sent: boolean }[];
}

export const SCHEDULER_ACTOR: Actor = { user: 'bwprep:scheduler', surface: 'scheduler' };
const REMINDER_LEASE_MS = 36 * 3_600_000;
const REMINDER_SENT_TTL_MS = 3 * 24 * 3_600_000;
const TZ_CACHE_MS = 6 * 3_600_000;

const noopLogger: SchedulerLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class Scheduler {
  private readonly o: Required<Pick<SchedulerOptions, 'intervalMs' | 'verifierTimeoutMs' | 'leaseTtlMs' | 'maxPostAttempts' | 'retryDelayMs' | 'concurrency'>> &
    SchedulerOptions;
  private readonly clock: Clock;
  private readonly log: SchedulerLogger;
  readonly holder: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<TickResult> | undefined;
  /** `<rolloutId>:<slot>` → attempts and the time before which not to retry. */
  private readonly failures = new Map<string, { attempts: number; retryAt: number }>();
  private readonly warned = new Set<string>();
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

  /** Stops ticking and waits for a tick in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass: due digests, then due reminders. Errors of one rollout or owner do not stop the others. */
  async tick(): Promise<TickResult> {
    const digests: DigestOutcome[] = [];
    // A page at a time where the store can (1,000 rollouts: peak RSS, bench/README.md), else all at once.
    for await (const page of this.rolloutPages()) {
      digests.push(
        ...(await this.pool(page, async (r) => {
          try {
            return await this.scheduledDigest(r);
          } catch (err) {
            this.log.error({ err, rolloutId: r.id }, 'digest failed');
            return { rolloutId: r.id, late: false, preview: false, posted: false, checksFailed: false, skipped: 'error' as const };
          }
        })),
      );
    }
    const reminders = this.o.reminderSender ? await this.reminders(await this.o.store.rollouts.list()) : [];
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
    const result = await this.o.publisher.postDigest(rollout, view);
    await this.o.store.audit.append([this.postedAudit(rollout, actor, now, view, result, undefined)]);
    return { rolloutId, late: false, preview: true, posted: true, checksFailed: !!checkRunFailed, view, result };
  }

  // ---- digests --------------------------------------------------------------------------------

  private async scheduledDigest(listed: Rollout): Promise<DigestOutcome> {
    const id = listed.id;
    const base = { rolloutId: id, late: false, preview: false, posted: false, checksFailed: false };
    if (!listed.settings.digestEnabled) return { ...base, skipped: 'disabled' };
    const now = this.clock.now();
    let due: DueSlot | undefined;
    try {
      const opts: DueOptions = { ...this.o.schedule, notBefore: new Date(listed.createdAt) };
      due = dueSlot(now, listed.settings, listed.digest.lastSlot, opts);
      if (!due) this.warnMissed(listed, now, opts);
    } catch (err) {
      this.warnOnce(`schedule:${id}`, { err, rolloutId: id }, 'invalid digest schedule; no digest');
      return { ...base, skipped: 'not_due' };
    }
    if (!due) return { ...base, skipped: 'not_due' };
    const slot = due.key;
    const out = { ...base, slot, late: due.late };

    const failKey = `${id}:${slot}`;
    const failed = this.failures.get(failKey);
    if (failed && failed.retryAt > now.getTime()) return { ...out, skipped: 'backoff' };

    const leaseKey = `digest:${id}:${slot}`;
    if (!(await this.o.store.leases.acquire(leaseKey, this.holder, this.o.leaseTtlMs))) return { ...out, skipped: 'leased' };

    // Another replica may have posted between our list() and the lease.
    const fresh = await this.o.store.rollouts.get(id);
    if (!fresh) return { ...out, skipped: 'gone' };
    if (alreadyPosted(due, fresh.digest.lastSlot)) return { ...out, skipped: 'claimed' };

    if (this.o.planDueDates !== false && fresh.settings.goLive) {
      await replanDueDates(this.o.store.rollouts, this.o.template, id, this.clock, SCHEDULER_ACTOR, { mode: 'fill' });
    }
    const checkRunFailed = await this.verify(fresh);

    // The claim (see the header): conditional, atomic; only the winner posts.
    let claimed = false;
    let before: DigestState | undefined;
    const rollout = await this.o.store.rollouts.update(id, (r) => {
      claimed = false;
      if (alreadyPosted(due, r.digest.lastSlot)) return null;
      before = r.digest;
      r.digest = { ...r.digest, lastSlot: slot };
      claimed = true;
      return { rollout: r, audit: [] };
    });
    if (!claimed || !before) return { ...out, skipped: 'claimed' };
    const prev = before;

    const view = this.view(rollout, { now, lastState: prev, late: due.late, slot, ...(checkRunFailed ? { checkRunFailed } : {}) });
    let result: PostedDigest;
    try {
      result = await this.o.publisher.postDigest(rollout, view);
    } catch (err) {
      const attempts = (failed?.attempts ?? 0) + 1;
      const giveUp = attempts >= this.o.maxPostAttempts;
      this.failures.set(failKey, { attempts, retryAt: now.getTime() + this.o.retryDelayMs });
      if (!giveUp) {
        // Nothing went out: free the slot for a retry (only if it is still our claim).
        await this.o.store.rollouts.update(id, (r) => {
          if (r.digest.lastSlot !== slot) return null;
          const digest: DigestState = { ...r.digest };
          if (prev.lastSlot) digest.lastSlot = prev.lastSlot;
          else delete digest.lastSlot;
          r.digest = digest;
          return { rollout: r, audit: [] };
        });
      }
      this.log.error({ err, rolloutId: id, slot, attempts, giveUp }, giveUp ? 'digest post failed; giving up on this slot' : 'digest post failed; will retry');
      return { ...out, checksFailed: !!checkRunFailed, view, skipped: 'post_failed' };
    }
    this.failures.delete(failKey);

    const postedAt = this.clock.now();
    await this.o.store.rollouts.update(id, (r) => {
      // Snapshot the steps the digest reported on, so changes made meanwhile show in the next one.
      r.digest = nextDigestState(r.digest, view.model, rollout, postedAt, slot);
      return { rollout: r, audit: [this.postedAudit(r, SCHEDULER_ACTOR, postedAt, view, result, slot)] };
    });
    await this.o.store.leases.release(leaseKey, this.holder);
    this.log.info({ rolloutId: id, slot, late: due.late, checksFailed: !!checkRunFailed }, 'digest posted');
    return { ...out, posted: true, checksFailed: !!checkRunFailed, view, result };
  }

  private view(rollout: Rollout, opts: Parameters<typeof buildDigestModel>[2]): DigestView {
    const model = buildDigestModel(this.o.template, rollout, opts);
    return buildDigestView(this.o.template, model, this.o.formatUser ? { formatUser: this.o.formatUser } : {});
  }

  /** Runs the verifier; returns why the checks could not run, or undefined when they ran. */
  private async verify(rollout: Rollout): Promise<Message | undefined> {
    if (!this.o.verifier) return undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.o.verifier(rollout),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new BwprepError('bitwarden_timeout', { key: 'digest.checks_timeout' })),
            this.o.verifierTimeoutMs,
          );
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

  private postedAudit(r: Rollout, actor: Actor, at: Date, view: DigestView, result: PostedDigest, slot: string | undefined): AuditEntry {
    const m = view.model;
    return {
      rolloutId: r.id,
      at: at.toISOString(),
      actor: actor.user,
      surface: actor.surface,
      action: 'digest.posted',
      ...(slot ? { to: slot } : {}),
      detail: {
        preview: m.preview,
        late: m.late,
        ...(slot ? { slot } : {}),
        checksFailed: !!m.checkRunFailed,
        stepsPct: m.readiness.stepsPct,
        hoursPct: m.readiness.hoursPct,
        ...(result.ref ? { ref: result.ref } : {}),
        ...(result.permalink ? { permalink: result.permalink } : {}),
      },
    };
  }

  private warnMissed(r: Rollout, now: Date, opts: DueOptions): void {
    const missed = missedSlot(now, r.settings, r.digest.lastSlot, opts);
    if (missed) this.warnOnce(`missed:${r.id}:${missed.key}`, { rolloutId: r.id, slot: missed.key }, 'digest slot missed for too long (downtime); skipped, the next slot posts');
    // A claim without a recorded post: the process died between the two (see the header).
    // A post always happens after its slot's time, so a recorded post older than the slot means it never
    // got recorded. (Only a hint: a replica may still be posting a late slot right now.)
    const last = r.digest.lastSlot;
    const at = last ? slotInstant(last, r.settings.timezone) : undefined;
    if (last && at && (!r.digest.lastPostedAt || Date.parse(r.digest.lastPostedAt) < at.getTime()) && now.getTime() - at.getTime() > this.o.leaseTtlMs) {
      this.warnOnce(`orphan:${r.id}:${last}`, { rolloutId: r.id, slot: last }, 'digest slot claimed but not recorded as posted');
    }
  }

  private warnOnce(key: string, obj: object, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(obj, msg);
  }

  // ---- reminders ------------------------------------------------------------------------------

  private async reminders(rollouts: Rollout[]): Promise<TickResult['reminders']> {
    const sender = this.o.reminderSender!;
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
        out.push({ user: d.user, key: d.key, sent: await this.sendReminder(sender, d, rollouts, now) });
      } catch (err) {
        this.log.error({ err, user: d.user, key: d.key }, 'reminder failed');
        out.push({ user: d.user, key: d.key, sent: false });
      }
    }
    return out;
  }

  /** Owner time zones, cached for `TZ_CACHE_MS` (people rarely move; the lookup is an API call). */
  private async userTz(user: UserKey, now: Date): Promise<void> {
    if (!this.o.userTimezone) return;
    const hit = this.tzCache.get(user);
    if (hit && now.getTime() - hit.at < TZ_CACHE_MS) return;
    try {
      this.tzCache.set(user, { tz: await this.o.userTimezone(user), at: now.getTime() });
    } catch (err) {
      this.log.warn({ err, user }, 'owner time zone lookup failed; using the rollout time zone');
    }
  }

  private async sendReminder(sender: ReminderSender, d: ReminderDue, rollouts: Rollout[], now: Date): Promise<boolean> {
    const { kv, leases } = this.o.store;
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
    try {
      await sender.sendReminder(d.user, buildReminderView(this.o.template, d, rollouts), d);
    } catch (err) {
      await kv.delete(d.key);
      await leases.release(d.key, this.holder);
      const attempts = (failed?.attempts ?? 0) + 1;
      this.failures.set(d.key, { attempts, retryAt: now.getTime() + this.o.retryDelayMs });
      throw err;
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
