import { MEMBER_STATUS } from '../schemas';
import type { StepCheck } from './types';
import { evidence, memberLabel, outcome, pct } from './util';

/** 6: confirmed / (invited + accepted + confirmed): ≥ pass% pass, ≥ warn% warn, else fail. */
export const step6: StepCheck = {
  stepId: '6',
  // Stryker disable next-line ArrayDeclaration: equivalent — members are fetched up front whenever events are (verifier.ts), so only the timing changes
  needs: () => ['members'],
  async run(ctx) {
    const members = await ctx.snap.members();
    const by = (s: number) => members.filter((m) => m.status === s);
    const invited = by(MEMBER_STATUS.invited);
    const accepted = by(MEMBER_STATUS.accepted);
    const confirmed = by(MEMBER_STATUS.confirmed);
    const total = invited.length + accepted.length + confirmed.length;
    const share = pct(confirmed.length, total);
    const exact = total ? (confirmed.length / total) * 100 : 0;
    const { onboardingPassPct: passPct, onboardingWarnPct: warnPct } = ctx.settings.thresholds;
    const ev = evidence(ctx, {
      endpoint: 'GET /public/members',
      counts: {
        invited: invited.length,
        accepted: accepted.length,
        confirmed: confirmed.length,
        revoked: by(MEMBER_STATUS.revoked).length,
        staged: by(MEMBER_STATUS.staged).length,
        pct: share,
      },
      offending: [...invited, ...accepted].map(memberLabel),
      detail: { passPct, warnPct, provisioned: members.filter((m) => m.externalId).length },
    });
    const vars = { confirmed: confirmed.length, total, pct: share, invited: invited.length, accepted: accepted.length, target: passPct };
    if (total === 0) return outcome('fail', 'check.6.fail_empty', undefined, ev);
    if (exact >= passPct) return outcome('pass', 'check.6.pass', vars, ev);
    if (exact >= warnPct) return outcome('warn', 'check.6.warn', vars, ev);
    return outcome('fail', 'check.6.fail', vars, ev);
  },
};
