/**
 * The fake Bitwarden server (test/fakes/bitwarden-server.ts) in its own process, so its work does not run
 * on the event loop of the client under test. Driven over IPC:
 *   load {spec, now, latencyMs}  → generates the organization here (no 50,000 events over IPC), adds the
 *                                  latency to every request (the fake's `slow` fault), answers `loaded`
 *   addEvents {count, from, to}  → appends events (between two runs)
 *   countEvents {from, to}       → how many events are dated in [from, to] (the overlap's expected size)
 *   quirks {quirks}              → sets the fixture's quirks (e.g. an old server's null associations)
 *   stats                        → requests by method and path since the last stats, peak in flight
 *                                  (per-id paths are counted as /public/groups/{id}, /public/collections/{id})
 */
import '../lib/links';
import { FakeBitwardenServer } from '../../test/fakes/bitwarden-server';
import { bigOrg, type BigOrgSpec, eventsBetween } from '../lib/big-org';
import { exitWithParent, toParent } from '../lib/child';

async function main() {
  const fake = await new FakeBitwardenServer().start();
  process.on('message', (m: { type?: string; [k: string]: unknown }) => {
    if (m?.type === 'load') {
      const spec = m.spec as BigOrgSpec;
      const now = new Date(m.now as string);
      const t0 = performance.now();
      fake.load(bigOrg(now, spec));
      const generateMs = performance.now() - t0;
      const latencyMs = Number(m.latencyMs ?? 0);
      if (latencyMs > 0) fake.fault({ path: /.*/, kind: 'slow', delayMs: latencyMs });
      fake.resetLog();
      toParent({
        type: 'stats',
        reply: 'loaded',
        clientId: fake.clientId,
        clientSecret: fake.fixture.clientSecret,
        generateMs,
        counts: {
          members: fake.fixture.members.length,
          groups: fake.fixture.groups.length,
          collections: fake.fixture.collections.length,
          events: fake.fixture.events.length,
        },
      });
    } else if (m?.type === 'addEvents') {
      const from = new Date(m.from as string);
      const to = new Date(m.to as string);
      fake.addEvents(eventsBetween(from, to, Number(m.count), fake.fixture.members.length, 3));
      toParent({ type: 'stats', reply: 'added', events: fake.fixture.events.length });
    } else if (m?.type === 'countEvents') {
      const from = Date.parse(m.from as string);
      const to = Date.parse(m.to as string);
      const count = fake.fixture.events.filter((e) => {
        const t = Date.parse(e.date);
        return t >= from && t <= to;
      }).length;
      toParent({ type: 'stats', reply: 'counted', count });
    } else if (m?.type === 'quirks') {
      fake.fixture.quirks = { ...(fake.fixture.quirks ?? {}), ...(m.quirks as object) };
      toParent({ type: 'stats', reply: 'quirked' });
    } else if (m?.type === 'stats') {
      const byPath: Record<string, number> = {};
      const statuses: Record<string, number> = {};
      const eventStarts = new Set<string>();
      for (const r of fake.log) {
        const k = `${r.method} ${r.path.replace(/^(\/public\/(?:groups|collections))\/[^/]+$/, '$1/{id}')}`;
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
