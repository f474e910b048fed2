import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/bitwarden/budget';
import { BitwardenClient } from '../../src/bitwarden/client';
import { EVENT_OVERLAP_MS, type EventState, eventStateKey, isExtensionUse } from '../../src/bitwarden/events';
import { CLIENT_COLLECTED_EVENT_TYPES, eventSchema, EXTENSION_USE_EVENT_TYPES } from '../../src/bitwarden/schemas';
import { memoryKeyValueStore } from '../../src/bitwarden/memory-kv';
import { type EventJson, type FakeBitwardenServer, startFakeBitwarden } from '../fakes/bitwarden-server';
import { DAY, event, FAKE_SECRET, member, oldServerOrg, readyOrg, userIdOf } from '../fixtures/bitwarden';
import { fakeEndpoints, makeVerification, NOW, TestClock } from './helpers';

let server: FakeBitwardenServer;
beforeAll(async () => {
  server = await startFakeBitwarden();
});
afterAll(async () => {
  await server.stop();
});

/** An org with 500 extension/web logins over the last 25 days, 50 confirmed members. */
function busyOrg() {
  const org = readyOrg(NOW);
  org.members = Array.from({ length: 50 }, (_, i) => member(i + 1, { status: 2, type: i < 2 ? 0 : 2, enrolled: true }));
  org.events = Array.from({ length: 500 }, (_, i) =>
    event(1000, new Date(NOW.getTime() - 60_000 - i * 72 * 60_000), { actingUserId: userIdOf((i % 50) + 1), device: i % 50 < 45 ? 2 : 9 }),
  );
  return org;
}

function client(clock: TestClock): BitwardenClient {
  return new BitwardenClient({
    endpoints: fakeEndpoints(server, 'cloud-us'),
    clientId: server.clientId,
    clientSecret: FAKE_SECRET,
    clock,
    retry: { baseDelayMs: 1 },
  });
}

describe('readEventsSince', () => {
  it('first run: 30-day window, 500 events in 10 pages with the same start/end on every page, end = now − 30 s', async () => {
    server.load(busyOrg());
    const clock = new TestClock();
    const kv = memoryKeyValueStore();
    const c = client(clock);
    const r = await c.readEventsSince(kv);
    expect(r.firstRun).toBe(true);
    expect(r.events).toHaveLength(500);
    expect(r.pages).toBe(10);
    const reqs = server.requests('GET', '/public/events');
    expect(reqs).toHaveLength(10);
    expect(new Set(reqs.map((q) => `${q.query.start}|${q.query.end}`)).size).toBe(1);
    expect(reqs[0]!.query).toEqual({ start: new Date(NOW.getTime() - 30 * DAY).toISOString(), end: new Date(NOW.getTime() - 30_000).toISOString() });
    expect(reqs[0]!.query.continuationToken).toBeUndefined();
    expect(reqs.slice(1).every((q) => q.query.continuationToken)).toBe(true);
    expect(Object.keys(r.extension)).toHaveLength(45);
    await c.close();
  });

  it('second run: starts at the high-water mark and fetches only the new events', async () => {
    server.load(busyOrg());
    const clock = new TestClock();
    const kv = memoryKeyValueStore();
    const c = client(clock);
    const first = await c.readEventsSince(kv);
    const firstEnd = first.end;

    clock.advance(10 * 60_000);
    const fresh = [1, 2, 3, 4, 5, 6, 7].map((i) => event(1114, new Date(NOW.getTime() + i * 60_000), { actingUserId: userIdOf(46), device: 3 }));
    // One event exactly at the previous end was already read: it must not come back as new.
    server.addEvents(fresh);
    server.resetLog();
    const second = await c.readEventsSince(kv);
    expect(second.firstRun).toBe(false);
    // It starts EVENT_OVERLAP_MS (72 h) behind the mark: 60 old events (one per 72 min) + 7 new → 2 pages.
    const start = new Date(Date.parse(firstEnd) - EVENT_OVERLAP_MS).toISOString();
    expect(server.requests('GET', '/public/events')[0]!.query.start).toBe(start);
    expect(server.count('GET', '/public/events')).toBe(2);
    expect(second.duplicates).toBe(60);
    expect(second.events).toHaveLength(7);
    // 30 days of extension users are still known: 45 from the first run + member 46.
    expect(Object.keys(second.extension)).toHaveLength(46);
    const state = await kv.get<EventState>(eventStateKey(c.orgKey));
    expect(state).toMatchObject({ v: 2, cursor: second.end });
    await c.close();
  });

  it('dedupes an event that sits exactly on the high-water mark', async () => {
    server.load(busyOrg());
    const clock = new TestClock();
    const kv = memoryKeyValueStore();
    const c = client(clock);
    const boundary = new Date(NOW.getTime() - 30_000);
    server.addEvents([event(1000, boundary, { actingUserId: userIdOf(47), device: 5 })]);
    const first = await c.readEventsSince(kv);
    expect(first.events.some((e) => e.date === boundary.toISOString())).toBe(true);
    clock.advance(60_000);
    const second = await c.readEventsSince(kv);
    expect(second.events).toHaveLength(0);
    expect(second.duplicates).toBeGreaterThan(0);
    expect(server.requests('GET', '/public/events').at(-1)!.query.start).toBe(new Date(boundary.getTime() - EVENT_OVERLAP_MS).toISOString());
    await c.close();
  });

  it('does not stop on an empty page while a continuation token is present', async () => {
    const org = busyOrg();
    org.quirks = { emptyPages: true };
    server.load(org);
    const c = client(new TestClock());
    const r = await c.readEventsSince(memoryKeyValueStore());
    expect(r.events).toHaveLength(500);
    expect(server.count('GET', '/public/events')).toBe(20);
    await c.close();
  });

  it('reads "" as the last token and dates without a zone as UTC', async () => {
    server.load(oldServerOrg(NOW));
    const c = new BitwardenClient({
      endpoints: fakeEndpoints(server, 'self-hosted'),
      clientId: server.clientId,
      clientSecret: FAKE_SECRET,
      clock: new TestClock(),
    });
    const r = await c.readEventsSince(memoryKeyValueStore());
    expect(r.pages).toBe(2);
    expect(r.events).toHaveLength(76);
    expect(r.events[0]!.date).toBe(new Date(NOW.getTime() - 6 * 3_600_000).toISOString());
    await c.close();
  });

  it('forgets extension logins older than 30 days on later runs', async () => {
    server.load(busyOrg());
    const clock = new TestClock();
    const kv = memoryKeyValueStore();
    const c = client(clock);
    await c.readEventsSince(kv);
    clock.advance(29 * DAY);
    const later = await c.readEventsSince(kv);
    // Each user's newest login was 1 min … 2.5 days old; 29 days on, only those younger than a day remain.
    const oldest = Object.values(later.extension).sort()[0]!;
    expect(oldest >= new Date(clock.now().getTime() - 30 * DAY).toISOString()).toBe(true);
    expect(Object.keys(later.extension).length).toBeLessThan(45);
    await c.close();
  });
});

describe('incremental verification runs', () => {
  it('a second run re-reads no old events, reuses the token and still passes 5b from stored logins', async () => {
    server.load(busyOrg());
    const h = makeVerification(server, 'cloud-us');
    const first = await h.run(['5b']);
    expect(first['5b']).toMatchObject({ status: 'pass', evidence: { counts: { withExtension: 45, confirmedMembers: 50, eventPages: 10 } } });
    h.clock.advance(5 * 60_000);
    server.resetLog();
    const second = await h.run(['5b']);
    // The 72 h overlap is read again (60 events, 2 pages) and recognized: nothing new.
    expect(second['5b']).toMatchObject({
      status: 'pass',
      evidence: { counts: { withExtension: 45, newEvents: 0, eventPages: 2, overlapDuplicates: 60 }, detail: { incremental: true } },
    });
    expect(server.count('GET', '/public/events')).toBe(2);
    expect(server.count('POST', '/connect/token')).toBe(0);
  });
});

describe('late events (client batches uploaded after the mark passed their date)', () => {
  it('an event dated before the last mark but uploaded later is seen once by the overlap, and counted once', async () => {
    const org = busyOrg();
    // Member 48 has no extension use yet.
    org.events = org.events.filter((e) => e.actingUserId !== userIdOf(48));
    server.load(org);
    const clock = new TestClock();
    const kv = memoryKeyValueStore();
    const c = client(clock);
    const first = await c.readEventsSince(kv);
    expect(first.extension[userIdOf(48)]).toBeUndefined();

    // The extension collected "password copied" 5 h before the first read, and uploads it only now
    // (vault unlocked again). Another one 4 days old is beyond the 72 h overlap.
    clock.advance(10 * 60_000);
    const late = event(1111, new Date(NOW.getTime() - 5 * 3_600_000), { actingUserId: userIdOf(48), device: 3 });
    const tooLate = event(1107, new Date(NOW.getTime() - 4 * DAY), { actingUserId: userIdOf(49), device: 3 });
    server.addEvents([late, tooLate]);
    const second = await c.readEventsSince(kv);
    expect(second.events.map((e) => e.date)).toEqual([late.date]);
    expect(second.extension[userIdOf(48)]).toBe(late.date);
    expect(second.extension[userIdOf(49)]).toBeUndefined();

    // A third read meets it again in the overlap and does not count it again.
    clock.advance(10 * 60_000);
    const third = await c.readEventsSince(kv);
    expect(third.events).toHaveLength(0);
    expect(third.duplicates).toBeGreaterThan(0);
    await c.close();
  });

  it('reads a version-1 state (before the overlap) and keeps its maps', async () => {
    server.load(busyOrg());
    const clock = new TestClock();
    const kv = memoryKeyValueStore();
    const c = client(clock);
    const cursor = new Date(NOW.getTime() - 3_600_000).toISOString();
    await kv.set(eventStateKey(c.orgKey), { v: 1, cursor, boundaryKeys: [], extension: { 'old-user': cursor }, logins: {} });
    const r = await c.readEventsSince(kv);
    expect(r.firstRun).toBe(false);
    expect(r.start).toBe(new Date(Date.parse(cursor) - EVENT_OVERLAP_MS).toISOString());
    expect(r.extension['old-user']).toBe(cursor);
    await c.close();
  });
});

describe('which events show extension use (5b)', () => {
  it('counts the client-collected types of the server (CollectController) and vault changes from an extension, nothing else', () => {
    const at = new Date(NOW.getTime() - DAY);
    const ev = (type: number, device: number) => eventSchema.parse(event(type, at, { actingUserId: userIdOf(1), device }));
    // From the example: item viewed and password copied in Firefox and Chrome extensions.
    expect(isExtensionUse(ev(1107, 3))).toBe(true);
    expect(isExtensionUse(ev(1111, 2))).toBe(true);
    // Derived from bitwarden/server src/Events/Controllers/CollectController.cs: every accepted type counts.
    for (const type of [1007, 1108, 1109, 1110, 1112, 1113, 1114, 1117, 1119, 1125, 1129, 1132, 1522, 1602, 1618, 1619, 1620, 1621, 1627, 2400, 2401, 2402]) {
      expect(isExtensionUse(ev(type, 19)), `type ${type}`).toBe(true);
    }
    // Vault changes made in an extension (logged by the API with its device type).
    expect(isExtensionUse(ev(1101, 20))).toBe(true);
    expect(isExtensionUse(ev(1000, 5))).toBe(true);
    // Not use: failed logins; 1118 (the collect endpoint drops it); an admin acting on others; other devices.
    expect(isExtensionUse(ev(1005, 2))).toBe(false);
    expect(isExtensionUse(ev(1006, 2))).toBe(false);
    expect(isExtensionUse(ev(1118, 2))).toBe(false);
    expect(isExtensionUse(ev(1500, 2))).toBe(false);
    expect(isExtensionUse(ev(1107, 9))).toBe(false);
    expect(isExtensionUse(ev(1111, 8))).toBe(false);
    expect(isExtensionUse(eventSchema.parse(event(1111, at, { actingUserId: userIdOf(1), device: null })))).toBe(false);
    // Every client-collected type is part of the set.
    for (const t of CLIENT_COLLECTED_EVENT_TYPES) expect(EXTENSION_USE_EVENT_TYPES.has(t)).toBe(true);
  });
});

describe('paging that cannot run away', () => {
  it('a continuation token that cycles A→B→C→A stops at once', async () => {
    const org = busyOrg();
    org.quirks = { cyclingTokens: 3 };
    server.load(org);
    const c = client(new TestClock());
    const e = await c.readEventsSince(memoryKeyValueStore()).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'bitwarden_bad_response', userMessage: { key: 'bw.error.paging_loop', vars: { pages: 4 } } });
    // Pages: start, A, B, C → A again was seen: 4 requests, not one more.
    expect(server.count('GET', '/public/events')).toBe(4);
    await c.close();
  });
});

/**
 * The hash an event is remembered by in `seen` (persisted: a state written by an earlier release must still
 * recognize the overlap's events after an upgrade): sha256 of its fields joined with '|' (null as ''),
 * base64url, 16 characters.
 */
function storedHash(e: EventJson): string {
  const fields = [e.type, e.date, e.actingUserId, e.memberId, e.itemId, e.collectionId, e.groupId, e.policyId, e.device, e.ipAddress];
  return createHash('sha256')
    .update(fields.map((x) => (x === null ? '' : String(x))).join('|'))
    .digest('base64url')
    .slice(0, 16);
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('the stored state (per organization, in the store’s kv)', () => {
  it('lives under bw:events:<orgKey>; a second reader resumes from it; another organization starts afresh', async () => {
    server.load(busyOrg());
    const clock = new TestClock();
    const kv = memoryKeyValueStore();
    const c = client(clock);
    const first = await c.readEventsSince(kv);
    expect(await kv.get(`bw:events:${server.url}|${server.clientId}`)).toMatchObject({ v: 2, cursor: first.end });

    // Another replica (its own client) on the same store reads incrementally from that mark.
    clock.advance(60_000);
    const other = client(clock);
    const second = await other.readEventsSince(kv);
    expect(second.firstRun).toBe(false);
    expect(second.start).toBe(iso(Date.parse(first.end) - EVENT_OVERLAP_MS));
    expect(second.events).toHaveLength(0);

    // Another organization's key on the same store has no state yet.
    const third = await other.readEventsSince(kv, `${server.url}|organization.another-org`);
    expect(third.firstRun).toBe(true);
    expect(third.start).toBe(iso(clock.now().getTime() - 30 * DAY));
    await c.close();
    await other.close();
  });

  it('recognizes the events a state written earlier lists in `seen` (the hash format is stable)', async () => {
    const org = busyOrg();
    server.load(org);
    const c = client(new TestClock());
    const kv = memoryKeyValueStore();
    // An earlier read ended an hour ago and remembered every event up to then.
    const cursor = iso(NOW.getTime() - 3_600_000);
    const old = org.events.filter((e) => e.date <= cursor && e.date >= iso(Date.parse(cursor) - EVENT_OVERLAP_MS));
    expect(old.length).toBeGreaterThan(50);
    const seen = Object.fromEntries(old.map((e) => [storedHash(e), e.date]));
    await kv.set(eventStateKey(c.orgKey), { v: 2, cursor, seen, extension: {}, logins: {} } satisfies EventState);
    const r = await c.readEventsSince(kv);
    expect(r.duplicates).toBe(old.length);
    // Only the one event after the mark (a minute ago) is new.
    expect(r.events.map((e) => e.date)).toEqual([iso(NOW.getTime() - 60_000)]);
    const state = await kv.get<EventState>(eventStateKey(c.orgKey));
    expect(state!.seen[storedHash(org.events[0]!)]).toBe(iso(NOW.getTime() - 60_000));
    await c.close();
  });

  it('keeps the newest login and extension use per user across runs; an older late event does not replace it', async () => {
    server.load(busyOrg());
    const clock = new TestClock();
    const kv = memoryKeyValueStore();
    const c = client(clock);
    const first = await c.readEventsSince(kv);
    // Member 1 (extension device 2) logged in a minute ago; member 2 72 minutes before that.
    expect(first.logins[userIdOf(1)]).toBe(iso(NOW.getTime() - 60_000));
    expect(first.extension[userIdOf(1)]).toBe(iso(NOW.getTime() - 60_000));
    expect(first.logins[userIdOf(2)]).toBe(iso(NOW.getTime() - 60_000 - 72 * 60_000));

    clock.advance(10 * 60_000);
    const newer = event(1000, new Date(NOW.getTime() + 5 * 60_000), { actingUserId: userIdOf(1), device: 3 });
    // Uploaded late: collected three hours ago, older than member 2's newest login.
    const older = event(1000, new Date(NOW.getTime() - 3 * 3_600_000), { actingUserId: userIdOf(2), device: 2 });
    server.addEvents([newer, older]);
    const second = await c.readEventsSince(kv);
    expect(second.events.map((e) => e.date).sort()).toEqual([older.date, newer.date]);
    expect(second.logins[userIdOf(1)]).toBe(newer.date);
    expect(second.extension[userIdOf(1)]).toBe(newer.date);
    expect(second.logins[userIdOf(2)]).toBe(iso(NOW.getTime() - 60_000 - 72 * 60_000));
    expect((await kv.get<EventState>(eventStateKey(c.orgKey)))!.logins[userIdOf(1)]).toBe(newer.date);
    await c.close();
  });

  it('keeps stored logins with no new event, drops those older than the 30-day window and keeps one exactly at its edge', async () => {
    const org = busyOrg();
    org.events = [];
    server.load(org);
    const c = client(new TestClock());
    const kv = memoryKeyValueStore();
    const edge = iso(NOW.getTime() - 30 * DAY);
    const logins = { 'at-edge': edge, 'just-older': iso(NOW.getTime() - 30 * DAY - 1), recent: iso(NOW.getTime() - DAY) };
    await kv.set(eventStateKey(c.orgKey), {
      v: 2,
      cursor: iso(NOW.getTime() - 3_600_000),
      seen: {},
      extension: { 'at-edge': edge },
      logins,
    } satisfies EventState);
    const r = await c.readEventsSince(kv);
    expect(r.firstRun).toBe(false);
    expect(r.events).toEqual([]);
    expect(r.logins).toEqual({ 'at-edge': edge, recent: logins.recent });
    expect(r.extension).toEqual({ 'at-edge': edge });
    expect(await kv.get<EventState>(eventStateKey(c.orgKey))).toMatchObject({ logins: { 'at-edge': edge, recent: logins.recent } });
    await c.close();
  });

  it('upgrades a version-1 state to version 2 (no boundary keys, maps kept); ignores a state of an unknown version', async () => {
    server.load(busyOrg());
    const c = client(new TestClock());
    const kv = memoryKeyValueStore();
    const cursor = iso(NOW.getTime() - 3_600_000);
    await kv.set(eventStateKey(c.orgKey), { v: 1, cursor, boundaryKeys: ['x'], extension: {}, logins: { 'old-user': cursor } });
    const r = await c.readEventsSince(kv);
    expect(r.firstRun).toBe(false);
    expect(r.logins['old-user']).toBe(cursor);
    const upgraded = await kv.get<Record<string, unknown>>(eventStateKey(c.orgKey));
    expect(upgraded).toMatchObject({ v: 2, cursor: r.end, logins: { 'old-user': cursor } });
    expect(upgraded).not.toHaveProperty('boundaryKeys');

    // A state this release does not know (written by a newer one, or damaged): read the whole window again.
    await kv.set(eventStateKey(c.orgKey), { v: 3, cursor, seen: {}, extension: {}, logins: { 'old-user': cursor } });
    const again = await c.readEventsSince(kv);
    expect(again.firstRun).toBe(true);
    expect(again.start).toBe(iso(NOW.getTime() - 30 * DAY));
    expect(again.events).toHaveLength(500);
    expect(again.logins['old-user']).toBeUndefined();
    await c.close();
  });
});

describe('the window read', () => {
  it('starts at the window start, not the overlap, when the stored mark is older than the window', async () => {
    server.load(busyOrg());
    const c = client(new TestClock());
    const kv = memoryKeyValueStore();
    await kv.set(eventStateKey(c.orgKey), { v: 2, cursor: iso(NOW.getTime() - 40 * DAY), seen: {}, extension: {}, logins: {} } satisfies EventState);
    const r = await c.readEventsSince(kv);
    expect(r.firstRun).toBe(false);
    expect(r.start).toBe(iso(NOW.getTime() - 30 * DAY));
    expect(server.requests('GET', '/public/events')[0]!.query.start).toBe(iso(NOW.getTime() - 30 * DAY));
    expect(r.events).toHaveLength(500);
    await c.close();
  });

  it('sends no request for an empty window and never moves the mark backwards (clock stepped back)', async () => {
    server.load(busyOrg());
    const clock = new TestClock();
    const kv = memoryKeyValueStore();
    const c = client(clock);
    const first = await c.readEventsSince(kv);
    const mark = first.end;

    // Stepped back by exactly the overlap: the window [mark − overlap, now − 30 s] is empty.
    clock.set(new Date(NOW.getTime() - EVENT_OVERLAP_MS));
    server.resetLog();
    const empty = await c.readEventsSince(kv);
    expect(empty.start).toBe(empty.end);
    expect(empty).toMatchObject({ pages: 0, events: [], duplicates: 0, firstRun: false });
    expect(server.count('GET', '/public/events')).toBe(0);
    expect(await kv.get<EventState>(eventStateKey(c.orgKey))).toMatchObject({ cursor: mark });

    // Stepped back further: start after end.
    clock.set(new Date(NOW.getTime() - EVENT_OVERLAP_MS - 3_600_000));
    const inverted = await c.readEventsSince(kv);
    expect(inverted.start > inverted.end).toBe(true);
    expect(inverted.pages).toBe(0);
    expect(server.count('GET', '/public/events')).toBe(0);
    expect(await kv.get<EventState>(eventStateKey(c.orgKey))).toMatchObject({ cursor: mark });
    await c.close();
  });

  it('stops a paging that never ends after maxPages pages, naming the host and the endpoint', async () => {
    const org = busyOrg();
    org.quirks = { endlessPages: true };
    server.load(org);
    const c = client(new TestClock());
    // The budget only bounds the test should the page limit not hold.
    const e = await c.readEventsSince(memoryKeyValueStore(), c.orgKey, { maxPages: 3, budget: new RequestBudget(10) }).catch((x: unknown) => x);
    const host = new URL(server.url).host;
    expect(e).toMatchObject({ code: 'bitwarden_bad_response', userMessage: { key: 'bw.error.bad_response', vars: { host, path: '/public/events' } } });
    expect((e as Error).message).toBe(`unexpected response from ${host}/public/events: paging did not end after 3 pages`);
    expect(server.count('GET', '/public/events')).toBe(3);
    await c.close();
  });
});
