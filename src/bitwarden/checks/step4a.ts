import type { StepCheck } from './types';
import { collectionLabel, evidence, outcome } from './util';

/** 4a: at least one shared collection exists (imports create collections; items are invisible to the API). */
export const step4a: StepCheck = {
  stepId: '4a',
  needs: () => ['collections'],
  async run(ctx) {
    const collections = await ctx.snap.collections();
    const ev = evidence(ctx, {
      endpoint: 'GET /public/collections',
      counts: { collections: collections.length },
      detail: { sample: collections.slice(0, 5).map(collectionLabel) },
    });
    if (!collections.length) return outcome('fail', 'check.4a.fail', undefined, ev);
    return outcome('pass', 'check.4a.pass', { count: collections.length }, ev);
  },
};
