import { MEMBER_STATUS, MEMBER_TYPE } from '../schemas';
import type { StepCheck } from './types';
import { evidence, listText, memberLabel, outcome } from './util';

/** 4e: at least one member with a Custom role (type 4) → pass; none → warn (custom roles are optional). */
export const step4e: StepCheck = {
  stepId: '4e',
  // Stryker disable next-line ArrayDeclaration: equivalent — members are fetched up front whenever events are (verifier.ts), so only the timing changes
  needs: () => ['members'],
  async run(ctx) {
    const members = await ctx.snap.members();
    const custom = members.filter((m) => m.type === MEMBER_TYPE.custom && m.status !== MEMBER_STATUS.revoked);
    const ev = evidence(ctx, {
      endpoint: 'GET /public/members',
      counts: { custom: custom.length },
      detail: {
        customMembers: custom.slice(0, 20).map((m) => ({
          member: memberLabel(m),
          permissions: Object.entries(m.permissions ?? {})
            .filter(([, v]) => v === true)
            .map(([k]) => k),
        })),
      },
    });
    if (!custom.length) return outcome('warn', 'check.4e.warn', undefined, ev);
    return outcome('pass', 'check.4e.pass', { count: custom.length, items: listText(custom.map(memberLabel)) }, ev);
  },
};
