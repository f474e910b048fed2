import type { StepCheck } from './types';
import { evidence, isCloud, notApplicableOnCloud, outcome } from './util';

/** 3a: the production licence is downloaded by an owner in the cloud web app; the API key cannot see it. */
export const step3a: StepCheck = {
  stepId: '3a',
  needs: () => [],
  async run(ctx) {
    if (isCloud(ctx.hosting)) return notApplicableOnCloud(ctx);
    return outcome('manual', 'check.3a.manual', undefined, evidence(ctx, { detail: { reason: 'licence not visible to the organization API key' } }));
  },
};
