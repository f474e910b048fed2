/**
 * A large, deterministic cloud organization for the verification benchmark, built with the fixture
 * builders of test/fixtures/bitwarden: members (3 owners, admins, custom roles, users; 2 % invited,
 * 1 % accepted), groups ↔ collections both ways, the desired policies, and events (logins from browser
 * extensions and the web vault, autofills) spread over the last 29 days.
 */
import type { EventJson, FixtureOrg } from '../../test/fakes/bitwarden-server';
import {
  CLOUD_CONFIG,
  collection,
  collectionId,
  DAY,
  event,
  FAKE_SECRET,
  group,
  groupId,
  HOUR,
  member,
  policy,
  userIdOf,
} from '../../test/fixtures/bitwarden/builders';

export interface BigOrgSpec {
  members: number;
  groups: number;
  collections: number;
  events: number;
}

const DEVICES = [2, 3, 5, 20, 9, 9, 9, 7];

export function bigOrg(now: Date, spec: BigOrgSpec): FixtureOrg {
  const members = Array.from({ length: spec.members }, (_, i) => {
    const n = i + 1;
    const status = n % 50 === 0 ? 0 : n % 100 === 1 && n > 1 ? 1 : 2;
    const type = n <= 3 ? 0 : n <= 13 ? 1 : n <= 23 ? 4 : 2;
    return member(n, {
      status,
      type,
      enrolled: status === 2 && n % 10 !== 0,
      ...(type === 4 ? { perms: { manageUsers: true, manageGroups: true } } : {}),
      ...(type === 2 ? { externalId: `ext-${n}` } : {}),
    });
  });
  // Each collection belongs to one group (round robin); each group lists its collections.
  const byGroup = new Map<number, string[]>();
  const collections = Array.from({ length: spec.collections }, (_, i) => {
    const g = (i % spec.groups) + 1;
    byGroup.set(g, [...(byGroup.get(g) ?? []), collectionId(i + 1)]);
    return collection(i + 1, [groupId(g)], i % 7 === 0 ? `ext-col-${i + 1}` : null);
  });
  const groups = Array.from({ length: spec.groups }, (_, i) => group(i + 1, `Group ${i + 1}`, byGroup.get(i + 1) ?? []));
  const policies = [
    policy(0, true),
    policy(1, true, {
      minComplexity: 4,
      minLength: 14,
      requireLower: true,
      requireUpper: true,
      requireNumbers: true,
      requireSpecial: false,
      enforceOnLogin: true,
    }),
    policy(2, false),
    policy(3, true),
    policy(8, true, { autoEnrollEnabled: true }),
  ];
  return {
    name: 'bench-10k',
    orgId: '4f1c2a3b-0000-4000-8000-0000000be0c4',
    clientSecret: FAKE_SECRET,
    kind: 'cloud',
    members,
    groups,
    collections,
    policies,
    events: eventsBetween(new Date(now.getTime() - 29 * DAY), new Date(now.getTime() - HOUR), spec.events, spec.members, 0),
    seats: spec.members + 500,
    config: CLOUD_CONFIG,
  };
}

/** `count` events evenly between `from` and `to` (oldest first), acting users cycling over the members. */
export function eventsBetween(from: Date, to: Date, count: number, members: number, salt: number): EventJson[] {
  const span = to.getTime() - from.getTime();
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(from.getTime() + Math.floor((span * i) / Math.max(1, count - 1)));
    const user = ((i * 7 + salt) % members) + 1;
    const device = DEVICES[(i + salt) % DEVICES.length] as number;
    return event(i % 5 === 4 ? 1114 : 1000, at, { actingUserId: userIdOf(user), device });
  });
}
