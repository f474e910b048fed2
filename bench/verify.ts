/**
 * Benchmark 3 — full verification of a 10,000-member organization (DESIGN §8).
 *
 * The fake Bitwarden server (servers/fake-bitwarden.ts, its own process) holds a generated cloud
 * organization: 10,000 members, 500 groups, 2,000 collections, 50,000 events (50 per page → 1,000
 * sequential pages), and answers every request after LATENCY_MS. In this process, the real code path:
 * VerificationService → BitwardenVerification (undici client, zod schemas, the check modules, event
 * high-water mark in the SQLite kv) → ChecklistService.recordChecks on a real SQLite store.
 *
 * Reported:
 *   - requests made vs the minimum needed (token 1 + config 1 + members, groups, collections, policies,
 *     subscription 1 each + one request per event page);
 *   - wall time vs the critical-path bound: the event pages must be read one after the other (each needs
 *     the previous continuation token) after the token, so (1 + pages) × LATENCY_MS;
 *   - and vs a measured floor in the same run: a bare undici loop that fetches the same token and pages
 *     sequentially and only JSON.parses them (what the fake + loopback + parsing cost without bwprep);
 *   - a second (incremental) run after adding NEW_EVENTS events: it starts EVENT_OVERLAP_MS (72 h) behind
 *     the first run's high-water mark, because clients upload collected events late (src/bitwarden/
 *     events.ts), so it fetches the new events plus the overlap: pages = ⌈(overlap events + NEW_EVENTS) / 50⌉.
 *     The overlap's cost in requests is reported against the ⌈NEW_EVENTS / 50⌉ a read without it would make;
 *   - every run's requests against its request budget (src/bitwarden/budget.ts, from the org's size);
 *   - a third run of 4b/4c against an "old server" (null associations in both lists): the per-id reads of the
 *     smaller side (500 groups) it makes, against the budget.
 *
 * Run alone: npx tsc -p tsconfig.bench.json && node dist-bench/bench/verify.js
 * Env: BENCH_VERIFY_LATENCY_MS (5), BENCH_VERIFY_EVENTS (50000), BENCH_VERIFY_MEMBERS (10000).
 */
import './lib/links';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { budgetFor, PER_ID_READ_LIMIT } from '../src/bitwarden/budget';
import { EVENT_OVERLAP_MS } from '../src/bitwarden/events';
import { BitwardenVerification } from '../src/bitwarden/verifier';
import { bitwardenEndpoints } from '../src/config/load';
import type { Actor } from '../src/core/checklist/model';
import { ChecklistService } from '../src/core/checklist/service';
import type { Clock } from '../src/core/ports';
import { VerificationService } from '../src/core/verification/service';
import { openStore } from '../src/store';
import { loadTemplate } from '../src/templates';
import { startChild } from './lib/child';
import { cpuMeter, kbToMb, machineMeter, procStatusKb } from './lib/proc';
import { type BenchResult, runAsScript } from './lib/results';
import { round, type Row } from './lib/stats';

const LATENCY_MS = Number(process.env.BENCH_VERIFY_LATENCY_MS ?? 5);
const SPEC = {
  members: Number(process.env.BENCH_VERIFY_MEMBERS ?? 10_000),
  groups: 500,
  collections: 2_000,
  events: Number(process.env.BENCH_VERIFY_EVENTS ?? 50_000),
};
const NEW_EVENTS = 120;
const PAGE = 50;
/** Endpoints a cloud verification needs besides the token and the event pages. */
const SNAPSHOT_ENDPOINTS = [
  'GET /config',
  'GET /public/members',
  'GET /public/groups',
  'GET /public/collections',
  'GET /public/policies',
  'GET /public/organization/subscription',
];

const ADMIN: Actor = { user: 'slack:U0BENCH', surface: 'slack', name: 'Bench' };

class MovableClock implements Clock {
  constructor(private at: number) {}
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

interface FakeStats {
  total: number;
  byPath: Record<string, number>;
  statuses: Record<string, number>;
  peakInFlight: number;
  eventStarts: string[];
}

/** The floor: token, then every event page one after the other with a bare undici loop, JSON.parse only. */
async function rawSequentialFetch(
  url: string,
  clientId: string,
  clientSecret: string,
  start: string,
  end: string,
): Promise<{ ms: number; pages: number; events: number }> {
  const t0 = performance.now();
  const tok = await request(`${url}/identity/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api.organization', client_id: clientId, client_secret: clientSecret }).toString(),
  });
  const { access_token } = (await tok.body.json()) as { access_token: string };
  let token: string | null = null;
  let pages = 0;
  let events = 0;
  for (;;) {
    const q = new URLSearchParams({ start, end });
    if (token) q.set('continuationToken', token);
    const res = await request(`${url}/public/events?${q.toString()}`, { headers: { authorization: `Bearer ${access_token}` } });
    const page = JSON.parse(await res.body.text()) as { data: unknown[]; continuationToken: string | null };
    pages++;
    events += page.data.length;
    if (!page.continuationToken) break;
    token = page.continuationToken;
  }
  return { ms: performance.now() - t0, pages, events };
}

export async function runVerify(log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<BenchResult> {
  const startedAt = new Date();
  const fake = await startChild('fake-bitwarden');
  const dir = mkdtempSync(path.join(tmpdir(), 'bwprep-verify-'));
  const store = await openStore(`sqlite://${path.join(dir, 'bwprep.sqlite')}`);
  try {
    // Whole seconds, so event dates and the window line up predictably.
    const t0 = Math.floor(Date.now() / 1000) * 1000;
    const clock = new MovableClock(t0);
    log(
      `verify: generating ${SPEC.members} members, ${SPEC.groups} groups, ${SPEC.collections} collections, ${SPEC.events} events; latency ${LATENCY_MS} ms per request`,
    );
    const loaded = await fake.ask<{ clientId: string; clientSecret: string; generateMs: number; counts: Record<string, number> }>(
      { type: 'load', spec: SPEC, now: new Date(t0).toISOString(), latencyMs: LATENCY_MS },
      'loaded',
      120_000,
    );
    const url = fake.ready.url;
    const credentials = { clientId: loaded.clientId, clientSecret: loaded.clientSecret };
    const windowStart = new Date(t0 - 30 * 86_400_000).toISOString();
    const windowEnd = new Date(t0 - 30_000).toISOString();

    // Warm up the fake (its JIT) and the loopback path once (not timed), then measure the floor.
    await rawSequentialFetch(url, credentials.clientId, credentials.clientSecret, windowStart, windowEnd);
    log('verify: floor (bare sequential fetch of the token and every page) …');
    const floor = await rawSequentialFetch(url, credentials.clientId, credentials.clientSecret, windowStart, windowEnd);
    await fake.ask<FakeStats>({ type: 'stats' }, 'stats'); // reset the fake's log

    const template = loadTemplate();
    const checklist = new ChecklistService({
      store: store.rollouts,
      template,
      clock,
      defaults: { locale: 'en', hosting: 'cloud-us', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] },
      globalAdmins: [],
    });
    const verifier = new BitwardenVerification({
      kv: store.kv,
      clock,
      endpoints: () => bitwardenEndpoints('cloud-us', undefined, { apiUrl: url, identityUrl: `${url}/identity` }),
    });
    const service = new VerificationService({ checklist, verifier, clock, defaultCredentials: credentials });
    const rollout = await checklist.ensureRollout({ platform: 'slack', workspace: 'T0BENCH', channel: 'C0VERIFY' }, ADMIN);

    log('verify: full run …');
    const heap0 = process.memoryUsage().heapUsed;
    let meters = { self: cpuMeter('self'), fake: cpuMeter(fake.pid), machine: machineMeter() };
    let t = performance.now();
    const run1 = await service.run(rollout, { actor: ADMIN });
    const run1Ms = performance.now() - t;
    const cpu1 = { bwprep: meters.self(), fakeBitwarden: meters.fake(), machine: meters.machine() };
    const heap1 = process.memoryUsage().heapUsed;
    const stats1 = await fake.ask<FakeStats>({ type: 'stats' }, 'stats');

    clock.advance(10 * 60_000);
    await fake.ask({ type: 'addEvents', count: NEW_EVENTS, from: new Date(t0 + 1000).toISOString(), to: new Date(t0 + 9 * 60_000).toISOString() }, 'added');
    log(`verify: incremental run after ${NEW_EVENTS} new events …`);
    meters = { self: cpuMeter('self'), fake: cpuMeter(fake.pid), machine: machineMeter() };
    t = performance.now();
    const run2 = await service.run((await checklist.get(rollout.id)) ?? rollout, { actor: ADMIN });
    const run2Ms = performance.now() - t;
    const cpu2 = { bwprep: meters.self(), fakeBitwarden: meters.fake(), machine: meters.machine() };
    const stats2 = await fake.ask<FakeStats>({ type: 'stats' }, 'stats');

    // Run 3: the same organization behind an old server that leaves associations out of both lists.
    await fake.ask({ type: 'quirks', quirks: { nullGroupCollections: true, nullCollectionGroups: true } }, 'quirked');
    log('verify: old-server run of 4b/4c (per-id reads) …');
    t = performance.now();
    const run3 = await service.run((await checklist.get(rollout.id)) ?? rollout, { stepIds: ['4b', '4c'], actor: ADMIN });
    const run3Ms = performance.now() - t;
    const stats3 = await fake.ask<FakeStats>({ type: 'stats' }, 'stats');
    await verifier.close();

    const pages1 = stats1.byPath['GET /public/events'] ?? 0;
    const pages2 = stats2.byPath['GET /public/events'] ?? 0;
    const minPages1 = Math.ceil(SPEC.events / PAGE);
    const newOnlyPages2 = Math.ceil(NEW_EVENTS / PAGE);
    const overlapStart = new Date(Date.parse(windowEnd) - EVENT_OVERLAP_MS).toISOString();
    const { count: overlapEvents } = await fake.ask<{ count: number }>({ type: 'countEvents', from: overlapStart, to: windowEnd }, 'counted');
    const minPages2 = Math.ceil((overlapEvents + NEW_EVENTS) / PAGE);
    const min1 = 1 + SNAPSHOT_ENDPOINTS.length + minPages1;
    // Second run: the access token is still valid (cached by the client), so no token request is needed.
    const min2 = SNAPSHOT_ENDPOINTS.length + minPages2;
    const bound1 = (1 + minPages1) * LATENCY_MS;
    const bound2 = minPages2 * LATENCY_MS;
    const incrementalFromCursor = stats2.eventStarts.length === 1 && stats2.eventStarts[0] === overlapStart;
    const budget = budgetFor({ members: SPEC.members, groups: SPEC.groups, collections: SPEC.collections });
    const perId3 = (stats3.byPath['GET /public/groups/{id}'] ?? 0) + (stats3.byPath['GET /public/collections/{id}'] ?? 0);
    // config + the two lists + one per-id read per group (the smaller side), when within PER_ID_READ_LIMIT.
    const expectedPerId3 = Math.min(SPEC.groups, SPEC.collections) <= PER_ID_READ_LIMIT ? Math.min(SPEC.groups, SPEC.collections) : 0;
    const min3 = 1 + 2 + expectedPerId3;
    const statuses = (s: FakeStats) =>
      Object.entries(s.statuses)
        .filter(([k]) => k !== '200')
        .reduce((a, [, v]) => a + v, 0);
    const checks = (r: typeof run1) =>
      r.results.reduce<Record<string, number>>((acc, x) => ((acc[x.record.status] = (acc[x.record.status] ?? 0) + 1), acc), {});

    const rows: Row[] = [
      {
        bench: 'verify',
        metric: 'run 1: requests made vs minimum',
        value: stats1.total,
        baseline: min1,
        ratio: round(stats1.total / min1),
        target: '= minimum',
        met: stats1.total === min1,
      },
      {
        bench: 'verify',
        metric: 'run 1: requests vs request budget',
        value: stats1.total,
        baseline: budget,
        ratio: round(stats1.total / budget, 4),
        target: '≤ budget',
        met: stats1.total <= budget,
      },
      {
        bench: 'verify',
        metric: 'run 1: wall vs critical-path bound',
        value: round(run1Ms, 0),
        baseline: bound1,
        unit: 'ms',
        ratio: round(run1Ms / bound1),
        target: 'reported',
      },
      {
        bench: 'verify',
        metric: 'run 1: wall vs bare sequential fetch',
        value: round(run1Ms, 0),
        baseline: round(floor.ms, 0),
        unit: 'ms',
        ratio: round(run1Ms / floor.ms),
      },
      {
        bench: 'verify',
        metric: 'run 2 (+120 events): requests vs min',
        value: stats2.total,
        baseline: min2,
        ratio: round(stats2.total / min2),
        target: 'new events + 72 h overlap',
        met: pages2 === minPages2 && incrementalFromCursor,
      },
      {
        bench: 'verify',
        metric: 'run 2: event pages vs without overlap',
        value: pages2,
        baseline: newOnlyPages2,
        ratio: round(pages2 / newOnlyPages2),
        target: 'overlap cost, reported',
      },
      { bench: 'verify', metric: 'run 2: wall time', value: round(run2Ms, 0), baseline: bound2, unit: 'ms', ratio: round(run2Ms / bound2) },
      {
        bench: 'verify',
        metric: 'run 3 (old server, 4b/4c): requests',
        value: stats3.total,
        baseline: min3,
        ratio: round(stats3.total / min3),
        target: 'per-id reads ≤ budget',
        met: stats3.total === min3 && stats3.total <= budget,
      },
    ];
    const notes = [
      `run 1 requests by endpoint: ${JSON.stringify(stats1.byPath)}; non-200 answers ${statuses(stats1)}; peak in flight ${stats1.peakInFlight}; ${pages1} event pages; request budget for this org ${budget}`,
      `run 2 requests by endpoint: ${JSON.stringify(stats2.byPath)}; event reads started at ${stats2.eventStarts.join(', ')} (first run's high-water mark ${windowEnd} − 72 h)`,
      `run 2 overlap cost: ${overlapEvents} events dated in the 72 h overlap are read again → ${pages2 - newOnlyPages2} extra requests (${pages2} pages instead of ${newOnlyPages2})`,
      `run 3 (old server): ${perId3} per-id reads, requests by endpoint ${JSON.stringify(stats3.byPath)}, ${round(run3Ms, 0)} ms; outcomes ${JSON.stringify(checks(run3))}`,
      `floor: ${floor.pages} pages, ${floor.events} events, ${round(floor.ms, 0)} ms = ${round(floor.ms / floor.pages, 2)} ms per page at ${LATENCY_MS} ms latency (fake + loopback + JSON.parse)`,
      `CPU in cores, run 1: bwprep ${cpu1.bwprep}, fake Bitwarden ${cpu1.fakeBitwarden}, whole machine ${cpu1.machine}; run 2: bwprep ${cpu2.bwprep}, machine ${cpu2.machine}`,
      `check outcomes run 1: ${JSON.stringify(checks(run1))}; run 2: ${JSON.stringify(checks(run2))}; transitions run 1: ${run1.transitions.length}`,
      `heap growth over run 1: ${round((heap1 - heap0) / 1048576, 1)} MB; RSS ${kbToMb(procStatusKb('self', 'VmRSS'))} MB, peak ${kbToMb(procStatusKb('self', 'VmHWM'))} MB`,
    ];
    return {
      bench: 'verify',
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      rows,
      details: {
        spec: SPEC,
        latencyMs: LATENCY_MS,
        newEvents: NEW_EVENTS,
        generateMs: round(loaded.generateMs),
        floor,
        run1: { ms: round(run1Ms), minimum: min1, boundMs: bound1, cpu: cpu1, fake: stats1, checks: checks(run1) },
        run2: {
          ms: round(run2Ms),
          minimum: min2,
          boundMs: bound2,
          cpu: cpu2,
          fake: stats2,
          checks: checks(run2),
          incrementalFromCursor,
          overlapEvents,
          overlapExtraRequests: pages2 - newOnlyPages2,
        },
        run3: { ms: round(run3Ms), minimum: min3, perIdReads: perId3, fake: stats3, checks: checks(run3) },
        budget,
      },
      notes,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    await fake.stop();
  }
}

if (require.main === module) runAsScript(runVerify);
