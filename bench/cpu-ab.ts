/**
 * CPU per request of compiled bwprep builds side by side, against the floor (`servers/floor.ts`): the A/B
 * probe behind bench/README.md "After the application layer, round 2". Quicker than `ack.ts` and made to
 * compare commits on a shared machine: every build runs in the same rounds, in a rotating order (or all at
 * once with BENCH_AB_PAIRED=1), so background load falls on all alike.
 *
 * Each build is a `tsc -p tsconfig.bench.json` output directory (copy `dist-bench/` aside before checking
 * out the next commit); its own `bench/servers/bwprep.js` and fake Slack run. Per round and build: a
 * closed loop ×BENCH_AB_CONCURRENCY (32) of ack.ts's request mix for BENCH_AB_MS (4000) ms, or a fixed
 * BENCH_AB_RPS, then a wait until the work is done (`bwprep_handler_seconds_count`); CPU per request is the
 * server's CPU time (/proc) over both, divided by the requests acked, as in ack.ts.
 *
 *   cp -a dist-bench /tmp/x/dist-old   # (node_modules must resolve from there: keep it inside the repo)
 *   BENCH_AB_BUILDS=old:dist-old,new:dist-bench node dist-bench/bench/cpu-ab.js
 *
 * Env: BENCH_AB_BUILDS (name:dir relative to the repo root, comma-separated; default new:dist-bench),
 * BENCH_AB_ROUNDS (3), BENCH_AB_MS, BENCH_AB_CONCURRENCY, BENCH_AB_RPS, BENCH_AB_PAIRED.
 */
import './lib/links';
import os from 'node:os';
import path from 'node:path';
import { FAKE_SIGNING_SECRET, FAKE_USERS, type SlackRequest, slashCommand } from '../test/helpers/slack-requests';
import { type Child, startChild } from './lib/child';
import { CHANNELS, requestStream } from './lib/slack-mix';
import { closedLoop, fixedRate, get, makePool } from './lib/load';
import { procCpuMs } from './lib/proc';
import { REPO_ROOT } from './lib/links';
import { round, sleep } from './lib/stats';

const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 3);
const MS = Number(process.env.BENCH_AB_MS ?? 4000);
const CONCURRENCY = Number(process.env.BENCH_AB_CONCURRENCY ?? 32);
const RPS = process.env.BENCH_AB_RPS ? Number(process.env.BENCH_AB_RPS) : undefined;

interface Target {
  name: string;
  server: Child;
  fake: Child;
  pool: ReturnType<typeof makePool>;
  probe: ReturnType<typeof makePool>;
  acked: number;
  cpuMs: number;
  requests: number;
  perRound: number[];
}

async function workDone(t: Target): Promise<number> {
  const { text } = await get(t.probe, '/metrics');
  let done = 0;
  for (const m of text.matchAll(/^bwprep_handler_seconds_count\{[^}]*\} (\d+)/gm)) done += Number(m[1]);
  for (const m of text.matchAll(/^bwprep_work_dropped_total\{[^}]*\} (\d+)/gm)) done += Number(m[1]);
  return done;
}

async function drain(t: Target): Promise<void> {
  const t0 = performance.now();
  while ((await workDone(t)) < t.acked && performance.now() - t0 < 90_000) await sleep(20);
}

async function start(name: string, dir: string | undefined, floorFake: Child): Promise<Target> {
  let server: Child;
  let fake: Child;
  if (dir === undefined) {
    fake = floorFake;
    server = await startChild('floor', { BENCH_SLACK_API_URL: String(fake.ready.apiUrl) });
  } else {
    // The build's own child starter, so its own servers run.
    const lib = (await import(path.join(REPO_ROOT, dir, 'bench', 'lib', 'child.js'))) as { startChild: typeof startChild };
    fake = await lib.startChild('fake-slack');
    server = await lib.startChild('bwprep', { BENCH_SLACK_API_URL: String(fake.ready.apiUrl) });
  }
  return {
    name,
    server,
    fake,
    pool: makePool(server.ready.url, CONCURRENCY),
    probe: makePool(server.ready.url, 1),
    acked: 0,
    cpuMs: 0,
    requests: 0,
    perRound: [],
  };
}

async function prime(t: Target): Promise<void> {
  const url = t.fake.ready.url;
  const reqs = CHANNELS.map((channel, i) =>
    slashCommand({
      text: 'status',
      user_id: FAKE_USERS.alice,
      channel_id: channel,
      channel_name: channel.toLowerCase(),
      response_url: `${url}/response/prime-${i}`,
    }),
  );
  t.acked += (await closedLoop(t.pool, FAKE_SIGNING_SECRET, 1, 0, (i) => reqs[i] as SlackRequest, reqs.length)).ok;
  t.acked += (await closedLoop(t.pool, FAKE_SIGNING_SECRET, CONCURRENCY, 2000, requestStream(2, url, 'warm'))).ok;
  await drain(t);
}

async function measure(t: Target, r: number): Promise<void> {
  const c0 = procCpuMs(t.server.pid) ?? 0;
  const stream = requestStream(200 + r, t.fake.ready.url, `r${r}`);
  const o = RPS ? await fixedRate(t.pool, FAKE_SIGNING_SECRET, RPS, MS, stream) : await closedLoop(t.pool, FAKE_SIGNING_SECRET, CONCURRENCY, MS, stream);
  t.acked += o.ok;
  await drain(t);
  const cpu = (procCpuMs(t.server.pid) ?? 0) - c0;
  t.cpuMs += cpu;
  t.requests += o.ok;
  t.perRound.push(round(cpu / Math.max(1, o.ok), 3));
}

async function main(): Promise<void> {
  const builds = (process.env.BENCH_AB_BUILDS ?? 'new:dist-bench').split(',').map((s) => s.split(':') as [string, string]);
  const floorFake = await startChild('fake-slack');
  const targets: Target[] = [];
  try {
    for (const [name, dir] of builds) targets.push(await start(name, dir, floorFake));
    targets.push(await start('floor', undefined, floorFake));
    for (const t of targets) await prime(t);
    for (let r = 0; r < ROUNDS; r++) {
      process.stderr.write(`cpu-ab: round ${r + 1}/${ROUNDS}\n`);
      if (process.env.BENCH_AB_PAIRED === '1') await Promise.all(targets.map((t) => measure(t, r)));
      else for (const t of targets.map((_, i) => targets[(i + r) % targets.length] as Target)) await measure(t, r);
    }
    const floor = targets[targets.length - 1] as Target;
    const floorMs = floor.cpuMs / Math.max(1, floor.requests);
    for (const t of targets) {
      const ms = t.cpuMs / Math.max(1, t.requests);
      process.stdout.write(
        `${t.name}: ${round(ms, 3)} ms CPU per request (${round(ms / floorMs)}× floor) over ${t.requests} requests; per round ${t.perRound.join(', ')}\n`,
      );
    }
    process.stdout.write(
      `load average at the end: ${os
        .loadavg()
        .map((x) => round(x, 1))
        .join(', ')}\n`,
    );
  } finally {
    for (const t of targets) {
      await Promise.all([t.pool.close(), t.probe.close()]);
      await t.server.stop();
      if (t.fake !== floorFake) await t.fake.stop();
    }
    await floorFake.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
