import { accessMap } from './access';
import type { StepCheck } from './types';
import { collectionLabel, evidence, listText, outcome } from './util';

/** 4b: item placement cannot be seen through the API (manual); warn on collections no group can reach. */
export const step4b: StepCheck = {
  stepId: '4b',
  needs: () => ['groups', 'collections'],
  async run(ctx) {
    const [groups, collections] = await Promise.all([ctx.snap.groups(), ctx.snap.collections()]);
    const { groupsOf } = accessMap(groups, collections);
    const unreachable = collections.filter((c) => !groupsOf.get(c.id)?.size).map(collectionLabel);
    const ev = evidence(ctx, {
      endpoint: 'GET /public/groups, GET /public/collections',
      counts: { collections: collections.length, withoutGroup: unreachable.length },
      offending: unreachable,
    });
    if (unreachable.length) return outcome('warn', 'check.4b.warn', { count: unreachable.length, items: listText(unreachable) }, ev);
    return outcome('manual', 'check.4b.manual', { count: collections.length }, ev);
  },
};
