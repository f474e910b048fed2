import { DateTime } from 'luxon';
import type { Actor, AuditEntry, Rollout, StepRecord } from '../checklist/model';
import type { Template } from '../checklist/template';
import type { Clock, RolloutStore } from '../ports';
import { localDate } from '../time';

/**
 * Due dates planned backwards from go-live (the "Due dates" part).
 *
 * The rule, kept simple enough to explain in one breath:
 * - Work happens on the rollout's weekdays (its digest weekdays, Mon–Fri by default), with a budget of
 *   `hoursPerDay` (default 4) hours of rollout work per working day.
 * - Everything is due by the last working day *before* go-live (go-live day itself is for the switch).
 * - Phases run in order. Walking back from that day, the last phase's steps are due on it; each phase
 *   consumes its hours from the day budget backwards, and the phase before it is due on the day that
 *   phase starts (or the working day before, when that day's budget is used up). All steps of a phase
 *   share the phase's due date.
 * - Hours of every applicable step count (done ones too), so the plan does not shift as work completes;
 *   unestimated steps (step 6) take no budget. Not-applicable steps get no due date.
 * - No planned date lies before `today` (when given): a plan that does not fit is squeezed onto today and
 *   the digest's "does not fit" line tells the manager, instead of marking everything overdue at once.
 * - A manual due date (`dueSource: 'manual'`, or any due date without a source) always wins and is never
 *   touched. Planned dates are removed again when the go-live date is cleared.
 */

export const DEFAULT_HOURS_PER_DAY = 4;

export interface PlanOptions {
  hoursPerDay?: number;
  /** YYYY-MM-DD: no planned date earlier than this. */
  today?: string;
}

/**
 * `full` re-plans every non-manual step (after go-live, weekdays or hosting changed); `fill` only gives a
 * date to steps that have none (the daily pass before a digest), so a planned date that has passed stays
 * put and shows as overdue instead of sliding along with `today`.
 */
export type PlanMode = 'full' | 'fill';

const toDay = (ymd: string) => DateTime.fromISO(ymd, { zone: 'UTC' });
const fmt = (d: DateTime) => d.toFormat('yyyy-MM-dd');

function isWorkingDay(d: DateTime, weekdays: readonly number[]): boolean {
  return weekdays.includes(d.weekday);
}

/** The last working day strictly before `ymd`; undefined when there are no working days at all. */
export function previousWorkingDay(ymd: string, weekdays: readonly number[]): string | undefined {
  if (!weekdays.length) return undefined;
  let d = toDay(ymd).minus({ days: 1 });
  while (!isWorkingDay(d, weekdays)) d = d.minus({ days: 1 });
  return fmt(d);
}

/** Working days in [from, to) (YYYY-MM-DD): `from` inclusive, `to` exclusive. */
export function workingDaysBetween(from: string, to: string, weekdays: readonly number[]): number {
  let n = 0;
  for (let d = toDay(from), end = toDay(to); d < end; d = d.plus({ days: 1 })) if (isWorkingDay(d, weekdays)) n++;
  return n;
}

export interface Capacity {
  /** Working days from today (inclusive) up to go-live (exclusive). */
  workingDays: number;
  capacityHours: number;
  fits: boolean;
}

/** Whether `hoursLeft` fits in the working days from `today` up to (not including) `goLive`. */
export function capacityBeforeGoLive(
  hoursLeft: number,
  today: string,
  goLive: string,
  weekdays: readonly number[],
  hoursPerDay = DEFAULT_HOURS_PER_DAY,
): Capacity {
  const workingDays = goLive > today ? workingDaysBetween(today, goLive, weekdays) : 0;
  const capacityHours = workingDays * hoursPerDay;
  return { workingDays, capacityHours, fits: hoursLeft <= capacityHours };
}

export function fitsBeforeGoLive(hoursLeft: number, today: string, goLive: string, weekdays: readonly number[], hoursPerDay = DEFAULT_HOURS_PER_DAY): boolean {
  return capacityBeforeGoLive(hoursLeft, today, goLive, weekdays, hoursPerDay).fits;
}

/**
 * Estimates are decimal hours (0.3, 3.4) that binary floating point sums inexactly: 4 − 0.3 − 3.7 is 4.4e-16,
 * not 0. A day with less budget than this left is full, and a phase within this of the budget fits.
 */
const HOURS_EPSILON = 1e-9;

/**
 * Pure planning: the planned due date for every applicable step (ignoring manual dates, which the caller
 * keeps). Returns an empty map when go-live is unset or there are no working days.
 */
export function planDueDates(
  template: Template,
  steps: Record<string, Pick<StepRecord, 'state'>>,
  goLive: string | undefined,
  weekdays: readonly number[],
  opts: PlanOptions = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!goLive) return out;
  const perDay = opts.hoursPerDay ?? DEFAULT_HOURS_PER_DAY;
  let day = previousWorkingDay(goLive, weekdays);
  if (!day || perDay <= 0) return out;
  let left = perDay; // budget still free on `day`, counting backwards
  const phases = [...new Set(template.steps.map((s) => s.phase))].sort((a, b) => b - a);
  for (const phase of phases) {
    const inPhase = template.steps.filter((s) => s.phase === phase && steps[s.id] && steps[s.id]!.state !== 'not_applicable');
    if (!inPhase.length) continue;
    if (left <= HOURS_EPSILON) {
      day = previousWorkingDay(day, weekdays)!;
      left = perDay;
    }
    const due = opts.today && day < opts.today ? opts.today : day;
    for (const s of inPhase) out[s.id] = due;
    let hours = inPhase.reduce((sum, s) => sum + (s.hours ?? 0), 0);
    while (hours > left + HOURS_EPSILON) {
      hours -= left;
      day = previousWorkingDay(day, weekdays)!;
      left = perDay;
    }
    left -= hours;
  }
  return out;
}

/** A manual due date wins; a due date without a source predates planning and counts as manual. */
function isManualDue(rec: Pick<StepRecord, 'due' | 'dueSource'>): boolean {
  return !!rec.due && rec.dueSource !== 'planned';
}

export interface DueChange {
  stepId: string;
  from?: string;
  /** undefined: the planned date is removed (go-live cleared, or the step no longer applies). */
  to?: string;
}

/** The due-date changes planning would make to a rollout (manual dates untouched). */
export function planPatch(template: Template, rollout: Pick<Rollout, 'steps' | 'settings'>, opts: PlanOptions & { mode?: PlanMode } = {}): DueChange[] {
  const plan = planDueDates(template, rollout.steps, rollout.settings.goLive, rollout.settings.weekdays, opts);
  const changes: DueChange[] = [];
  for (const s of template.steps) {
    const rec = rollout.steps[s.id];
    if (!rec || isManualDue(rec)) continue;
    if (opts.mode === 'fill' && rec.due) continue;
    const to = plan[s.id];
    if (rec.due === to) continue;
    changes.push({ stepId: s.id, ...(rec.due ? { from: rec.due } : {}), ...(to ? { to } : {}) });
  }
  return changes;
}

/** Applies a patch in place (inside a store mutator). Steps that got a manual date meanwhile are left alone. */
export function applyDuePatch(rollout: Rollout, changes: DueChange[], at: string): DueChange[] {
  const applied: DueChange[] = [];
  for (const c of changes) {
    const rec = rollout.steps[c.stepId];
    if (!rec || isManualDue(rec)) continue;
    if (c.to) {
      rec.due = c.to;
      rec.dueSource = 'planned';
    } else {
      delete rec.due;
      delete rec.dueSource;
    }
    rec.updatedAt = at;
    applied.push(c);
  }
  return applied;
}

/**
 * Re-plans a stored rollout atomically (`full` after go-live, weekdays or hosting change; `fill` daily from
 * the scheduler): planned dates are written with one `step.due_set` audit entry each
 * (`detail.source = 'planned'`). Returns the changes made (empty when the plan already holds).
 */
export async function replanDueDates(
  store: RolloutStore,
  template: Template,
  rolloutId: string,
  clock: Clock,
  actor: Actor,
  opts: Omit<PlanOptions, 'today'> & { mode?: PlanMode } = {},
): Promise<{ rollout: Rollout; changes: DueChange[] }> {
  let changes: DueChange[] = [];
  const rollout = await store.update(rolloutId, (r) => {
    const at = clock.now().toISOString();
    const today = localDate(clock.now(), r.settings.timezone);
    changes = applyDuePatch(r, planPatch(template, r, { ...opts, today }), at);
    if (!changes.length) return null;
    const audit: AuditEntry[] = changes.map((c) => ({
      rolloutId: r.id,
      at,
      actor: actor.user,
      surface: actor.surface,
      action: 'step.due_set',
      stepId: c.stepId,
      ...(c.from ? { from: c.from } : {}),
      ...(c.to ? { to: c.to } : {}),
      detail: { source: 'planned' },
    }));
    return { rollout: r, audit };
  });
  return { rollout, changes };
}
