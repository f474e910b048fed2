import type { Collection, Group } from '../schemas';

/**
 * Group ↔ collection access from both directions: a group's `collections` and a collection's `groups`
 * (the latter is null in the list on servers before v2025.12.2, so the groups' view fills it in).
 */
export function accessMap(groups: Group[], collections: Collection[]): { groupsOf: Map<string, Set<string>>; collectionsOf: Map<string, Set<string>> } {
  const groupsOf = new Map<string, Set<string>>(collections.map((c) => [c.id, new Set((c.groups ?? []).map((g) => g.id))]));
  const collectionsOf = new Map<string, Set<string>>(groups.map((g) => [g.id, new Set<string>()]));
  for (const g of groups) {
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
