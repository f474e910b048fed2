import type { StepCheck } from './types';
import { evidence, isCloud, notApplicableOnCloud, outcome } from './util';

/** 3c: billing sync is configured on the self-hosted server by an owner; the API key cannot see it. */
export const step3c: StepCheck = {
  stepId: '3c',
  needs: () => [],
  async run(ctx) {
    if (isCloud(ctx.hosting)) return notApplicableOnCloud(ctx);
    return outcome('manual', 'check.3c.manual', undefined, evidence(ctx, { detail: { reason: 'billing sync not visible to the organization API key' } }));
  },
};
