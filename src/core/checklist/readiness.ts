import type { Hosting, Rollout, StepRecord, StepState } from './model';
import type { Template, TemplateStep } from './template';

export function appliesToHosting(step: TemplateStep, hosting: Hosting): boolean {
  if (step.appliesTo === 'all') return true;
  if (step.appliesTo === 'self-hosted') return hosting === 'self-hosted';
  return hosting !== 'self-hosted';
}

export function isComplete(state: StepState): boolean {
  return state === 'done' || state === 'verified';
}

export interface Readiness {
  /** Steps that apply (not hosting-excluded, not skipped). */
  applicable: number;
  /** Applicable steps done or verified. */
  complete: number;
  verified: number;
  failing: number;
  /** Sum of estimated hours over applicable steps (steps without an estimate count 0 here). */
  hoursTotal: number;
  hoursDone: number;
  hoursLeft: number;
  /** Applicable steps without an estimate (step 6): "not estimated", never 0. */
  unestimated: number;
  /** Incomplete steps without an estimate. */
  unestimatedOpen: number;
  stepsPct: number;
  hoursPct: number;
}

const round1 = (n: number) => Math.round(n * 100) / 100;

export function readiness(template: Template, rollout: Pick<Rollout, 'steps'>): Readiness {
  let applicable = 0;
  let complete = 0;
  let verified = 0;
  let failing = 0;
  let hoursTotal = 0;
  let hoursDone = 0;
  let unestimated = 0;
  let unestimatedOpen = 0;
  for (const step of template.steps) {
    const rec: StepRecord | undefined = rollout.steps[step.id];
    if (!rec || rec.state === 'not_applicable') continue;
    applicable++;
    const done = isComplete(rec.state);
    if (done) complete++;
    if (rec.state === 'verified') verified++;
    if (rec.state === 'failing') failing++;
    if (step.hours === null) {
      unestimated++;
      if (!done) unestimatedOpen++;
      continue;
    }
    hoursTotal += step.hours;
    if (done) hoursDone += step.hours;
  }
  return {
    applicable,
    complete,
    verified,
    failing,
    hoursTotal: round1(hoursTotal),
    hoursDone: round1(hoursDone),
    hoursLeft: round1(hoursTotal - hoursDone),
    unestimated,
    unestimatedOpen,
    stepsPct: applicable ? Math.round((complete / applicable) * 100) : 0,
    hoursPct: hoursTotal ? Math.round((hoursDone / hoursTotal) * 100) : 0,
  };
}

/** Total estimated hours of the steps that apply to a hosting (7.5 self-hosted, 5.5 cloud for the built-in template). */
export function totalHours(template: Template, hosting: Hosting): number {
  return round1(template.steps.filter((s) => appliesToHosting(s, hosting)).reduce((sum, s) => sum + (s.hours ?? 0), 0));
}
