import { accessDetail, accessMap, incompleteAccess } from './access';
import type { StepCheck } from './types';
import { collectionLabel, evidence, listText, outcome } from './util';

/** 4b: item placement cannot be seen through the API (manual); warn on collections no group can reach. */
export const step4b: StepCheck = {
  stepId: '4b',
  needs: () => ['access'],
  async run(ctx) {
    const access = await ctx.snap.access();
    const endpoint = access.perIdReads
      ? `GET /public/groups, GET /public/collections, ${access.source === 'per-id groups' ? 'GET /public/groups/{id}' : 'GET /public/collections/{id}'}`
      : 'GET /public/groups, GET /public/collections';
    if (!access.complete) return incompleteAccess(ctx, access, endpoint);
    const { groups, collections } = access;
    const { groupsOf } = accessMap(groups, collections);
    const unreachable = collections.filter((c) => !groupsOf.get(c.id)?.size).map(collectionLabel);
    const ev = evidence(ctx, {
      endpoint,
      counts: { collections: collections.length, withoutGroup: unreachable.length },
      offending: unreachable,
      detail: accessDetail(access),
    });
    if (unreachable.length) return outcome('warn', 'check.4b.warn', { count: unreachable.length, items: listText(unreachable) }, ev);
    return outcome('manual', 'check.4b.manual', { count: collections.length }, ev);
  },
};
