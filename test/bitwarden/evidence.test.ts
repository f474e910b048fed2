import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { step1a } from '../../src/bitwarden/checks/step1a';
import type { CheckContext, Snapshot } from '../../src/bitwarden/checks/types';
import { DEFAULT_THRESHOLDS, type Hosting } from '../../src/core/checklist/model';
import { BwprepError } from '../../src/core/errors';
import type { CheckOutcome, VerificationSettings } from '../../src/core/verification/ports';
import { type FakeBitwardenServer, type FixtureOrg, type GroupJson, startFakeBitwarden, startTlsFakeBitwarden } from '../fakes/bitwarden-server';
import {
  assoc,
  CLOUD_CONFIG,
  collection,
  collectionId,
  DAY,
  event,
  FAKE_SECRET,
  group,
  groupId,
  member,
  policy,
  selfHostedConfig,
  userIdOf,
} from '../fixtures/bitwarden';
import { credentialsOf, makeVerification, NOW, settingsFor } from './helpers';

/*
 * What each check reports for a given organization — status, the summary's key and variables, and the
 * evidence recorded with it (endpoint, counts, detail, offending items with their order and cap) — stated
 * exactly, one organization per row. The evidence is what a user sees in the check report and the exported
 * readiness report, and what an auditor relies on, so every field is compared with toEqual.
 * Written for the mutants StrykerJS left alive in src/bitwarden/checks/; each row was checked to fail
 * on the hand-applied mutants it is meant to kill.
 */

let server: FakeBitwardenServer;
beforeAll(async () => {
  server = await startFakeBitwarden();
});
afterAll(async () => {
  await server.stop();
});
afterEach(() => {
  server.pageSize = 50;
});

const AT = NOW.toISOString();
const ago = (ms: number) => new Date(NOW.getTime() - ms);
/** The first day of the 30-day event window (5b's `since`, the events' first-run `start`). */
const WINDOW_START = ago(30 * DAY).toISOString();
/** The events' `end`: now − 30 s. */
const WINDOW_END = new Date(NOW.getTime() - 30_000).toISOString();

const ENDPOINT_1A = 'POST /connect/token, GET /public/organization/subscription, GET /public/members';
const ENDPOINT_LISTS = 'GET /public/groups, GET /public/collections';

// Member statuses and types as the Public API sends them (reference §3.1).
const INVITED = 0;
const ACCEPTED = 1;
const CONFIRMED = 2;
const REVOKED = -1;
const STAGED = 3;
const OWNER = 0;
const ADMIN = 1;
const USER = 2;
const CUSTOM = 4;

/** A small organization; everything not given is empty. */
function org(kind: 'cloud' | 'self-hosted', parts: Partial<FixtureOrg> = {}): FixtureOrg {
  return {
    name: 'evidence',
    orgId: '4f1c2a3b-0000-4000-8000-00000000e001',
    clientSecret: FAKE_SECRET,
    kind,
    members: [],
    groups: [],
    collections: [],
    policies: [],
    events: [],
    seats: null,
    config: kind === 'cloud' ? CLOUD_CONFIG : selfHostedConfig('2026.8.0'),
    ...parts,
  };
}

/** Runs the steps against the organization and returns the first one's outcome. */
async function run(
  o: FixtureOrg,
  hosting: Hosting,
  steps: string[],
  settings: Partial<VerificationSettings> = {},
  deps: Parameters<typeof makeVerification>[2] = {},
): Promise<Record<string, CheckOutcome>> {
  server.load(o);
  const h = makeVerification(server, hosting, deps);
  return h.verification.verify({
    rolloutId: 'evidence',
    settings: { ...settingsFor(hosting, server), ...settings },
    credentials: credentialsOf(server),
    stepIds: steps,
  });
}

/** The host:port of the fake's API, as 5a names it. */
const host = () => new URL(server.url).host;

interface Row {
  name: string;
  step: string;
  hosting: Hosting;
  org: () => FixtureOrg;
  settings?: Partial<VerificationSettings>;
  /** What the person sees; a function because some values name the fake's port. */
  expected: () => CheckOutcome;
}

function table(rows: Row[]): void {
  for (const r of rows) {
    it(r.name, async () => {
      const out = await run(r.org(), r.hosting, [r.step], r.settings);
      expect(out[r.step]).toEqual(r.expected());
    });
  }
}

// ---- 1a: API key and seats -----------------------------------------------------------------------

/** One member of every status: invited, accepted and confirmed are active (3); revoked and staged are not. */
const oneOfEach = () => [
  member(1, { status: CONFIRMED, type: OWNER, email: 'owner@example.com' }),
  member(2, { status: ACCEPTED, type: USER, email: 'accepted@example.com' }),
  member(3, { status: INVITED, type: USER, email: 'invited@example.com' }),
  member(4, { status: REVOKED, type: USER, email: 'revoked@example.com' }),
  member(5, { status: STAGED, type: USER, email: 'staged@example.com' }),
];

describe('1a: token, seats and active members', () => {
  table([
    {
      name: 'self-hosted: the token alone passes, from POST /connect/token',
      step: '1a',
      hosting: 'self-hosted',
      org: () => org('self-hosted', { members: oneOfEach() }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.1a.pass' },
        evidence: { endpoint: 'POST /connect/token', detail: { tokenGranted: true }, at: AT },
      }),
    },
    {
      name: 'cloud: seats equal to the active members pass',
      step: '1a',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: oneOfEach(), seats: 3 }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.1a.pass_seats', vars: { seats: 3, members: 3 } },
        evidence: { endpoint: ENDPOINT_1A, counts: { seats: 3, activeMembers: 3 }, detail: { tokenGranted: true }, at: AT },
      }),
    },
    {
      name: 'cloud: one seat fewer than the active members warns, with the auto-scale limit',
      step: '1a',
      hosting: 'cloud-eu',
      org: () => org('cloud', { members: oneOfEach(), seats: 2 }),
      expected: () => ({
        status: 'warn',
        summary: { key: 'check.1a.warn_seats', vars: { seats: 2, members: 3 } },
        evidence: { endpoint: ENDPOINT_1A, counts: { seats: 2, activeMembers: 3 }, detail: { tokenGranted: true, maxAutoScaleSeats: null }, at: AT },
      }),
    },
    {
      name: 'cloud: a subscription without seats passes on the token and counts the active members',
      step: '1a',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: oneOfEach(), seats: null }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.1a.pass_no_seats', vars: { members: 3 } },
        evidence: { endpoint: ENDPOINT_1A, counts: { activeMembers: 3 }, detail: { tokenGranted: true, subscriptionStatus: 200 }, at: AT },
      }),
    },
  ]);

  it('cloud: a member list that cannot be read passes on the token and names the failed endpoint', async () => {
    const o = org('cloud', { members: oneOfEach(), seats: 3, faults: [{ path: '/public/members', kind: 'malformed' }] });
    const out = await run(o, 'cloud-us', ['1a']);
    expect(out['1a']).toEqual({
      status: 'pass',
      summary: { key: 'check.1a.pass' },
      evidence: {
        endpoint: ENDPOINT_1A,
        detail: {
          tokenGranted: true,
          subscriptionStatus: 200,
          failedEndpoints: {
            members: {
              endpoint: 'GET /public/members',
              error: 'bitwarden_bad_response',
              reason: `unexpected response from ${host()}/public/members: body is not JSON`,
            },
          },
        },
        at: AT,
      },
    });
  });

  it('a failure that names no endpoint is recorded with its code and reason (Snapshot contract)', async () => {
    // RunSnapshot wraps every per-endpoint failure in an EndpointError; another Snapshot may not.
    const snap: Snapshot = {
      token: () => Promise.resolve(),
      subscription: () =>
        Promise.reject(new BwprepError('bitwarden_timeout', { key: 'bw.error.timeout' }, { detail: 'timeout 127.0.0.1: UND_ERR_HEADERS_TIMEOUT' })),
      members: () => Promise.resolve([]),
      config: () => Promise.reject(new Error('not read by 1a')),
      groups: () => Promise.reject(new Error('not read by 1a')),
      collections: () => Promise.reject(new Error('not read by 1a')),
      access: () => Promise.reject(new Error('not read by 1a')),
      policies: () => Promise.reject(new Error('not read by 1a')),
      events: () => Promise.reject(new Error('not read by 1a')),
    };
    const ctx: CheckContext = { hosting: 'cloud-us', settings: settingsFor('cloud-us'), snap, apiUrl: 'https://api.bitwarden.com', now: NOW };
    expect(await step1a.run(ctx)).toEqual({
      status: 'pass',
      summary: { key: 'check.1a.pass_no_seats', vars: { members: 0 } },
      evidence: {
        endpoint: ENDPOINT_1A,
        counts: { activeMembers: 0 },
        detail: {
          tokenGranted: true,
          subscriptionStatus: 0,
          failedEndpoints: { subscription: { error: 'bitwarden_timeout', reason: 'timeout 127.0.0.1: UND_ERR_HEADERS_TIMEOUT' } },
        },
        at: AT,
      },
    });
  });
});

// ---- 2a: desired policies -------------------------------------------------------------------------

describe('2a: desired policies', () => {
  // Served in this order: the evidence sorts by type number.
  const policies = () => [policy(8, true), policy(2, true), policy(0, true), policy(3, false)];
  table([
    {
      name: 'missing policies are named in type order, duplicates in the setting counted once',
      step: '2a',
      hosting: 'cloud-us',
      org: () => org('cloud', { policies: policies() }),
      settings: { desiredPolicies: [3, 1, 0, 3] },
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.2a.fail', vars: { count: 2, total: 3, policies: '1,3' } },
        evidence: {
          endpoint: 'GET /public/policies',
          counts: { desired: 3, enabled: 1, configured: 4 },
          items: ['Master password requirements (1)', 'Single organization (3)'],
          detail: { desired: [0, 1, 3], missing: [1, 3], enabledTypes: [0, 2, 8] },
          at: AT,
        },
      }),
    },
    {
      name: 'every desired policy on passes with them all in type order',
      step: '2a',
      hosting: 'cloud-us',
      org: () => org('cloud', { policies: policies() }),
      settings: { desiredPolicies: [8, 2, 0] },
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.2a.pass', vars: { count: 3, policies: '0,2,8' } },
        evidence: {
          endpoint: 'GET /public/policies',
          counts: { desired: 3, enabled: 3, configured: 4 },
          items: [],
          detail: { desired: [0, 2, 8], missing: [], enabledTypes: [0, 2, 8] },
          at: AT,
        },
      }),
    },
    {
      name: 'no desired policy passes as "none desired"',
      step: '2a',
      hosting: 'cloud-us',
      org: () => org('cloud', { policies: policies() }),
      settings: { desiredPolicies: [] },
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.2a.none_desired' },
        evidence: {
          endpoint: 'GET /public/policies',
          counts: { desired: 0, enabled: 0, configured: 4 },
          items: [],
          detail: { desired: [], missing: [], enabledTypes: [0, 2, 8] },
          at: AT,
        },
      }),
    },
  ]);
});

// ---- 2b: account recovery ---------------------------------------------------------------------------

describe('2b: account recovery and single organization', () => {
  /** 3 confirmed (2 enrolled), 1 accepted and 1 invited (not counted, even when enrolled). */
  const members = () => [
    member(1, { status: CONFIRMED, type: OWNER, email: 'ada@example.com', enrolled: true }),
    member(2, { status: CONFIRMED, type: USER, email: 'bram@example.com', enrolled: false }),
    member(3, { status: CONFIRMED, type: USER, email: 'carla@example.com', enrolled: true }),
    member(4, { status: ACCEPTED, type: USER, email: 'dirk@example.com', enrolled: true }),
    member(5, { status: INVITED, type: USER, email: 'eva@example.com' }),
  ];
  const vars = { enrolled: 2, confirmed: 3, pct: 66.7 };
  const ev = (detail: Record<string, boolean>) => ({
    endpoint: 'GET /public/policies, GET /public/members',
    counts: { confirmedMembers: 3, enrolled: 2, enrolledPct: 66.7 },
    items: ['bram@example.com'],
    detail,
    at: AT,
  });
  table([
    {
      name: 'both on with automatic enrolment (a data key of any case, after other settings) passes "auto"',
      step: '2b',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: members(), policies: [policy(3, true), policy(8, true, { someFutureSetting: 'x', AutoEnrollEnabled: true })] }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.2b.pass_auto', vars },
        evidence: ev({ resetPasswordPolicy: true, singleOrgPolicy: true, autoEnrollEnabled: true }),
      }),
    },
    {
      name: 'both on, recovery policy without data: manual enrolment',
      step: '2b',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: members(), policies: [policy(3, true), policy(8, true, null)] }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.2b.pass_manual', vars },
        evidence: ev({ resetPasswordPolicy: true, singleOrgPolicy: true, autoEnrollEnabled: false }),
      }),
    },
    {
      name: 'recovery off, single organization on: fails on recovery',
      step: '2b',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: members(), policies: [policy(3, true), policy(8, false, { autoEnrollEnabled: true })] }),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.2b.fail_reset', vars },
        evidence: ev({ resetPasswordPolicy: false, singleOrgPolicy: true, autoEnrollEnabled: true }),
      }),
    },
    {
      name: 'recovery on, single organization absent: fails on single organization',
      step: '2b',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: members(), policies: [policy(8, true, { autoEnrollEnabled: false })] }),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.2b.fail_single', vars },
        evidence: ev({ resetPasswordPolicy: true, singleOrgPolicy: false, autoEnrollEnabled: false }),
      }),
    },
    {
      name: 'both off: fails on both',
      step: '2b',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: members(), policies: [policy(3, false), policy(0, true)] }),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.2b.fail_both', vars },
        evidence: ev({ resetPasswordPolicy: false, singleOrgPolicy: false, autoEnrollEnabled: false }),
      }),
    },
    {
      name: 'no confirmed member yet: 0 of 0 enrolled is 0 %',
      step: '2b',
      hosting: 'cloud-us',
      org: () =>
        org('cloud', { members: [member(5, { status: INVITED, type: OWNER, email: 'eva@example.com' })], policies: [policy(3, true), policy(8, true)] }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.2b.pass_manual', vars: { enrolled: 0, confirmed: 0, pct: 0 } },
        evidence: {
          endpoint: 'GET /public/policies, GET /public/members',
          counts: { confirmedMembers: 0, enrolled: 0, enrolledPct: 0 },
          items: [],
          detail: { resetPasswordPolicy: true, singleOrgPolicy: true, autoEnrollEnabled: false },
          at: AT,
        },
      }),
    },
  ]);
});

// ---- 3a, 3b, 3c: licence and billing sync -------------------------------------------------------

describe('3a, 3b, 3c: licence, licence probe and billing sync', () => {
  const na = (hosting: Hosting): CheckOutcome => ({
    status: 'not_applicable',
    summary: { key: 'check.na_cloud', vars: { hosting } },
    evidence: { detail: { hosting }, at: AT },
  });
  const SUB = 'POST /connect/token, GET /public/organization/subscription';
  table([
    {
      name: '3a self-hosted: manual, the key cannot see the licence',
      step: '3a',
      hosting: 'self-hosted',
      org: () => org('self-hosted'),
      expected: () => ({
        status: 'manual',
        summary: { key: 'check.3a.manual' },
        evidence: { detail: { reason: 'licence not visible to the organization API key' }, at: AT },
      }),
    },
    { name: '3a cloud: not applicable, naming the hosting', step: '3a', hosting: 'cloud-eu', org: () => org('cloud'), expected: () => na('cloud-eu') },
    {
      name: '3c self-hosted: manual, the key cannot see billing sync',
      step: '3c',
      hosting: 'self-hosted',
      org: () => org('self-hosted'),
      expected: () => ({
        status: 'manual',
        summary: { key: 'check.3c.manual' },
        evidence: { detail: { reason: 'billing sync not visible to the organization API key' }, at: AT },
      }),
    },
    { name: '3c cloud: not applicable', step: '3c', hosting: 'cloud-us', org: () => org('cloud'), expected: () => na('cloud-us') },
    { name: '3b cloud: not applicable', step: '3b', hosting: 'cloud-us', org: () => org('cloud'), expected: () => na('cloud-us') },
    {
      name: '3b self-hosted: the subscription endpoint answering 400 passes, with the server message',
      step: '3b',
      hosting: 'self-hosted',
      org: () => org('self-hosted'),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.3b.pass' },
        evidence: { endpoint: SUB, detail: { tokenGranted: true, subscriptionStatus: 400, message: 'Only allowed when not self hosted.' }, at: AT },
      }),
    },
    {
      name: '3b self-hosted: a cloud organization (200) fails',
      step: '3b',
      hosting: 'self-hosted',
      org: () => org('cloud', { seats: 10 }),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.3b.fail_cloud' },
        evidence: { endpoint: SUB, detail: { tokenGranted: true, subscriptionStatus: 200 }, at: AT },
      }),
    },
    {
      name: '3b self-hosted: any other answer (404) warns with the status',
      step: '3b',
      hosting: 'self-hosted',
      org: () => org('self-hosted', { faults: [{ path: '/public/organization/subscription', kind: 'status', status: 404 }] }),
      expected: () => ({
        status: 'warn',
        summary: { key: 'check.3b.warn_unknown', vars: { status: 404 } },
        evidence: { endpoint: SUB, detail: { tokenGranted: true, subscriptionStatus: 404 }, at: AT },
      }),
    },
  ]);
});

// ---- 4a: collections ------------------------------------------------------------------------------

describe('4a: shared collections', () => {
  table([
    {
      name: 'six collections pass; the evidence samples the first five',
      step: '4a',
      hosting: 'cloud-us',
      org: () => org('cloud', { collections: [1, 2, 3, 4, 5, 6].map((n) => collection(n, [], n === 2 ? 'finance' : null)) }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.4a.pass', vars: { count: 6 } },
        evidence: {
          endpoint: 'GET /public/collections',
          counts: { collections: 6 },
          detail: { sample: [collectionId(1), `finance (${collectionId(2)})`, collectionId(3), collectionId(4), collectionId(5)] },
          at: AT,
        },
      }),
    },
    {
      name: 'no collection fails',
      step: '4a',
      hosting: 'cloud-us',
      org: () => org('cloud'),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.4a.fail' },
        evidence: { endpoint: 'GET /public/collections', counts: { collections: 0 }, detail: { sample: [] }, at: AT },
      }),
    },
  ]);
});

// ---- 4b, 4c: groups ↔ collections -------------------------------------------------------------------

const LISTS = { associations: 'lists', perIdReads: 0, accessAllGroups: 0 };

/** `n` collections no group reaches (C1…Cn, external ids hr-1…), and group G1 with collection C100. */
function unreachable(n: number): FixtureOrg {
  return org('cloud', {
    groups: [group(1, 'IT', [collectionId(100)])],
    collections: [collection(100, [groupId(1)]), ...Array.from({ length: n }, (_, i) => collection(i + 1, [], `hr-${i + 1}`))],
  });
}
const hr = (n: number) => Array.from({ length: n }, (_, i) => `hr-${i + 1} (${collectionId(i + 1)})`);

describe('4b: collections no group reaches', () => {
  table([
    {
      name: 'six unreachable collections warn, five named and "(+1)"',
      step: '4b',
      hosting: 'cloud-us',
      org: () => unreachable(6),
      expected: () => ({
        status: 'warn',
        summary: { key: 'check.4b.warn', vars: { count: 6, items: `${hr(5).join(', ')} (+1)` } },
        evidence: { endpoint: ENDPOINT_LISTS, counts: { collections: 7, withoutGroup: 6 }, items: hr(6), detail: LISTS, at: AT },
      }),
    },
    {
      name: 'exactly five are all named, without a "(+0)"',
      step: '4b',
      hosting: 'cloud-us',
      org: () => unreachable(5),
      expected: () => ({
        status: 'warn',
        summary: { key: 'check.4b.warn', vars: { count: 5, items: hr(5).join(', ') } },
        evidence: { endpoint: ENDPOINT_LISTS, counts: { collections: 6, withoutGroup: 5 }, items: hr(5), detail: LISTS, at: AT },
      }),
    },
    {
      name: 'twenty-two: the evidence lists twenty and says two more, next to the association detail',
      step: '4b',
      hosting: 'cloud-us',
      org: () => unreachable(22),
      expected: () => ({
        status: 'warn',
        summary: { key: 'check.4b.warn', vars: { count: 22, items: `${hr(5).join(', ')} (+17)` } },
        evidence: { endpoint: ENDPOINT_LISTS, counts: { collections: 23, withoutGroup: 22 }, items: hr(20), detail: { ...LISTS, moreItems: 2 }, at: AT },
      }),
    },
    {
      name: 'every collection reached: manual (item placement is not visible), with the count',
      step: '4b',
      hosting: 'cloud-us',
      org: () => unreachable(0),
      expected: () => ({
        status: 'manual',
        summary: { key: 'check.4b.manual', vars: { count: 1 } },
        evidence: { endpoint: ENDPOINT_LISTS, counts: { collections: 1, withoutGroup: 0 }, items: [], detail: LISTS, at: AT },
      }),
    },
  ]);
});

/** Groups G1…Gn without a collection, collections C1…Cm without a group, and a pair G100 ↔ C100 that is fine. */
function lonely(groups: number, collections: number): FixtureOrg {
  return org('cloud', {
    groups: [group(100, 'Everyone', [collectionId(100)]), ...Array.from({ length: groups }, (_, i) => group(i + 1, `Team ${i + 1}`, []))],
    collections: [collection(100, [groupId(100)]), ...Array.from({ length: collections }, (_, i) => collection(i + 1, [], i === 0 ? 'orphan' : null))],
  });
}
const gIds = (n: number) => Array.from({ length: n }, (_, i) => groupId(i + 1));
const cIds = (n: number) => Array.from({ length: n }, (_, i) => collectionId(i + 1));
const gItems = (n: number) => Array.from({ length: n }, (_, i) => `group Team ${i + 1} (${groupId(i + 1)})`);
const cItems = (n: number) => Array.from({ length: n }, (_, i) => `collection ${i === 0 ? `orphan (${collectionId(1)})` : collectionId(i + 1)}`);

describe('4c: every group has a collection and every collection a group', () => {
  table([
    {
      name: 'a group without a collection fails, even when every collection has a group',
      step: '4c',
      hosting: 'cloud-us',
      org: () => lonely(1, 0),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.4c.fail', vars: { groups: 1, collections: 0, groupNames: 'Team 1', collectionIds: '–' } },
        evidence: {
          endpoint: ENDPOINT_LISTS,
          counts: { groups: 2, collections: 1, groupsWithoutCollection: 1, collectionsWithoutGroup: 0 },
          items: gItems(1),
          detail: { ...LISTS, groupsWithoutCollection: gIds(1), collectionsWithoutGroup: [] },
          at: AT,
        },
      }),
    },
    {
      name: 'a collection without a group fails, named by its external id',
      step: '4c',
      hosting: 'cloud-us',
      org: () => lonely(0, 2),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.4c.fail', vars: { groups: 0, collections: 2, groupNames: '–', collectionIds: `orphan, ${collectionId(2)}` } },
        evidence: {
          endpoint: ENDPOINT_LISTS,
          counts: { groups: 1, collections: 3, groupsWithoutCollection: 0, collectionsWithoutGroup: 2 },
          items: cItems(2),
          detail: { ...LISTS, groupsWithoutCollection: [], collectionsWithoutGroup: cIds(2) },
          at: AT,
        },
      }),
    },
    {
      name: '22 lonely groups and 21 lonely collections: 20 of each in the detail, 20 items and 23 more',
      step: '4c',
      hosting: 'cloud-us',
      org: () => lonely(22, 21),
      expected: () => ({
        status: 'fail',
        summary: {
          key: 'check.4c.fail',
          vars: {
            groups: 22,
            collections: 21,
            groupNames: 'Team 1, Team 2, Team 3, Team 4, Team 5 (+17)',
            collectionIds: `orphan, ${collectionId(2)}, ${collectionId(3)} (+18)`,
          },
        },
        evidence: {
          endpoint: ENDPOINT_LISTS,
          counts: { groups: 23, collections: 22, groupsWithoutCollection: 22, collectionsWithoutGroup: 21 },
          items: gItems(20),
          detail: { ...LISTS, groupsWithoutCollection: gIds(20), collectionsWithoutGroup: cIds(20), moreItems: 23 },
          at: AT,
        },
      }),
    },
    {
      name: 'no group at all fails as such, with the collection count',
      step: '4c',
      hosting: 'cloud-us',
      org: () => org('cloud', { collections: [collection(1, [], 'orphan'), collection(2, [])] }),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.4c.fail_no_groups', vars: { collections: 2 } },
        evidence: {
          endpoint: ENDPOINT_LISTS,
          counts: { groups: 0, collections: 2, groupsWithoutCollection: 0, collectionsWithoutGroup: 2 },
          items: cItems(2),
          detail: { ...LISTS, groupsWithoutCollection: [], collectionsWithoutGroup: cIds(2) },
          at: AT,
        },
      }),
    },
    {
      name: 'a group that also reaches a collection the list hides ("My items") passes',
      step: '4c',
      hosting: 'cloud-us',
      org: () => org('cloud', { groups: [group(1, 'IT', [collectionId(1), collectionId(99)])], collections: [collection(1, [])] }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.4c.pass', vars: { groups: 1, collections: 1 } },
        evidence: {
          endpoint: ENDPOINT_LISTS,
          counts: { groups: 1, collections: 1, groupsWithoutCollection: 0, collectionsWithoutGroup: 0 },
          items: [],
          detail: { ...LISTS, groupsWithoutCollection: [], collectionsWithoutGroup: [] },
          at: AT,
        },
      }),
    },
  ]);
});

describe('4b, 4c on servers that leave the associations out of the lists', () => {
  const g = (id: string, collections: string[], extra: Partial<GroupJson> = {}): GroupJson => ({
    object: 'group',
    id,
    name: id,
    externalId: null,
    collections: collections.map((c) => assoc(c)),
    ...extra,
  });
  const c = (id: string, groups: string[]) => ({ object: 'collection' as const, id, externalId: null, groups: groups.map((x) => assoc(x)) });
  const quirks = { nullGroupCollections: true, nullCollectionGroups: true };
  /** One group, two collections: the group is read per id. */
  const perIdGroups = () => org('self-hosted', { groups: [g('G1', ['C1', 'C2'])], collections: [c('C1', ['G1']), c('C2', ['G1'])], quirks });
  /** Two groups, one collection: the collection is read per id. */
  const perIdCollections = () => org('self-hosted', { groups: [g('G1', ['C1']), g('G2', ['C1'])], collections: [c('C1', ['G1', 'G2'])], quirks });
  const BY_GROUP = `${ENDPOINT_LISTS}, GET /public/groups/{id}`;
  const BY_COLLECTION = `${ENDPOINT_LISTS}, GET /public/collections/{id}`;
  table([
    {
      name: '4b, groups read per id: the endpoint names GET /public/groups/{id}',
      step: '4b',
      hosting: 'self-hosted',
      org: perIdGroups,
      expected: () => ({
        status: 'manual',
        summary: { key: 'check.4b.manual', vars: { count: 2 } },
        evidence: {
          endpoint: BY_GROUP,
          counts: { collections: 2, withoutGroup: 0 },
          items: [],
          detail: { associations: 'per-id groups', perIdReads: 1, accessAllGroups: 0 },
          at: AT,
        },
      }),
    },
    {
      name: '4b, collections read per id: the endpoint names GET /public/collections/{id}',
      step: '4b',
      hosting: 'self-hosted',
      org: perIdCollections,
      expected: () => ({
        status: 'manual',
        summary: { key: 'check.4b.manual', vars: { count: 1 } },
        evidence: {
          endpoint: BY_COLLECTION,
          counts: { collections: 1, withoutGroup: 0 },
          items: [],
          detail: { associations: 'per-id collections', perIdReads: 1, accessAllGroups: 0 },
          at: AT,
        },
      }),
    },
    {
      name: '4c, groups read per id',
      step: '4c',
      hosting: 'self-hosted',
      org: perIdGroups,
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.4c.pass', vars: { groups: 1, collections: 2 } },
        evidence: {
          endpoint: BY_GROUP,
          counts: { groups: 1, collections: 2, groupsWithoutCollection: 0, collectionsWithoutGroup: 0 },
          items: [],
          detail: { associations: 'per-id groups', perIdReads: 1, accessAllGroups: 0, groupsWithoutCollection: [], collectionsWithoutGroup: [] },
          at: AT,
        },
      }),
    },
    {
      name: '4c, collections read per id',
      step: '4c',
      hosting: 'self-hosted',
      org: perIdCollections,
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.4c.pass', vars: { groups: 2, collections: 1 } },
        evidence: {
          endpoint: BY_COLLECTION,
          counts: { groups: 2, collections: 1, groupsWithoutCollection: 0, collectionsWithoutGroup: 0 },
          items: [],
          detail: { associations: 'per-id collections', perIdReads: 1, accessAllGroups: 0, groupsWithoutCollection: [], collectionsWithoutGroup: [] },
          at: AT,
        },
      }),
    },
    {
      name: '4c, the per-id answers leave them out too: manual "not sent", with the unknown count and the reason',
      step: '4c',
      hosting: 'self-hosted',
      org: () => ({ ...perIdGroups(), quirks: { ...quirks, perIdWithoutAssociations: true } }),
      expected: () => ({
        status: 'manual',
        summary: { key: 'check.access.manual_not_sent', vars: { missing: 1, limit: 500 } },
        evidence: {
          endpoint: BY_GROUP,
          counts: { groups: 1, collections: 2, unknownAssociations: 1 },
          detail: { associations: 'per-id groups', perIdReads: 1, accessAllGroups: 0, reason: 'not_sent' },
          at: AT,
        },
      }),
    },
    {
      name: '4b, more per-id reads than the limit: manual "over limit", no per-id read made',
      step: '4b',
      hosting: 'self-hosted',
      org: () =>
        org('self-hosted', {
          // G0 reaches everything (accessAll): 501 groups and 503 collections without their associations.
          groups: Array.from({ length: 502 }, (_, i) => g(`G${i}`, [`C${i}`], i === 0 ? { accessAll: true } : {})),
          collections: Array.from({ length: 503 }, (_, i) => c(`C${i}`, [`G${i % 502}`])),
          quirks,
        }),
      expected: () => ({
        status: 'manual',
        summary: { key: 'check.access.manual_over_limit', vars: { missing: 501, limit: 500 } },
        evidence: {
          endpoint: ENDPOINT_LISTS,
          counts: { groups: 502, collections: 503, unknownAssociations: 501 },
          detail: { associations: 'per-id groups', perIdReads: 0, accessAllGroups: 1, reason: 'too_many' },
          at: AT,
        },
      }),
    },
  ]);
});

// ---- 4d: owners -------------------------------------------------------------------------------------

describe('4d: owners and accepted members', () => {
  /** Only confirmed members count: the invited, accepted and revoked owners are not owners yet (or any more). */
  const base = () => [
    member(1, { status: CONFIRMED, type: OWNER, email: 'ada@example.com' }),
    member(2, { status: CONFIRMED, type: OWNER, email: 'bram@example.com' }),
    member(3, { status: INVITED, type: OWNER, email: 'invited-owner@example.com' }),
    member(4, { status: REVOKED, type: OWNER, email: 'revoked-owner@example.com' }),
    member(5, { status: CONFIRMED, type: ADMIN, email: 'dirk@example.com' }),
    member(6, { status: CONFIRMED, type: CUSTOM, email: 'eva@example.com' }),
    member(7, { status: CONFIRMED, type: USER, email: 'floor@example.com' }),
    member(8, { status: CONFIRMED, type: USER, email: 'gert@example.com' }),
    member(9, { status: INVITED, type: USER, email: 'hans@example.com' }),
  ];
  const counts = (extra: Record<string, number> = {}) => ({
    confirmedOwners: 2,
    admins: 1,
    custom: 1,
    users: 2,
    acceptedUnconfirmed: 0,
    minOwners: 2,
    ...extra,
  });
  const owners = ['ada@example.com', 'bram@example.com'];
  table([
    {
      name: 'two confirmed owners and nobody waiting pass, with the role counts',
      step: '4d',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: base() }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.4d.pass', vars: { owners: 2, admins: 1, custom: 1 } },
        evidence: { endpoint: 'GET /public/members', counts: counts(), items: [], detail: { owners }, at: AT },
      }),
    },
    {
      name: 'an accepted owner waiting for confirmation warns and is named',
      step: '4d',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: [...base(), member(10, { status: ACCEPTED, type: OWNER, email: 'waiting@example.com' })] }),
      expected: () => ({
        status: 'warn',
        summary: { key: 'check.4d.warn_accepted', vars: { count: 1, items: 'waiting@example.com' } },
        evidence: { endpoint: 'GET /public/members', counts: counts({ acceptedUnconfirmed: 1 }), items: ['waiting@example.com'], detail: { owners }, at: AT },
      }),
    },
    {
      name: 'one confirmed owner warns below the minimum',
      step: '4d',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: base().filter((m) => m.email !== 'bram@example.com') }),
      expected: () => ({
        status: 'warn',
        summary: { key: 'check.4d.warn_owners', vars: { owners: 1, min: 2, names: 'ada@example.com' } },
        evidence: { endpoint: 'GET /public/members', counts: counts({ confirmedOwners: 1 }), items: [], detail: { owners: ['ada@example.com'] }, at: AT },
      }),
    },
    {
      name: 'no confirmed owner fails (an invited and a revoked owner do not count)',
      step: '4d',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: base().filter((m) => !['ada@example.com', 'bram@example.com'].includes(m.email)) }),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.4d.fail_no_owner', vars: { min: 2 } },
        evidence: { endpoint: 'GET /public/members', counts: counts({ confirmedOwners: 0 }), items: [], detail: { owners: [] }, at: AT },
      }),
    },
    {
      name: '22 confirmed owners: the evidence names the first 20',
      step: '4d',
      hosting: 'cloud-us',
      org: () =>
        org('cloud', { members: Array.from({ length: 22 }, (_, i) => member(i + 1, { status: CONFIRMED, type: OWNER, email: `owner${i + 1}@example.com` })) }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.4d.pass', vars: { owners: 22, admins: 0, custom: 0 } },
        evidence: {
          endpoint: 'GET /public/members',
          counts: { confirmedOwners: 22, admins: 0, custom: 0, users: 0, acceptedUnconfirmed: 0, minOwners: 2 },
          items: [],
          detail: { owners: Array.from({ length: 20 }, (_, i) => `owner${i + 1}@example.com`) },
          at: AT,
        },
      }),
    },
  ]);
});

// ---- 5a: the self-hosted server ---------------------------------------------------------------------

/** Logins on this server in the window: users 1 and 2 (twice), and user 3 before the window. */
const logins = () => [
  event(1000, ago(DAY), { actingUserId: userIdOf(1), device: 9 }),
  event(1000, ago(2 * DAY), { actingUserId: userIdOf(2), device: 2 }),
  event(1000, ago(3 * DAY), { actingUserId: userIdOf(2), device: 6 }),
  event(1000, ago(40 * DAY), { actingUserId: userIdOf(3), device: 6 }),
];
const threeMembers = () => [1, 2, 3].map((n) => member(n, { status: CONFIRMED, type: n === 1 ? OWNER : USER }));
const ENDPOINT_5A = 'GET /api/config, GET /public/events';

describe('5a: the self-hosted server answers', () => {
  table([
    {
      name: 'over plain HTTP: warns, with version, host and the users who logged in',
      step: '5a',
      hosting: 'self-hosted',
      org: () => org('self-hosted', { members: threeMembers(), events: logins() }),
      expected: () => ({
        status: 'warn',
        summary: { key: 'check.5a.warn_http', vars: { host: host(), version: '2026.8.0', users: 2 } },
        evidence: { endpoint: ENDPOINT_5A, counts: { usersLoggedIn30d: 2 }, detail: { version: '2026.8.0', host: host(), tls: false }, at: AT },
      }),
    },
    {
      name: 'a config without a version fails, naming the host',
      step: '5a',
      hosting: 'self-hosted',
      org: () => org('self-hosted', { members: threeMembers(), events: logins(), config: { ...selfHostedConfig('2026.8.0'), version: null } }),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.5a.fail_version', vars: { host: host() } },
        evidence: { endpoint: ENDPOINT_5A, counts: { usersLoggedIn30d: 2 }, detail: { version: null, host: host(), tls: false }, at: AT },
      }),
    },
    {
      name: 'cloud: not applicable',
      step: '5a',
      hosting: 'cloud-eu',
      org: () => org('cloud'),
      expected: () => ({
        status: 'not_applicable',
        summary: { key: 'check.na_cloud', vars: { hosting: 'cloud-eu' } },
        evidence: { detail: { hosting: 'cloud-eu' }, at: AT },
      }),
    },
  ]);

  describe('over HTTPS', () => {
    let https: Awaited<ReturnType<typeof startTlsFakeBitwarden>>;
    let tls: FakeBitwardenServer;
    let caFile: string;
    beforeAll(async () => {
      https = await startTlsFakeBitwarden({ key: 'ec' });
      tls = https.server;
      caFile = https.caFile;
    });
    afterAll(async () => {
      await https?.close();
    });

    it('passes, with version, host and users, and records TLS', async () => {
      tls.load(org('self-hosted', { members: threeMembers(), events: logins() }));
      const h = makeVerification(tls, 'self-hosted', { caFile });
      const out = await h.verification.verify({
        rolloutId: 'evidence',
        settings: settingsFor('self-hosted', tls),
        credentials: credentialsOf(tls),
        stepIds: ['5a'],
      });
      const tlsHost = new URL(tls.url).host;
      expect(out['5a']).toEqual({
        status: 'pass',
        summary: { key: 'check.5a.pass', vars: { host: tlsHost, version: '2026.8.0', users: 2 } },
        evidence: { endpoint: ENDPOINT_5A, counts: { usersLoggedIn30d: 2 }, detail: { version: '2026.8.0', host: tlsHost, tls: true }, at: AT },
      });
    });
  });
});

// ---- 5b: browser extension ------------------------------------------------------------------------

describe('5b: browser extension use in the last 30 days', () => {
  /** Confirmed members 1–4 and 5, invited member 6. */
  const members = (confirmed: number) => [
    ...Array.from({ length: confirmed }, (_, i) => member(i + 1, { status: CONFIRMED, type: i === 0 ? OWNER : USER })),
    member(9, { status: INVITED, type: USER, email: 'invited@example.com' }),
  ];
  const ev = (counts: Record<string, number>, items: string[]) => ({
    endpoint: 'GET /public/members, GET /public/events',
    counts: { targetPct: 80, eventPages: 1, overlapDuplicates: 0, ...counts },
    items,
    detail: { window: { start: WINDOW_START, end: WINDOW_END }, incremental: false },
    at: AT,
  });
  table([
    {
      name: 'an extension login exactly 30 days ago still counts: 2 of 4 warn',
      step: '5b',
      hosting: 'cloud-us',
      org: () =>
        org('cloud', {
          members: members(4),
          events: [
            event(1000, ago(30 * DAY), { actingUserId: userIdOf(1), device: 2 }),
            event(1114, ago(DAY), { actingUserId: userIdOf(2), device: 20 }),
            // Web vault (9): not the extension.
            event(1000, ago(DAY), { actingUserId: userIdOf(3), device: 9 }),
          ],
        }),
      expected: () => ({
        status: 'warn',
        summary: { key: 'check.5b.warn', vars: { with: 2, confirmed: 4, pct: 50, target: 80 } },
        evidence: ev({ confirmedMembers: 4, withExtension: 2, pct: 50, newEvents: 3 }, ['member3@example.com', 'member4@example.com']),
      }),
    },
    {
      name: 'nobody on the extension fails',
      step: '5b',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: members(4), events: [event(1000, ago(DAY), { actingUserId: userIdOf(3), device: 9 })] }),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.5b.fail', vars: { with: 0, confirmed: 4, pct: 0, target: 80 } },
        evidence: ev({ confirmedMembers: 4, withExtension: 0, pct: 0, newEvents: 1 }, [
          'member1@example.com',
          'member2@example.com',
          'member3@example.com',
          'member4@example.com',
        ]),
      }),
    },
    {
      name: '4 of 5 is exactly the 80 % target: pass',
      step: '5b',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: members(5), events: [1, 2, 3, 4].map((n) => event(1000, ago(n * DAY), { actingUserId: userIdOf(n), device: 3 })) }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.5b.pass', vars: { with: 4, confirmed: 5, pct: 80, target: 80 } },
        evidence: ev({ confirmedMembers: 5, withExtension: 4, pct: 80, newEvents: 4 }, ['member5@example.com']),
      }),
    },
  ]);
});

// ---- 6: onboarding ---------------------------------------------------------------------------------

describe('6: confirmed share of invited, accepted and confirmed members', () => {
  const ms = (confirmed: number, invited: number, accepted: number, externalIds = 0) => [
    ...Array.from({ length: confirmed }, (_, i) =>
      member(i + 1, { status: CONFIRMED, type: USER, ...(i < externalIds ? { externalId: `scim-${i + 1}` } : {}) }),
    ),
    ...Array.from({ length: invited }, (_, i) => member(50 + i, { status: INVITED, type: USER, email: `invited${i + 1}@example.com` })),
    ...Array.from({ length: accepted }, (_, i) => member(70 + i, { status: ACCEPTED, type: USER, email: `accepted${i + 1}@example.com` })),
    member(90, { status: REVOKED, type: USER, email: 'revoked@example.com', externalId: 'scim-gone' }),
  ];
  const detail = (provisioned: number) => ({ passPct: 90, warnPct: 50, provisioned });
  table([
    {
      name: 'exactly 90 % confirmed passes; provisioned counts every member with an external id',
      step: '6',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: ms(9, 1, 0, 2) }),
      expected: () => ({
        status: 'pass',
        summary: { key: 'check.6.pass', vars: { confirmed: 9, total: 10, pct: 90, invited: 1, accepted: 0, target: 90 } },
        evidence: {
          endpoint: 'GET /public/members',
          counts: { invited: 1, accepted: 0, confirmed: 9, revoked: 1, staged: 0, pct: 90 },
          items: ['invited1@example.com'],
          detail: detail(3),
          at: AT,
        },
      }),
    },
    {
      name: 'exactly 50 % warns, naming the invited before the accepted',
      step: '6',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: ms(2, 1, 1) }),
      expected: () => ({
        status: 'warn',
        summary: { key: 'check.6.warn', vars: { confirmed: 2, total: 4, pct: 50, invited: 1, accepted: 1, target: 90 } },
        evidence: {
          endpoint: 'GET /public/members',
          counts: { invited: 1, accepted: 1, confirmed: 2, revoked: 1, staged: 0, pct: 50 },
          items: ['invited1@example.com', 'accepted1@example.com'],
          detail: detail(1),
          at: AT,
        },
      }),
    },
    {
      name: 'below the warn line fails',
      step: '6',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: ms(1, 1, 1) }),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.6.fail', vars: { confirmed: 1, total: 3, pct: 33.3, invited: 1, accepted: 1, target: 90 } },
        evidence: {
          endpoint: 'GET /public/members',
          counts: { invited: 1, accepted: 1, confirmed: 1, revoked: 1, staged: 0, pct: 33.3 },
          items: ['invited1@example.com', 'accepted1@example.com'],
          detail: detail(1),
          at: AT,
        },
      }),
    },
    {
      name: 'nobody invited, accepted or confirmed: fails as empty, 0 %',
      step: '6',
      hosting: 'cloud-us',
      org: () => org('cloud', { members: [member(1, { status: STAGED, type: USER }), member(2, { status: REVOKED, type: USER })] }),
      expected: () => ({
        status: 'fail',
        summary: { key: 'check.6.fail_empty' },
        evidence: {
          endpoint: 'GET /public/members',
          counts: { invited: 0, accepted: 0, confirmed: 0, revoked: 1, staged: 1, pct: 0 },
          items: [],
          detail: detail(0),
          at: AT,
        },
      }),
    },
  ]);
});

// ---- `needs`: what is fetched before the checks run -------------------------------------------------

/*
 * The verifier fetches what each check `needs` up front, in parallel, before any check runs; the event
 * paging runs in that same phase and takes its requests from the run's budget. A resource fetched up front
 * is safe from an event paging that uses the budget up: the step keeps its verdict and only the event
 * steps are `error`. And the budget is sized from the counts of what is needed (members for event pages,
 * groups and collections for per-id reads), so a step that reads events or per-id associations gets room
 * for them.
 */
describe('a runaway event paging only costs the event steps', () => {
  /** A small cloud organization whose event paging never ends (the budget of 2 members stops it). */
  const endless = () =>
    org('cloud', {
      members: [
        member(1, { status: CONFIRMED, type: OWNER, email: 'ada@example.com' }),
        member(2, { status: CONFIRMED, type: OWNER, email: 'bram@example.com' }),
      ],
      groups: [group(1, 'IT', [collectionId(1)])],
      collections: [collection(1, [groupId(1)])],
      policies: [policy(0, true), policy(1, true), policy(3, true)],
      seats: 5,
      quirks: { endlessPages: true },
    });
  const cases: [step: string, status: string, key: string][] = [
    ['1a', 'pass', 'check.1a.pass_seats'],
    ['2a', 'pass', 'check.2a.pass'],
    ['4a', 'pass', 'check.4a.pass'],
    ['4b', 'manual', 'check.4b.manual'],
    ['4c', 'pass', 'check.4c.pass'],
  ];
  for (const [step, status, key] of cases) {
    it(`${step} keeps its verdict (${key}) next to 5b`, async () => {
      const out = await run(endless(), 'cloud-us', [step, '5b']);
      expect(out['5b']).toMatchObject({ status: 'error', evidence: { endpoint: 'GET /public/events' } });
      expect({ status: out[step]!.status, key: out[step]!.summary.key }).toEqual({ status, key });
    });
  }
});

describe('the request budget is sized from what the step needs', () => {
  it('5a alone on a busy server: event pages beyond the fixed budget are allowed for its members', async () => {
    // 150 login events on pages of 1: 150 pages, more than an organization of no members would get (136),
    // within what 3 members get (268).
    server.pageSize = 1;
    const events = Array.from({ length: 150 }, (_, i) => event(1000, ago((i + 1) * 3_600_000), { actingUserId: userIdOf((i % 3) + 1), device: 2 }));
    const out = await run(org('self-hosted', { members: threeMembers(), events }), 'self-hosted', ['5a']);
    expect(out['5a']).toEqual({
      status: 'warn',
      summary: { key: 'check.5a.warn_http', vars: { host: host(), version: '2026.8.0', users: 3 } },
      evidence: { endpoint: ENDPOINT_5A, counts: { usersLoggedIn30d: 3 }, detail: { version: '2026.8.0', host: host(), tls: false }, at: AT },
    });
    expect(server.count('GET', '/public/events')).toBe(150);
  });

  it.each(['4b', '4c'])('%s alone on an old server reads 150 collections per id within the budget', async (step) => {
    // Both lists leave the associations out: 150 collections against 151 groups, so the collections are read.
    const groups: GroupJson[] = Array.from({ length: 151 }, (_, i) => ({
      object: 'group',
      id: `G${i}`,
      name: `G${i}`,
      externalId: null,
      collections: [assoc(`C${i % 150}`)],
    }));
    const collections = Array.from({ length: 150 }, (_, i) => ({
      object: 'collection' as const,
      id: `C${i}`,
      externalId: null,
      groups: [assoc(`G${i}`), ...(i === 0 ? [assoc('G150')] : [])],
    }));
    const out = await run(org('self-hosted', { groups, collections, quirks: { nullGroupCollections: true, nullCollectionGroups: true } }), 'self-hosted', [
      step,
    ]);
    expect(out[step]).toMatchObject({
      status: step === '4b' ? 'manual' : 'pass',
      evidence: { endpoint: `${ENDPOINT_LISTS}, GET /public/collections/{id}`, detail: { associations: 'per-id collections', perIdReads: 150 } },
    });
    expect(server.count('GET', /^\/public\/collections\//)).toBe(150);
  });
});

it('uses the default thresholds in these rows', () => {
  // The expected values above (80 % extension target, 90/50 % onboarding, 2 owners) are the defaults'.
  expect(DEFAULT_THRESHOLDS).toEqual({ extensionPassPct: 80, onboardingPassPct: 90, onboardingWarnPct: 50, minOwners: 2 });
});
