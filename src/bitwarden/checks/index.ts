import { step1a } from './step1a';
import { step2a } from './step2a';
import { step2b } from './step2b';
import { step3a } from './step3a';
import { step3b } from './step3b';
import { step3c } from './step3c';
import { step4a } from './step4a';
import { step4b } from './step4b';
import { step4c } from './step4c';
import { step4d } from './step4d';
import { step4e } from './step4e';
import { step5a } from './step5a';
import { step5b } from './step5b';
import { step6 } from './step6';
import type { StepCheck } from './types';

export type { AccessData, CheckContext, Resource, Snapshot, StepCheck } from './types';

/** The check for each step of the built-in template, by step id (DESIGN §5). */
export const CHECKS: Readonly<Record<string, StepCheck>> = Object.fromEntries(
  [step1a, step2a, step2b, step3a, step3b, step3c, step4a, step4b, step4c, step4d, step4e, step5a, step5b, step6].map((c) => [c.stepId, c]),
);

export function checkFor(stepId: string): StepCheck | undefined {
  return CHECKS[stepId.toLowerCase()];
}
