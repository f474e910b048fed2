import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitwardenClient } from '../../src/bitwarden/client';
import { type EventState, eventStateKey } from '../../src/bitwarden/events';
import { memoryKeyValueStore } from '../../src/bitwarden/memory-kv';
import { type FakeBitwardenServer, startFakeBitwarden } from '../fakes/bitwarden-server';
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
  return new BitwardenClient({ endpoints: fakeEndpoints(server, 'cloud-us'), clientId: server.clientId, clientSecret: FAKE_SECRET, clock, retry: { baseDelayMs: 1 } });
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
    expect(server.count('GET', '/public/events')).toBe(1);
    expect(server.requests('GET', '/public/events')[0]!.query.start).toBe(firstEnd);
    expect(second.events).toHaveLength(7);
    // 30 days of extension users are still known: 45 from the first run + member 46.
    expect(Object.keys(second.extension)).toHaveLength(46);
    const state = await kv.get<EventState>(eventStateKey(c.orgKey));
    expect(state).toMatchObject({ v: 1, cursor: second.end });
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
    expect(server.requests('GET', '/public/events').at(-1)!.query.start).toBe(boundary.toISOString());
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
    const c = new BitwardenClient({ endpoints: fakeEndpoints(server, 'self-hosted'), clientId: server.clientId, clientSecret: FAKE_SECRET, clock: new TestClock() });
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
    expect(second['5b']).toMatchObject({ status: 'pass', evidence: { counts: { withExtension: 45, newEvents: 0, eventPages: 1 }, detail: { incremental: true } } });
    expect(server.count('GET', '/public/events')).toBe(1);
    expect(server.count('POST', '/connect/token')).toBe(0);
  });
});
