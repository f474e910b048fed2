import { DateTime } from 'luxon';
import type { Rollout, StepRecord, UserKey } from '../checklist/model';
import type { Template } from '../checklist/template';
import { addDays, daysBetween, isValidTimeZone, localDate } from '../time';
import { localParts } from './schedule';

/**
 * Owner reminders (the "Reminders" part), as pure selection logic.
 *
 * - A step is *remindable* when it applies, is not done/verified/not applicable, has an owner and a due date
 *   that is today, tomorrow or past (dates in the rollout's time zone), and is not snoozed: `snoozedUntil`
 *   is inclusive, so "snooze a day" sets it to tomorrow and the reminder comes back the day after.
 *   Due *today* is included on purpose: the "due tomorrow" reminder went out yesterday, and a step due today
 *   and still open at the start of the owner's day is the most urgent kind.
 * - One reminder per owner per local day, across all rollouts, sent once the owner's own working day has
 *   started (`dayStart` in their time zone, their Slack `tz`, on `workdays`) and not after `dayEnd` (no DMs in
 *   the evening after downtime). The idempotency key `reminder:<user>:<YYYY-MM-DD>` (the owner's date) is
 *   what the scheduler takes a lease on and records as sent.
 */

export interface ReminderOptions {
  /** HH:mm, owner's local time. Default 09:00. */
  dayStart?: string;
  /** HH:mm, owner's local time; no reminder at or after it. Default 18:00. */
  dayEnd?: string;
  /** ISO weekdays the owner works. Default Mon–Fri. */
  workdays?: readonly number[];
}

const DEFAULT_REMINDER_OPTIONS: Required<ReminderOptions> = { dayStart: '09:00', dayEnd: '18:00', workdays: [1, 2, 3, 4, 5] };

export type ReminderKind = 'overdue' | 'today' | 'tomorrow';

export interface ReminderStep {
  rolloutId: string;
  stepId: string;
  due: string;
  kind: ReminderKind;
  /** Days past the due date (0 unless overdue). */
  daysOverdue: number;
}

export interface ReminderDue {
  user: UserKey;
  /** The owner's time zone used (their own, else the first rollout's). */
  timezone: string;
  /** The owner's local date. */
  date: string;
  /** `reminder:<user>:<YYYY-MM-DD>`: lease and sent-log key. */
  key: string;
  steps: ReminderStep[];
}

export function reminderKey(user: UserKey, date: string): string {
  return `reminder:${user}:${date}`;
}

/** The inclusive `snoozedUntil` for "snooze a day", pressed at `now`: tomorrow in the rollout's zone. */
export function snoozeDate(now: Date, rollout: Pick<Rollout, 'settings'>): string {
  return addDays(localDate(now, rollout.settings.timezone), 1);
}

/** Why a step gets a reminder today, or undefined. `today` is the rollout-local date. */
export function reminderKind(rec: StepRecord, today: string): ReminderKind | undefined {
  if (!rec.owner || !rec.due) return undefined;
  if (rec.state === 'done' || rec.state === 'verified' || rec.state === 'not_applicable') return undefined;
  if (rec.snoozedUntil && rec.snoozedUntil >= today) return undefined;
  if (rec.due < today) return 'overdue';
  if (rec.due === today) return 'today';
  if (rec.due === addDays(today, 1)) return 'tomorrow';
  return undefined;
}

/** Whether `now` falls in the owner's working window (weekday, between day start and end, local). */
function inWorkingWindow(now: Date, timezone: string, opts: ReminderOptions = {}): boolean {
  const o = { ...DEFAULT_REMINDER_OPTIONS, ...opts };
  const p = localParts(now, timezone);
  return o.workdays.includes(p.weekday) && p.time >= o.dayStart && p.time < o.dayEnd;
}

/**
 * The reminders to send at `now`: one per owner whose working day has started, who has remindable steps,
 * and whose key for today is not in `sentLog`. Steps are ordered most urgent first.
 */
export function remindersDue(
  template: Template,
  rollouts: readonly Rollout[],
  now: Date,
  userTz: (user: UserKey) => string | undefined,
  sentLog: { has(key: string): boolean },
  opts: ReminderOptions = {},
): ReminderDue[] {
  const byUser = new Map<UserKey, { timezone?: string; steps: ReminderStep[] }>();
  for (const rollout of rollouts) {
    const today = localDate(now, rollout.settings.timezone);
    for (const s of template.steps) {
      const rec = rollout.steps[s.id];
      if (!rec) continue;
      const kind = reminderKind(rec, today);
      if (!kind) continue;
      const owner = rec.owner!;
      const entry = byUser.get(owner) ?? { steps: [] };
      entry.timezone ??= rollout.settings.timezone;
      entry.steps.push({ rolloutId: rollout.id, stepId: s.id, due: rec.due!, kind, daysOverdue: kind === 'overdue' ? daysBetween(rec.due!, today) : 0 });
      byUser.set(owner, entry);
    }
  }
  const out: ReminderDue[] = [];
  const rank: Record<ReminderKind, number> = { overdue: 0, today: 1, tomorrow: 2 };
  for (const [user, entry] of byUser) {
    const own = userTz(user);
    const timezone = own && isValidTimeZone(own) ? own : (entry.timezone ?? 'UTC');
    if (!inWorkingWindow(now, timezone, opts)) continue;
    const date = DateTime.fromJSDate(now, { zone: timezone }).toFormat('yyyy-MM-dd');
    const key = reminderKey(user, date);
    if (sentLog.has(key)) continue;
    const steps = entry.steps.sort((a, b) => rank[a.kind] - rank[b.kind] || a.due.localeCompare(b.due));
    out.push({ user, timezone, date, key, steps });
  }
  return out.sort((a, b) => a.user.localeCompare(b.user));
}
