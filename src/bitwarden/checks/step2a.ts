import type { StepCheck } from './types';
import { evidence, outcome, policyName } from './util';

/** 2a: every desired policy exists with `enabled: true`; an absent policy is a disabled one. */
export const step2a: StepCheck = {
  stepId: '2a',
  needs: () => ['policies'],
  async run(ctx) {
    const policies = await ctx.snap.policies();
    const desired = [...new Set(ctx.settings.desiredPolicies)].sort((a, b) => a - b);
    const enabled = new Set(policies.filter((p) => p.enabled).map((p) => p.type));
    const missing = desired.filter((t) => !enabled.has(t));
    // Policy names depend on the reader's language: the summary keeps the type numbers (`policies: "0,3"`)
    // and i18n looks the names up at render time (POLICY_LIST_VARS in src/i18n).
    const names = (types: number[]) => ({ policies: types.join(',') });
    const ev = evidence(ctx, {
      endpoint: 'GET /public/policies',
      counts: { desired: desired.length, enabled: desired.length - missing.length, configured: policies.length },
      offending: missing.map((t) => policyName('en', t)),
      detail: { desired, missing, enabledTypes: [...enabled].sort((a, b) => a - b) },
    });
    if (!desired.length) return outcome('pass', 'check.2a.none_desired', undefined, ev);
    if (missing.length) return outcome('fail', 'check.2a.fail', { count: missing.length, total: desired.length, ...names(missing) }, ev);
    return outcome('pass', 'check.2a.pass', { count: desired.length, ...names(desired) }, ev);
  },
};
