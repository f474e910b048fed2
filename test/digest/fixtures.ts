import { TestClock } from '../helpers/clock';
import {
  DEFAULT_DESIRED_POLICIES,
  DEFAULT_THRESHOLDS,
  type CheckRecord,
  type Hosting,
  type Locale,
  type Rollout,
  type RolloutSettings,
  type StepRecord,
} from '../../src/core/checklist/model';
import { appliesToHosting } from '../../src/core/checklist/readiness';
import type { Template } from '../../src/core/checklist/template';
import { loadTemplate } from '../../src/templates';

export const TEMPLATE: Template = loadTemplate();

/** A clock the test moves by hand. */
/** The digest tests start at 08:00 UTC (09:00 in Amsterdam) unless told otherwise. */
export class FakeClock extends TestClock {
  constructor(iso = '2026-11-25T08:00:00.000Z') {
    super(iso);
  }
}

export const AT = '2026-11-20T09:00:00.000Z';

/** A rollout of the built-in template: every step open (or excluded by hosting), Dutch, Amsterdam, 09:00 Mon–Fri. */
export function makeRollout(
  opts: { id?: string; locale?: Locale; hosting?: Hosting; settings?: Partial<RolloutSettings>; steps?: Record<string, Partial<StepRecord>> } = {},
): Rollout {
  const hosting = opts.hosting ?? 'self-hosted';
  const steps: Record<string, StepRecord> = {};
  for (const s of TEMPLATE.steps) {
    const applies = appliesToHosting(s, hosting);
    steps[s.id] = { id: s.id, state: applies ? 'open' : 'not_applicable', updatedAt: AT, ...(applies ? {} : { hostingExcluded: true }), ...opts.steps?.[s.id] };
  }
  const id = opts.id ?? 'slack:T0TEST:C0ROLLOUT';
  return {
    id,
    conversation: { platform: 'slack', workspace: 'T0TEST', channel: id.split(':').pop() ?? 'C0ROLLOUT', name: 'bitwarden-rollout' },
    templateId: TEMPLATE.id,
    templateVersion: TEMPLATE.version,
    settings: {
      locale: opts.locale ?? 'nl',
      hosting,
      timezone: 'Europe/Amsterdam',
      digestTime: '09:00',
      weekdays: [1, 2, 3, 4, 5],
      admins: ['slack:U0ADMIN'],
      desiredPolicies: [...DEFAULT_DESIRED_POLICIES],
      thresholds: { ...DEFAULT_THRESHOLDS },
      digestEnabled: true,
      ...opts.settings,
    },
    steps,
    digest: { history: [] },
    createdAt: AT,
    createdBy: 'slack:U0ADMIN',
    version: 0,
  };
}

export function check(status: CheckRecord['status'], key: string, vars?: Record<string, string | number>): CheckRecord {
  return { status, summary: { key, ...(vars ? { vars } : {}) }, evidence: {}, at: AT };
}
