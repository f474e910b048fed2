import { PER_ID_READ_LIMIT } from '../budget';
import type { Collection, Group } from '../schemas';
import type { AccessData, CheckContext, CheckOutcome } from './types';
import { evidence, outcome } from './util';

/**
 * Group ↔ collection access from both directions: a group's `collections` and a collection's `groups`
 * (either may be null in the lists on older servers; RunSnapshot.access fills one side in per id). A group
 * with `accessAll` (servers before mid-2024) reaches every collection.
 */
export function accessMap(groups: Group[], collections: Collection[]): { groupsOf: Map<string, Set<string>>; collectionsOf: Map<string, Set<string>> } {
  const groupsOf = new Map<string, Set<string>>(collections.map((c) => [c.id, new Set((c.groups ?? []).map((g) => g.id))]));
  const collectionsOf = new Map<string, Set<string>>(groups.map((g) => [g.id, new Set<string>()]));
  for (const g of groups) {
    if (g.accessAll) {
      for (const c of collections) {
        groupsOf.get(c.id)!.add(g.id);
        collectionsOf.get(g.id)!.add(c.id);
      }
      continue;
    }
    for (const a of g.collections ?? []) {
      // Only collections the list shows (default "My items" collections are hidden from it).
      if (!groupsOf.has(a.id)) continue;
      groupsOf.get(a.id)!.add(g.id);
      collectionsOf.get(g.id)!.add(a.id);
    }
  }
  for (const c of collections) {
    for (const a of c.groups ?? []) collectionsOf.get(a.id)?.add(c.id);
  }
  return { groupsOf, collectionsOf };
}

/** Evidence detail on where the associations came from. */
export function accessDetail(a: AccessData): Record<string, unknown> {
  return { associations: a.source, perIdReads: a.perIdReads, accessAllGroups: a.groups.filter((g) => g.accessAll).length };
}

/**
 * `manual` when the server did not send every association (never `fail` on data that is not there): the
 * reason and how many items are unknown.
 */
export function incompleteAccess(ctx: CheckContext, a: AccessData, endpoint: string): CheckOutcome {
  const key = a.reason === 'too_many' ? 'check.access.manual_over_limit' : 'check.access.manual_not_sent';
  return outcome(
    'manual',
    key,
    { missing: a.missing ?? 0, limit: PER_ID_READ_LIMIT },
    evidence(ctx, {
      endpoint,
      counts: { groups: a.groups.length, collections: a.collections.length, unknownAssociations: a.missing ?? 0 },
      detail: { ...accessDetail(a), reason: a.reason ?? null },
    }),
  );
}
