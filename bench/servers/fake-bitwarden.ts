/**
 * The fake Bitwarden server (test/fakes/bitwarden-server.ts) in its own process, so its work does not run
 * on the event loop of the client under test. Driven over IPC:
 *   load {spec, now, latencyMs}  → generates the organization here (no 50,000 events over IPC), adds the
 *                                  latency to every request (the fake's `slow` fault), answers `loaded`
 *   addEvents {count, from, to}  → appends events (between two runs)
 *   stats                        → requests by method and path since the last stats, peak in flight
 *
 * One deviation, on this instance only: the fake's `events()` filters and re-sorts the WHOLE event list
 * for every page (Date.parse in the sort comparator). At 50,000 events that costs far more than the
 * latency being simulated and would make the benchmark measure the fake. We measure that cost once
 * (reported as `fakeOriginalPageMs`), then replace `events()` on this instance with the same logic over a
 * list filtered and sorted once per (range, event count). Answers are identical (same order, same tokens).
 */
import '../lib/links';
import { FakeBitwardenServer, type EventJson } from '../../test/fakes/bitwarden-server';
import { bigOrg, type BigOrgSpec, eventsBetween } from '../lib/big-org';
import { exitWithParent, toParent } from '../lib/child';

type Send = (status: number, payload: unknown, headers?: Record<string, string>) => void;
type EventsFn = (u: URL, send: Send) => void;

function memoizedEvents(fake: FakeBitwardenServer, original: EventsFn): EventsFn {
  let memo: { key: string; list: EventJson[] } | undefined;
  return (u, send) => {
    const org = fake.fixture;
    const q = u.searchParams;
    const start = q.get('start');
    const end = q.get('end');
    // Anything unusual (quirks, missing or bad range): the fake's own code.
    if (org.quirks || !start || !end || Number.isNaN(Date.parse(start)) || Number.isNaN(Date.parse(end))) return original.call(fake, u, send);
    const s = Date.parse(start);
    const e = Date.parse(end);
    const [lo, hi] = s <= e ? [s, e] : [e, s];
    if (hi - lo > 367 * 86_400_000) return original.call(fake, u, send);
    const key = `${lo}|${hi}|${org.events.length}`;
    if (memo?.key !== key) {
      const withTime = org.events.map((ev) => ({ ev, t: Date.parse(ev.date) })).filter((x) => x.t >= lo && x.t <= hi);
      withTime.sort((a, b) => b.t - a.t); // stable, newest first: the fake's order
      memo = { key, list: withTime.map((x) => x.ev) };
    }
    const matching = memo.list;
    const raw = q.get('continuationToken');
    let offset = 0;
    if (raw) {
      const m = /^o:(\d+)(:e)?$/.exec(Buffer.from(raw, 'base64').toString('utf8'));
      if (!m) return send(400, { object: 'error', message: 'Invalid continuation token.', errors: null });
      offset = Number(m[1]);
    }
    const page = matching.slice(offset, offset + fake.pageSize);
    const next = offset + fake.pageSize < matching.length ? Buffer.from(`o:${offset + fake.pageSize}`).toString('base64') : null;
    send(200, { object: 'list', data: page, continuationToken: next });
  };
}

async function main() {
  const fake = await new FakeBitwardenServer().start();
  const slot = fake as unknown as { events: EventsFn };
  const original = slot.events;
  process.on('message', (m: { type?: string; [k: string]: unknown }) => {
    if (m?.type === 'load') {
      const spec = m.spec as BigOrgSpec;
      const now = new Date(m.now as string);
      const t0 = performance.now();
      fake.load(bigOrg(now, spec));
      const generateMs = performance.now() - t0;
      // The fake's own events() on a first page, a few times (see the header).
      const end = new Date(now.getTime() - 30_000).toISOString();
      const start = new Date(now.getTime() - 30 * 86_400_000).toISOString();
      const u = new URL(`http://fake/public/events?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`);
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t1 = performance.now();
        original.call(fake, u, () => undefined);
        times.push(performance.now() - t1);
      }
      const fakeOriginalPageMs = [...times].sort((a, b) => a - b)[2] as number;
      if (m.memoize !== false) slot.events = memoizedEvents(fake, original);
      const latencyMs = Number(m.latencyMs ?? 0);
      if (latencyMs > 0) fake.fault({ path: /.*/, kind: 'slow', delayMs: latencyMs });
      fake.resetLog();
      toParent({
        type: 'stats',
        reply: 'loaded',
        clientId: fake.clientId,
        clientSecret: fake.fixture.clientSecret,
        generateMs,
        fakeOriginalPageMs,
        counts: { members: fake.fixture.members.length, groups: fake.fixture.groups.length, collections: fake.fixture.collections.length, events: fake.fixture.events.length },
      });
    } else if (m?.type === 'addEvents') {
      const from = new Date(m.from as string);
      const to = new Date(m.to as string);
      fake.addEvents(eventsBetween(from, to, Number(m.count), fake.fixture.members.length, 3));
      toParent({ type: 'stats', reply: 'added', events: fake.fixture.events.length });
    } else if (m?.type === 'stats') {
      const byPath: Record<string, number> = {};
      const statuses: Record<string, number> = {};
      const eventStarts = new Set<string>();
      for (const r of fake.log) {
        const k = `${r.method} ${r.path}`;
        byPath[k] = (byPath[k] ?? 0) + 1;
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.path === '/public/events' && r.query.start) eventStarts.add(r.query.start);
      }
      toParent({ type: 'stats', reply: 'stats', total: fake.log.length, byPath, statuses, peakInFlight: fake.peakInFlight, eventStarts: [...eventStarts] });
      fake.resetLog();
    }
  });
  exitWithParent(() => fake.stop());
  toParent({ type: 'ready', url: fake.url });
}

main().catch((e: unknown) => {
  toParent({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(1);
});
