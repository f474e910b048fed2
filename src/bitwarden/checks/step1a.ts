import { isBwprepError } from '../../core/errors';
import type { SubscriptionProbe } from '../client';
import { isEndpointError, isRunLevel } from '../errors';
import { MEMBER_STATUS } from '../schemas';
import type { StepCheck } from './types';
import { evidence, isCloud, outcome } from './util';

/** 1a: the token is granted (organization enabled with API access); cloud: enough seats for active members. */
export const step1a: StepCheck = {
  stepId: '1a',
  needs: (h) => (isCloud(h) ? ['token', 'subscription', 'members'] : ['token']),
  async run(ctx) {
    await ctx.snap.token();
    if (!isCloud(ctx.hosting)) {
      return outcome('pass', 'check.1a.pass', undefined, evidence(ctx, { endpoint: 'POST /connect/token', detail: { tokenGranted: true } }));
    }
    // The seat count is a bonus: if only the subscription endpoint misbehaves, the token still decides.
    let subscriptionError: Record<string, string> | undefined;
    const [sub, members] = await Promise.all([
      ctx.snap.subscription().catch((e: unknown): SubscriptionProbe => {
        if (isRunLevel(e) || !isBwprepError(e)) throw e;
        subscriptionError = isEndpointError(e) ? { endpoint: e.endpoint, error: e.code, reason: e.reason.message } : { error: e.code, reason: e.message };
        return { status: 0, seats: null, maxAutoScaleSeats: null, message: e.code };
      }),
      ctx.snap.members(),
    ]);
    const active = members.filter((m) => m.status === MEMBER_STATUS.invited || m.status === MEMBER_STATUS.accepted || m.status === MEMBER_STATUS.confirmed).length;
    const endpoint = 'POST /connect/token, GET /public/organization/subscription, GET /public/members';
    if (sub.status !== 200 || sub.seats === null) {
      return outcome(
        'pass',
        'check.1a.pass_no_seats',
        { members: active },
        evidence(ctx, { endpoint, counts: { activeMembers: active }, detail: { tokenGranted: true, subscriptionStatus: sub.status, ...(subscriptionError ? { subscriptionError } : {}) } }),
      );
    }
    const counts = { seats: sub.seats, activeMembers: active };
    if (sub.seats < active) {
      return outcome('warn', 'check.1a.warn_seats', { seats: sub.seats, members: active }, evidence(ctx, { endpoint, counts, detail: { tokenGranted: true, maxAutoScaleSeats: sub.maxAutoScaleSeats } }));
    }
    return outcome('pass', 'check.1a.pass_seats', { seats: sub.seats, members: active }, evidence(ctx, { endpoint, counts, detail: { tokenGranted: true } }));
  },
};
