import type { StepCheck } from './types';
import { evidence, isCloud, notApplicableOnCloud, outcome } from './util';

/**
 * 3b: on a self-hosted server, a working token means the organization is enabled (the server disables
 * organizations without a valid licence), and the cloud-only subscription endpoint answering 400 confirms
 * the key belongs to the self-hosted organization.
 */
export const step3b: StepCheck = {
  stepId: '3b',
  needs: (h) => (isCloud(h) ? [] : ['token', 'subscription']),
  async run(ctx) {
    if (isCloud(ctx.hosting)) return notApplicableOnCloud(ctx);
    await ctx.snap.token();
    const sub = await ctx.snap.subscription();
    const ev = evidence(ctx, {
      endpoint: 'POST /connect/token, GET /public/organization/subscription',
      detail: { tokenGranted: true, subscriptionStatus: sub.status, ...(sub.message ? { message: sub.message } : {}) },
    });
    if (sub.status === 400) return outcome('pass', 'check.3b.pass', undefined, ev);
    if (sub.status === 200) return outcome('fail', 'check.3b.fail_cloud', undefined, ev);
    return outcome('warn', 'check.3b.warn_unknown', { status: sub.status }, ev);
  },
};
