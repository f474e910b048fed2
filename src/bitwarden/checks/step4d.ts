import { MEMBER_STATUS, MEMBER_TYPE } from '../schemas';
import type { StepCheck } from './types';
import { evidence, listText, memberLabel, outcome } from './util';

/** 4d: enough confirmed owners (default 2: 1 warns, 0 fails); accepted-but-unconfirmed members warn. */
export const step4d: StepCheck = {
  stepId: '4d',
  // Stryker disable next-line ArrayDeclaration: equivalent — members are fetched up front whenever events are (verifier.ts), so only the timing changes
  needs: () => ['members'],
  async run(ctx) {
    const members = await ctx.snap.members();
    const confirmed = members.filter((m) => m.status === MEMBER_STATUS.confirmed);
    const owners = confirmed.filter((m) => m.type === MEMBER_TYPE.owner);
    const accepted = members.filter((m) => m.status === MEMBER_STATUS.accepted);
    const min = Math.max(1, ctx.settings.thresholds.minOwners);
    const count = (type: number) => confirmed.filter((m) => m.type === type).length;
    const ev = evidence(ctx, {
      endpoint: 'GET /public/members',
      counts: {
        confirmedOwners: owners.length,
        admins: count(MEMBER_TYPE.admin),
        custom: count(MEMBER_TYPE.custom),
        users: count(MEMBER_TYPE.user),
        acceptedUnconfirmed: accepted.length,
        minOwners: min,
      },
      offending: accepted.map(memberLabel),
      detail: { owners: owners.slice(0, 20).map(memberLabel) },
    });
    if (!owners.length) return outcome('fail', 'check.4d.fail_no_owner', { min }, ev);
    if (owners.length < min) return outcome('warn', 'check.4d.warn_owners', { owners: owners.length, min, names: listText(owners.map(memberLabel)) }, ev);
    if (accepted.length) return outcome('warn', 'check.4d.warn_accepted', { count: accepted.length, items: listText(accepted.map(memberLabel)) }, ev);
    return outcome('pass', 'check.4d.pass', { owners: owners.length, admins: count(MEMBER_TYPE.admin), custom: count(MEMBER_TYPE.custom) }, ev);
  },
};
