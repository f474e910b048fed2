import { isBwprepError } from '../../core/errors';
import type { SubscriptionProbe } from '../client';
import { isEndpointError, isRunLevel, serverMessageOf } from '../errors';
import { type Member, MEMBER_STATUS } from '../schemas';
import type { StepCheck } from './types';
import { evidence, isCloud, outcome } from './util';

/** What a failed extra endpoint looked like, for evidence. */
function failure(e: unknown): Record<string, string> {
  if (isRunLevel(e) || !isBwprepError(e)) throw e;
  if (!isEndpointError(e)) return { error: e.code, reason: e.message };
  const serverMessage = serverMessageOf(e.reason);
  return { endpoint: e.endpoint, error: e.code, reason: e.reason.message, ...(serverMessage ? { serverMessage } : {}) };
}

/**
 * 1a: the token is granted (organization enabled with API access); cloud: enough seats for active members.
 * The seat comparison is an extra: when the subscription or member endpoint fails, the token decides and the
 * evidence names the endpoint that failed.
 */
export const step1a: StepCheck = {
  stepId: '1a',
  needs: (h) => (isCloud(h) ? ['token', 'subscription', 'members'] : ['token']),
  async run(ctx) {
    await ctx.snap.token();
    if (!isCloud(ctx.hosting)) {
      return outcome('pass', 'check.1a.pass', undefined, evidence(ctx, { endpoint: 'POST /connect/token', detail: { tokenGranted: true } }));
    }
    const failed: Record<string, Record<string, string>> = {};
    const [sub, members] = await Promise.all([
      ctx.snap.subscription().catch((e: unknown): SubscriptionProbe => {
        failed.subscription = failure(e);
        return { status: 0, seats: null, maxAutoScaleSeats: null, message: null };
      }),
      ctx.snap.members().catch((e: unknown): Member[] | null => {
        failed.members = failure(e);
        return null;
      }),
    ]);
    const endpoint = 'POST /connect/token, GET /public/organization/subscription, GET /public/members';
    const extra = Object.keys(failed).length ? { failedEndpoints: failed } : {};
    if (!members) {
      return outcome('pass', 'check.1a.pass', undefined, evidence(ctx, { endpoint, detail: { tokenGranted: true, subscriptionStatus: sub.status, ...extra } }));
    }
    const active = members.filter(
      (m) => m.status === MEMBER_STATUS.invited || m.status === MEMBER_STATUS.accepted || m.status === MEMBER_STATUS.confirmed,
    ).length;
    // The probe gives seats only with a 200 answer (BitwardenClient.probeSubscription), so null covers every other status.
    if (sub.seats === null) {
      return outcome(
        'pass',
        'check.1a.pass_no_seats',
        { members: active },
        evidence(ctx, { endpoint, counts: { activeMembers: active }, detail: { tokenGranted: true, subscriptionStatus: sub.status, ...extra } }),
      );
    }
    const counts = { seats: sub.seats, activeMembers: active };
    if (sub.seats < active) {
      return outcome(
        'warn',
        'check.1a.warn_seats',
        { seats: sub.seats, members: active },
        evidence(ctx, { endpoint, counts, detail: { tokenGranted: true, maxAutoScaleSeats: sub.maxAutoScaleSeats } }),
      );
    }
    return outcome('pass', 'check.1a.pass_seats', { seats: sub.seats, members: active }, evidence(ctx, { endpoint, counts, detail: { tokenGranted: true } }));
  },
};
