import type { CheckStatus, DigestDay, DigestState, Message, MessageRef, Rollout, StepState, UserKey } from '../checklist/model';
import { isComplete, readiness, type Readiness } from '../checklist/readiness';
import type { Template } from '../checklist/template';
import { daysBetween, localDate } from '../time';
import { capacityBeforeGoLive, DEFAULT_HOURS_PER_DAY, type Capacity } from './planning';

/**
 * The digest as platform-free data (DESIGN §6): numbers and step lists, no wording. `src/views/digest.ts`
 * turns it into localized text; Slack and Teams render that.
 */

/** How many days of readiness the trend shows (today included). */
const TREND_DAYS = 5;
/** How many days of history `DigestState.history` keeps. */
export const HISTORY_DAYS = 30;

export interface DigestChanges {
  /** Claimed done since the last digest. */
  done: string[];
  /** Verified by a check since the last digest (also a failing step that passes again). */
  verified: string[];
  /** Back to open (reopened by someone). */
  reopened: string[];
  /** Was done or verified, the check now fails (drift). */
  drifted: string[];
  /** Skipped (not applicable) since the last digest. */
  skipped: string[];
}

export interface FailingCheck {
  stepId: string;
  state: StepState;
  status: CheckStatus;
  /** The check's one-line reason, rendered by the view. */
  summary?: Message;
  owner?: UserKey;
}

export interface OverdueStep {
  stepId: string;
  due: string;
  daysOverdue: number;
  owner?: UserKey;
}

export interface GoLiveInfo extends Capacity {
  date: string;
  /** Calendar days from today; 0 = today, negative = passed. */
  daysLeft: number;
  hoursLeft: number;
}

export interface DigestModel {
  rolloutId: string;
  locale: Rollout['settings']['locale'];
  timezone: string;
  /** YYYY-MM-DD, rollout tz. */
  today: string;
  generatedAt: string;
  preview: boolean;
  late: boolean;
  /** The slot this digest stands for (scheduled digests). */
  slot?: string;
  readiness: Readiness;
  /** Undefined on the first digest (nothing to compare with). */
  changes?: DigestChanges;
  failing: FailingCheck[];
  overdue: OverdueStep[];
  /** Applicable, incomplete steps without an owner. */
  unassigned: string[];
  goLive?: GoLiveInfo;
  /** Readiness per day, oldest first, today last. */
  trend: DigestDay[];
  /** Why the checks could not run before this digest (then the figures are from the last run). */
  checkRunFailed?: Message;
  /** No step of the rollout has ever been checked against Bitwarden: the figures are people's claims only. */
  neverChecked?: true;
  card?: MessageRef;
}

export interface DigestOptions {
  now: Date;
  /** The digest state before this digest (normally `rollout.digest`). */
  lastState?: DigestState;
  checkRunFailed?: Message;
  preview?: boolean;
  late?: boolean;
  slot?: string;
  hoursPerDay?: number;
}

function diffStates(before: Record<string, StepState>, rollout: Pick<Rollout, 'steps'>, template: Template): DigestChanges {
  const c: DigestChanges = { done: [], verified: [], reopened: [], drifted: [], skipped: [] };
  for (const s of template.steps) {
    const now = rollout.steps[s.id]?.state;
    const was = before[s.id];
    if (!now || !was || now === was) continue;
    if (now === 'done' && !isComplete(was)) c.done.push(s.id);
    else if (now === 'verified') c.verified.push(s.id);
    else if (now === 'open') c.reopened.push(s.id);
    else if (now === 'failing' && isComplete(was)) c.drifted.push(s.id);
    else if (now === 'not_applicable') c.skipped.push(s.id);
  }
  return c;
}

export function changeCount(c: DigestChanges): number {
  return c.done.length + c.verified.length + c.reopened.length + c.drifted.length + c.skipped.length;
}

export function buildDigestModel(template: Template, rollout: Rollout, opts: DigestOptions): DigestModel {
  const tz = rollout.settings.timezone;
  const today = localDate(opts.now, tz);
  const r = readiness(template, rollout);
  const last = opts.lastState ?? rollout.digest;

  const failing: FailingCheck[] = [];
  const overdue: OverdueStep[] = [];
  const unassigned: string[] = [];
  for (const s of template.steps) {
    const rec = rollout.steps[s.id];
    if (!rec || rec.state === 'not_applicable') continue;
    const complete = isComplete(rec.state);
    if (rec.state === 'failing' || rec.lastCheck?.status === 'fail') {
      failing.push({
        stepId: s.id,
        state: rec.state,
        status: rec.lastCheck?.status ?? 'fail',
        ...(rec.lastCheck ? { summary: rec.lastCheck.summary } : {}),
        ...(rec.owner ? { owner: rec.owner } : {}),
      });
    }
    if (!complete && rec.due && rec.due < today) {
      overdue.push({ stepId: s.id, due: rec.due, daysOverdue: daysBetween(rec.due, today), ...(rec.owner ? { owner: rec.owner } : {}) });
    }
    if (!complete && !rec.owner) unassigned.push(s.id);
  }

  let goLive: GoLiveInfo | undefined;
  if (rollout.settings.goLive) {
    const cap = capacityBeforeGoLive(r.hoursLeft, today, rollout.settings.goLive, rollout.settings.weekdays, opts.hoursPerDay ?? DEFAULT_HOURS_PER_DAY);
    goLive = { ...cap, date: rollout.settings.goLive, daysLeft: daysBetween(today, rollout.settings.goLive), hoursLeft: r.hoursLeft };
  }

  const past = last.history.filter((d) => d.date < today).slice(-(TREND_DAYS - 1));
  const trend: DigestDay[] = [...past, { date: today, stepsPct: r.stepsPct, hoursPct: r.hoursPct }];

  return {
    rolloutId: rollout.id,
    locale: rollout.settings.locale,
    timezone: tz,
    today,
    generatedAt: opts.now.toISOString(),
    preview: !!opts.preview,
    late: !!opts.late && !opts.preview,
    ...(opts.slot ? { slot: opts.slot } : {}),
    readiness: r,
    ...(last.lastStates ? { changes: diffStates(last.lastStates, rollout, template) } : {}),
    failing,
    overdue,
    unassigned,
    ...(goLive ? { goLive } : {}),
    trend,
    ...(opts.checkRunFailed ? { checkRunFailed: opts.checkRunFailed } : {}),
    ...(Object.values(rollout.steps).some((rec) => rec.lastCheck) ? {} : { neverChecked: true as const }),
    ...(rollout.card ? { card: rollout.card } : {}),
  };
}

/**
 * The digest state after a scheduled digest was posted: the slot, a snapshot of the step states (the base
 * of tomorrow's "what changed"), and today's readiness in the history (replacing an earlier value for the
 * same day), capped at `HISTORY_DAYS`. Previews do not call this: they change nothing.
 */
export function nextDigestState(prev: DigestState, model: DigestModel, rollout: Pick<Rollout, 'steps'>, postedAt: Date, slot?: string): DigestState {
  const lastStates: Record<string, StepState> = {};
  for (const [id, rec] of Object.entries(rollout.steps)) lastStates[id] = rec.state;
  const today: DigestDay = { date: model.today, stepsPct: model.readiness.stepsPct, hoursPct: model.readiness.hoursPct };
  const history = [...prev.history.filter((d) => d.date !== model.today), today].sort((a, b) => a.date.localeCompare(b.date)).slice(-HISTORY_DAYS);
  const lastSlot = slot ?? model.slot ?? prev.lastSlot;
  return {
    ...prev,
    ...(lastSlot ? { lastSlot, postedSlot: lastSlot } : {}),
    lastPostedAt: postedAt.toISOString(),
    lastStates,
    history,
  };
}
