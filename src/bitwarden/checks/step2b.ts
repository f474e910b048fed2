import { MEMBER_STATUS, POLICY_TYPES } from '../schemas';
import type { StepCheck } from './types';
import { evidence, outcome, pct } from './util';

/** `data` keys are whatever was stored: compare case-insensitively. */
function flag(data: Record<string, unknown> | null, name: string): boolean | null {
  if (!data) return null;
  const k = Object.keys(data).find((x) => x.toLowerCase() === name.toLowerCase());
  const v = k === undefined ? undefined : data[k];
  return typeof v === 'boolean' ? v : null;
}

/** 2b: account recovery (policy 8) and its prerequisite single organization (3) enabled; enrolment as evidence. */
export const step2b: StepCheck = {
  stepId: '2b',
  needs: () => ['policies', 'members'],
  async run(ctx) {
    const [policies, members] = await Promise.all([ctx.snap.policies(), ctx.snap.members()]);
    const reset = policies.find((p) => p.type === POLICY_TYPES.resetPassword);
    const single = policies.find((p) => p.type === POLICY_TYPES.singleOrg);
    const resetOn = reset?.enabled === true;
    const singleOn = single?.enabled === true;
    const autoEnroll = flag(reset?.data ?? null, 'autoEnrollEnabled') ?? false;
    const confirmed = members.filter((m) => m.status === MEMBER_STATUS.confirmed);
    const enrolled = confirmed.filter((m) => m.resetPasswordEnrolled).length;
    const ev = evidence(ctx, {
      endpoint: 'GET /public/policies, GET /public/members',
      counts: { confirmedMembers: confirmed.length, enrolled, enrolledPct: pct(enrolled, confirmed.length) },
      offending: confirmed.filter((m) => !m.resetPasswordEnrolled).map((m) => m.email ?? m.id),
      detail: { resetPasswordPolicy: resetOn, singleOrgPolicy: singleOn, autoEnrollEnabled: autoEnroll },
    });
    const vars = { enrolled, confirmed: confirmed.length, pct: pct(enrolled, confirmed.length) };
    if (!resetOn && !singleOn) return outcome('fail', 'check.2b.fail_both', vars, ev);
    if (!resetOn) return outcome('fail', 'check.2b.fail_reset', vars, ev);
    if (!singleOn) return outcome('fail', 'check.2b.fail_single', vars, ev);
    return outcome('pass', autoEnroll ? 'check.2b.pass_auto' : 'check.2b.pass_manual', vars, ev);
  },
};
