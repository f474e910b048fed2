import { accessDetail, accessMap, incompleteAccess } from './access';
import type { StepCheck } from './types';
import { collectionLabel, evidence, groupLabel, listText, outcome } from './util';

/** 4c: every group reaches at least one collection and every collection has at least one group. */
export const step4c: StepCheck = {
  stepId: '4c',
  needs: () => ['access'],
  async run(ctx) {
    const access = await ctx.snap.access();
    const endpoint = access.perIdReads
      ? `GET /public/groups, GET /public/collections, ${access.source === 'per-id groups' ? 'GET /public/groups/{id}' : 'GET /public/collections/{id}'}`
      : 'GET /public/groups, GET /public/collections';
    if (!access.complete) return incompleteAccess(ctx, access, endpoint);
    const { groups, collections } = access;
    const { groupsOf, collectionsOf } = accessMap(groups, collections);
    const lonelyGroups = groups.filter((g) => !collectionsOf.get(g.id)?.size);
    const lonelyCollections = collections.filter((c) => !groupsOf.get(c.id)?.size);
    const offending = [...lonelyGroups.map((g) => `group ${groupLabel(g)}`), ...lonelyCollections.map((c) => `collection ${collectionLabel(c)}`)];
    const ev = evidence(ctx, {
      endpoint,
      counts: {
        groups: groups.length,
        collections: collections.length,
        groupsWithoutCollection: lonelyGroups.length,
        collectionsWithoutGroup: lonelyCollections.length,
      },
      offending,
      detail: {
        ...accessDetail(access),
        groupsWithoutCollection: lonelyGroups.slice(0, 20).map((g) => g.id),
        collectionsWithoutGroup: lonelyCollections.slice(0, 20).map((c) => c.id),
      },
    });
    if (!groups.length) return outcome('fail', 'check.4c.fail_no_groups', { collections: collections.length }, ev);
    if (lonelyGroups.length || lonelyCollections.length) {
      return outcome(
        'fail',
        'check.4c.fail',
        {
          groups: lonelyGroups.length,
          collections: lonelyCollections.length,
          groupNames: listText(lonelyGroups.map((g) => g.name ?? g.id)) || '–',
          collectionIds:
            listText(
              lonelyCollections.map((c) => c.externalId ?? c.id),
              3,
            ) || '–',
        },
        ev,
      );
    }
    return outcome('pass', 'check.4c.pass', { groups: groups.length, collections: collections.length }, ev);
  },
};
