/**
 * Benchmark 5 — Teams invoke ack (issue 12, last bullet of "How"): the same figures as ack.ts, for Teams.
 *
 * Two bots, each in its own child process, both with Bot Framework auth ON as in production (app id and
 * password; every request carries a channel token the bot validates against the published signing key):
 * - the real bwprep (servers/bwprep.ts in Teams mode: startBwprep, SQLite, Teams only, pino at info into a
 *   file, the scheduler's timer off);
 * - a bare botbuilder CloudAdapter bot (servers/bare-teams.ts) that answers each `adaptiveCard/action`
 *   invoke with `{ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'ok' }` and
 *   each message with nothing.
 * A third process is the fake Bot Connector (servers/fake-connector.ts): the serviceUrl of every activity
 * (bwprep's card posts, card updates, replies and roster reads go there) and the OpenID metadata + JWKS
 * both bots fetch the signing key from. Outbound Entra ID tokens: lib/bot-token.ts.
 *
 * The load (this process, undici), the same seeded sequence for both bots: 10 % `@bwprep status` messages
 * in a channel (bwprep posts a new card and retires the old one), 45 % `mark_done`, 45 % `reopen_step`
 * Action.Execute invokes (the real verbs, `data.ref` = `step@rollout`) on 10 steps across CONVERSATIONS
 * channels (= rollouts), pressed by the rollouts' admin; about half the presses change a step (bwprep
 * updates the card for everyone and answers with the new card), half are no-ops (answered with a notice).
 *
 * Unlike Slack, a Teams invoke is answered with its result: bwprep does its work (store write, card
 * update through the connector, card render) BEFORE the HTTP answer, so the invoke latency includes the
 * work, and the bare bot's answer does none of it. See bench/README.md §5 for what that means.
 *
 *   (a) fixed rate, open loop, RPS per bot, ROUNDS rounds, both bots loaded at the same time (paired):
 *       invoke latency from the intended send time, p50/p95/p99/max, per-round p99 ratio, answers over 3 s
 *       and over Teams' 15 s, non-200s and transport errors.
 *   (b) closed loop, CONCURRENCY workers: answers per second (= work done, for bwprep).
 *   Also: server CPU per request, peak RSS (VmHWM).
 *
 * Run alone: npx tsc -p tsconfig.bench.json && node dist-bench/bench/teams.js
 */
import './lib/links';
import os from 'node:os';
import { ACTIONS, encodeStepRef } from '../src/views/actions';
import { type Activity, ANNA, BOB, FAKE_TENANT, type FakeTeamsUser, teamsCardAction, teamsMessage } from '../test/teams/activities';
import { FAKE_MS_APP_ID, FAKE_MS_APP_PASSWORD } from '../test/teams/harness';
import { type Child, startChild } from './lib/child';
import { closedLoopHttp, fixedRateHttp, type HttpRequestSpec, type LoadOutcome, makePool } from './lib/load';
import { cpuMeter, kbToMb, machineMeter, procCpuMs, procStatusKb } from './lib/proc';
import { type BenchResult, machine, runAsScript } from './lib/results';
import { type LatencySummary, median, round, type Row, rng, summarize } from './lib/stats';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
/** Invokes + messages per second, per bot, in the fixed-rate phase. */
const RPS = num('BENCH_TEAMS_RPS', 100);
/** Fixed rate: ROUNDS repetitions, SECONDS in all per bot. */
const SECONDS = num('BENCH_TEAMS_SECONDS', 15);
const ROUNDS = num('BENCH_TEAMS_ROUNDS', 5);
/** Closed loop: SAT_ROUNDS rounds, SAT_SECONDS in all per bot. */
const SAT_SECONDS = num('BENCH_TEAMS_SAT_SECONDS', 10);
const SAT_ROUNDS = num('BENCH_TEAMS_SAT_ROUNDS', 2);
const CONCURRENCY = num('BENCH_TEAMS_CONCURRENCY', 32);
/**
 * Channels (= rollouts) the load is spread over. bwprep keeps each conversation under Teams' per-thread
 * limits (src/teams/outbound.ts: sustained one send every 600 ms), so with too few conversations the
 * invoke latency measures that pacing, not the server; see the README.
 */
const CONVERSATIONS = num('BENCH_TEAMS_CONVERSATIONS', 64);
/** BENCH_TEAMS_PAIRED=0: the fixed-rate rounds load one bot after the other (alternating order). */
const PAIRED = process.env.BENCH_TEAMS_PAIRED !== '0';
const WARMUP_SECONDS = 2;
/** Teams answers a request the bot has not answered within 15 s with 504 (shared/reference/chat-platforms.md, Teams row 1). */
const TEAMS_TIMEOUT_MS = 15_000;

const STEPS = ['1a', '2a', '2b', '4a', '4b', '4c', '4d', '4e', '5b', '6'];
const CHANNELS = Array.from({ length: CONVERSATIONS }, (_, i) => `19:bench-${String(i + 1).padStart(3, '0')}@thread.tacv2`);
const rolloutOf = (channel: string) => `teams:${FAKE_TENANT}:${channel}`;

/**
 * An activity in one of the benchmark's channels (a thread in the id, the channel in channelData, as Teams
 * sends it), each channel in a team of its own: bwprep reads a team's roster through the team's outbound
 * queue (one request every ~600 ms), so 64 channels of ONE team would spend the priming waiting for it
 * (~0.75 s per new channel, seen in a trial) instead of measuring anything.
 */
function inChannel(a: Activity, channel: string): Activity {
  const cd = a.channelData as Record<string, unknown>;
  const name = channel.slice(3, 12);
  return { ...a, channelData: { ...cd, team: { id: channel.replace('bench-', 'bench-team-'), name: `Team ${name}` }, channel: { id: channel, name } } };
}

/** What an answer was: an invoke's response type (the updated card, or a message such as a notice). */
function tagAnswer(status: number, body: string): string {
  if (status !== 200) return `http ${status}`;
  if (!body) return 'empty';
  try {
    const type = (JSON.parse(body) as { type?: string }).type ?? 'no type';
    return type.replace('application/vnd.microsoft.', '');
  } catch {
    return 'not json';
  }
}

function toSpec(activity: Activity, token: string, kind: 'invoke' | 'message'): HttpRequestSpec {
  return {
    path: '/api/messages',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(activity),
    kind,
    tag: tagAnswer,
  };
}

function statusMessage(serviceUrl: string, token: string, channel: string, from: FakeTeamsUser): HttpRequestSpec {
  const a = teamsMessage({ serviceUrl, conversationId: `${channel};messageid=1700000000000`, text: 'status', mention: true, from, locale: 'en-US' });
  return toSpec(inChannel(a, channel), token, 'message');
}

function requestStream(seed: number, serviceUrl: string, token: string) {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  return (i: number): HttpRequestSpec => {
    const r = rand();
    const channel = pick(CHANNELS);
    if (r < 0.1) return statusMessage(serviceUrl, token, channel, pick([BOB, ANNA]));
    const verb = r < 0.55 ? ACTIONS.markDone : ACTIONS.reopenStep;
    const a = teamsCardAction({
      serviceUrl,
      conversationId: `${channel};messageid=1700000000000`,
      verb,
      data: { ref: encodeStepRef(rolloutOf(channel), pick(STEPS)) },
      replyToId: `bench-card-${i}`,
      from: BOB,
      locale: 'en-US',
    });
    return toSpec(inChannel(a, channel), token, 'invoke');
  };
}

interface Cpu {
  server?: number | undefined;
  connector?: number | undefined;
  loadGenerator?: number | undefined;
  /** Busy cores on the whole machine (ours + everything else). */
  machine?: number | undefined;
}

type Name = 'bare' | 'bwprep';

interface Phase {
  invoke: LatencySummary;
  message: LatencySummary;
  sent: number;
  ok: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  answers: Record<string, number>;
  invokesOver3s: number;
  invokesOverTeamsTimeout: number;
  /** 200s per second over the windows (closed loop: the saturation throughput). */
  answersPerSec: number;
  maxSendLagMs?: number;
  cpu: Cpu[];
}

function merge(outs: LoadOutcome[], cpu: Cpu[]): Phase {
  const add = (acc: Record<string, number>, x: Record<string, number> | undefined) => {
    for (const [k, v] of Object.entries(x ?? {})) acc[k] = (acc[k] ?? 0) + v;
    return acc;
  };
  const invokes = outs.flatMap((o) => o.latenciesByKind?.invoke ?? []);
  const ok = outs.reduce((s, o) => s + o.ok, 0);
  const elapsed = outs.reduce((s, o) => s + o.elapsedMs, 0);
  const lags = outs.map((o) => o.maxSendLagMs).filter((x): x is number => x !== undefined);
  return {
    invoke: summarize(invokes),
    message: summarize(outs.flatMap((o) => o.latenciesByKind?.message ?? [])),
    sent: outs.reduce((s, o) => s + o.sent, 0),
    ok,
    statuses: outs.reduce((acc, o) => add(acc, o.statuses), {}),
    errors: outs.reduce((acc, o) => add(acc, o.errors), {}),
    answers: outs.reduce((acc, o) => add(acc, o.tags), {}),
    invokesOver3s: invokes.filter((x) => x > 3000).length,
    invokesOverTeamsTimeout: invokes.filter((x) => x > TEAMS_TIMEOUT_MS).length,
    answersPerSec: round((ok / Math.max(1, elapsed)) * 1000, 1),
    ...(lags.length ? { maxSendLagMs: round(Math.max(...lags)) } : {}),
    cpu,
  };
}

interface ConnectorStats {
  calls: Record<string, number>;
  failures: Record<string, number>;
}

const connectorStats = (c: Child) => c.ask<ConnectorStats>({ type: 'stats' }, 'stats');

const diff = (a: Record<string, number>, b: Record<string, number>) => {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) if (v - (a[k] ?? 0)) out[k] = v - (a[k] ?? 0);
  return out;
};

interface TargetResult {
  name: Name;
  fixed: Phase;
  fixedRounds: LatencySummary[];
  saturation: Phase;
  /** Server CPU (ms) per request answered, over the windows (the work is done before the answer). */
  cpuMsPerRequest: { fixed: number; saturation: number };
  rssMb?: number | undefined;
  hwmMb?: number | undefined;
  /** Calls the bot made to the fake Bot Connector over its whole run (warm-up included). */
  connectorCalls: Record<string, number>;
  /** The same, during the fixed-rate rounds only. */
  fixedConnectorCalls: Record<string, number>;
  connectorFailures: Record<string, number>;
  logs?: unknown;
}

/** One bot under test; each has a fake Bot Connector of its own, so the calls counted are its own. */
class Target {
  readonly fixedPool: ReturnType<typeof makePool>;
  readonly satPool: ReturnType<typeof makePool>;
  readonly fixed: LoadOutcome[] = [];
  readonly fixedCpu: Cpu[] = [];
  readonly sat: LoadOutcome[] = [];
  readonly satCpu: Cpu[] = [];
  fixedCpuMs = 0;
  satCpuMs = 0;
  before?: ConnectorStats;
  /** Connector calls made during the fixed-rate rounds (with what finished right after them). */
  fixedCalls: Record<string, number> = {};

  constructor(
    readonly name: Name,
    readonly server: Child,
    readonly connector: Child,
  ) {
    this.fixedPool = makePool(server.ready.url, 128);
    this.satPool = makePool(server.ready.url, CONCURRENCY);
  }

  get serviceUrl() {
    return this.connector.ready.url;
  }

  get token() {
    return String(this.connector.ready.token);
  }

  stream(seed: number) {
    return requestStream(seed, this.serviceUrl, this.token);
  }

  meters() {
    const m = { server: cpuMeter(this.server.pid), connector: cpuMeter(this.connector.pid), loadGenerator: cpuMeter('self'), machine: machineMeter() };
    return (): Cpu => ({ server: m.server(), connector: m.connector(), loadGenerator: m.loadGenerator(), machine: m.machine() });
  }

  /** One `status` per channel (bwprep: creates the rollouts, posts their cards, reads the rosters), then a warm-up. */
  async prime(log: (s: string) => void) {
    this.before = await connectorStats(this.connector);
    const reqs = CHANNELS.map((channel) => statusMessage(this.serviceUrl, this.token, channel, BOB));
    const o = await closedLoopHttp(this.fixedPool, 4, 0, (i) => reqs[i] as HttpRequestSpec, reqs.length);
    if (o.ok !== reqs.length) throw new Error(`${this.name}: priming failed: ${JSON.stringify({ ok: o.ok, statuses: o.statuses, errors: o.errors })}`);
    const warm = await fixedRateHttp(this.fixedPool, RPS, WARMUP_SECONDS * 1000, this.stream(2));
    log(`  ${this.name}: primed ${reqs.length} channels; warm-up answers ${JSON.stringify(warm.tags ?? {})}`);
  }

  async fixedRound(r: number, ms: number) {
    const calls0 = await connectorStats(this.connector);
    const c0 = procCpuMs(this.server.pid) ?? 0;
    const stop = this.meters();
    const o = await fixedRateHttp(this.fixedPool, RPS, ms, this.stream(100 + r));
    this.fixedCpu.push(stop());
    this.fixedCpuMs += (procCpuMs(this.server.pid) ?? 0) - c0;
    this.fixed.push(o);
    for (const [k, v] of Object.entries(diff(calls0.calls, (await connectorStats(this.connector)).calls))) this.fixedCalls[k] = (this.fixedCalls[k] ?? 0) + v;
  }

  async satRound(r: number, ms: number) {
    const c0 = procCpuMs(this.server.pid) ?? 0;
    const stop = this.meters();
    const o = await closedLoopHttp(this.satPool, CONCURRENCY, ms, this.stream(200 + r));
    this.satCpu.push(stop());
    this.satCpuMs += (procCpuMs(this.server.pid) ?? 0) - c0;
    this.sat.push(o);
  }

  async result(): Promise<TargetResult> {
    const after = await connectorStats(this.connector);
    const before = this.before ?? { calls: {}, failures: {} };
    const logs = this.name === 'bwprep' ? (await this.server.ask<{ logs: unknown }>({ type: 'stats' }, 'stats')).logs : undefined;
    const fixedOk = this.fixed.reduce((s, o) => s + o.ok, 0);
    const satOk = this.sat.reduce((s, o) => s + o.ok, 0);
    return {
      name: this.name,
      fixed: merge(this.fixed, this.fixedCpu),
      fixedRounds: this.fixed.map((o) => summarize(o.latenciesByKind?.invoke ?? [])),
      saturation: merge(this.sat, this.satCpu),
      cpuMsPerRequest: { fixed: round(this.fixedCpuMs / Math.max(1, fixedOk), 3), saturation: round(this.satCpuMs / Math.max(1, satOk), 3) },
      rssMb: kbToMb(procStatusKb(this.server.pid, 'VmRSS')),
      hwmMb: kbToMb(procStatusKb(this.server.pid, 'VmHWM')),
      connectorCalls: diff(before.calls, after.calls),
      fixedConnectorCalls: this.fixedCalls,
      connectorFailures: diff(before.failures, after.failures),
      ...(logs ? { logs } : {}),
    };
  }

  async close() {
    await Promise.all([this.fixedPool.close(), this.satPool.close()]);
    await this.server.stop();
    await this.connector.stop();
  }
}

const avg = (xs: (number | undefined)[]) => {
  const v = xs.filter((x): x is number => x !== undefined);
  return v.length ? round(v.reduce((a, b) => a + b, 0) / v.length) : undefined;
};
const cpuAvg = (cs: Cpu[]): Cpu => ({
  server: avg(cs.map((c) => c.server)),
  connector: avg(cs.map((c) => c.connector)),
  loadGenerator: avg(cs.map((c) => c.loadGenerator)),
  machine: avg(cs.map((c) => c.machine)),
});

export async function runTeams(write: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<BenchResult> {
  const startedAt = new Date();
  // Each line with the seconds since the start, so a reader sees where a long run spent its time.
  const log = (s: string) => write(`[${((Date.now() - startedAt.getTime()) / 1000).toFixed(1).padStart(5)} s] ${s}`);
  const auth = { BENCH_MS_APP_ID: FAKE_MS_APP_ID, BENCH_MS_APP_PASSWORD: FAKE_MS_APP_PASSWORD };
  const members = JSON.stringify([BOB, ANNA].map((u) => ({ ...u, tenantId: FAKE_TENANT, userRole: 'user' })));
  const connectors = await Promise.all([
    startChild('fake-connector', { ...auth, BENCH_MEMBERS: members }),
    startChild('fake-connector', { ...auth, BENCH_MEMBERS: members }),
  ]);
  const targets: Target[] = [];
  try {
    const [bareConnector, bwConnector] = connectors as [Child, Child];
    const env = (c: Child) => ({
      ...auth,
      BENCH_TEAMS_OPENID_URL: String(c.ready.openIdMetadataUrl),
      BENCH_TEAMS_LOGIN_ORIGIN: String(c.ready.loginOrigin),
      BENCH_TEAMS_GRAPH_URL: String(c.ready.graphUrl),
    });
    const [bareChild, bwChild] = await Promise.all([startChild('bare-teams', env(bareConnector)), startChild('bwprep', env(bwConnector))]);
    const bare = new Target('bare', bareChild, bareConnector);
    const bw = new Target('bwprep', bwChild, bwConnector);
    targets.push(bare, bw);
    log('teams: bots and fake connectors started');
    log(`teams: priming ${CONVERSATIONS} channels and warming up both bots (${WARMUP_SECONDS} s at ${RPS}/s each)`);
    for (const t of targets) await t.prime(log);
    const roundMs = (SECONDS * 1000) / ROUNDS;
    const order = (r: number) => (r % 2 ? [bw, bare] : [bare, bw]);
    for (let r = 0; r < ROUNDS; r++) {
      if (PAIRED) {
        log(`  round ${r + 1}/${ROUNDS}: both bots at ${RPS}/s each, at the same time, for ${roundMs / 1000} s`);
        await Promise.all(targets.map((t) => t.fixedRound(r, roundMs)));
        continue;
      }
      for (const t of order(r)) {
        log(`  round ${r + 1}/${ROUNDS}: ${t.name} at ${RPS}/s for ${roundMs / 1000} s`);
        await t.fixedRound(r, roundMs);
      }
    }
    const satMs = (SAT_SECONDS * 1000) / SAT_ROUNDS;
    for (let r = 0; r < SAT_ROUNDS; r++) {
      for (const t of order(r)) {
        log(`  round ${r + 1}/${SAT_ROUNDS}: ${t.name} closed loop ×${CONCURRENCY} for ${satMs / 1000} s`);
        await t.satRound(r, satMs);
      }
    }
    const b = await bare.result();
    const w = await bw.result();
    log('teams: load done; stopping the bots');

    const roundRatios = w.fixedRounds.map((x, i) => round(x.p99 / (b.fixedRounds[i]?.p99 ?? NaN)));
    const within = roundRatios.filter((x) => x <= 1.5).length;
    const spread = (xs: number[]) => `median ${round(median(xs))}×, ${round(Math.min(...xs))}–${round(Math.max(...xs))}×`;
    const bad = (p: Phase) => Object.values(p.statuses).reduce((x, y) => x + y, 0) + Object.values(p.errors).reduce((x, y) => x + y, 0);
    const ratio = (x: number, y: number) => round(x / y);
    const at = `@${RPS}/s`;
    const rows: Row[] = [
      {
        bench: 'teams',
        metric: `p50 invoke ${at}`,
        value: w.fixed.invoke.p50,
        baseline: b.fixed.invoke.p50,
        unit: 'ms',
        ratio: ratio(w.fixed.invoke.p50, b.fixed.invoke.p50),
      },
      {
        bench: 'teams',
        metric: `p95 invoke ${at}`,
        value: w.fixed.invoke.p95,
        baseline: b.fixed.invoke.p95,
        unit: 'ms',
        ratio: ratio(w.fixed.invoke.p95, b.fixed.invoke.p95),
      },
      {
        bench: 'teams',
        metric: `p99 invoke ${at} (all ${ROUNDS} rounds pooled)`,
        value: w.fixed.invoke.p99,
        baseline: b.fixed.invoke.p99,
        unit: 'ms',
        ratio: ratio(w.fixed.invoke.p99, b.fixed.invoke.p99),
      },
      {
        bench: 'teams',
        metric: `p99 invoke ${at} per round: rounds ≤ 1.5× bare (${roundRatios.join(', ')}×; ${spread(roundRatios)})`,
        value: within,
        baseline: ROUNDS,
      },
      {
        bench: 'teams',
        metric: `max invoke ${at}`,
        value: w.fixed.invoke.max,
        baseline: b.fixed.invoke.max,
        unit: 'ms',
        ratio: ratio(w.fixed.invoke.max, b.fixed.invoke.max),
        target: `< ${TEAMS_TIMEOUT_MS} ms (Teams' timeout)`,
        met: w.fixed.invoke.max < TEAMS_TIMEOUT_MS,
      },
      {
        bench: 'teams',
        metric: `invokes answered after 3 s ${at}`,
        value: w.fixed.invokesOver3s,
        baseline: b.fixed.invokesOver3s,
        target: '0',
        met: w.fixed.invokesOver3s === 0,
      },
      {
        bench: 'teams',
        metric: `invokes answered after 15 s ${at} (Teams shows an error)`,
        value: w.fixed.invokesOverTeamsTimeout,
        baseline: b.fixed.invokesOverTeamsTimeout,
        target: '0',
        met: w.fixed.invokesOverTeamsTimeout === 0,
      },
      {
        bench: 'teams',
        metric: `non-200 + transport errors ${at}`,
        value: bad(w.fixed),
        baseline: bad(b.fixed),
        target: '0',
        met: bad(w.fixed) === 0 && w.fixed.ok === w.fixed.sent,
      },
      {
        bench: 'teams',
        metric: `p50 / p99 \`status\` message ${at} (bwprep: after the card is posted)`,
        value: `${w.fixed.message.p50} / ${w.fixed.message.p99}`,
        baseline: `${b.fixed.message.p50} / ${b.fixed.message.p99}`,
        unit: 'ms',
      },
      {
        bench: 'teams',
        metric: `answers/s closed loop ×${CONCURRENCY} (bwprep: work done)`,
        value: w.saturation.answersPerSec,
        baseline: b.saturation.answersPerSec,
        ratio: ratio(w.saturation.answersPerSec, b.saturation.answersPerSec),
      },
      {
        bench: 'teams',
        metric: `p99 invoke closed loop ×${CONCURRENCY}`,
        value: w.saturation.invoke.p99,
        baseline: b.saturation.invoke.p99,
        unit: 'ms',
        ratio: ratio(w.saturation.invoke.p99, b.saturation.invoke.p99),
      },
      { bench: 'teams', metric: `non-200 + errors closed loop ×${CONCURRENCY}`, value: bad(w.saturation), baseline: bad(b.saturation) },
      {
        bench: 'teams',
        metric: `server CPU per request closed loop (work incl.)`,
        value: w.cpuMsPerRequest.saturation,
        baseline: b.cpuMsPerRequest.saturation,
        unit: 'ms',
        ratio: ratio(w.cpuMsPerRequest.saturation, b.cpuMsPerRequest.saturation),
      },
      {
        bench: 'teams',
        metric: `server CPU per request ${at} (work incl.)`,
        value: w.cpuMsPerRequest.fixed,
        baseline: b.cpuMsPerRequest.fixed,
        unit: 'ms',
        ratio: ratio(w.cpuMsPerRequest.fixed, b.cpuMsPerRequest.fixed),
      },
      {
        bench: 'teams',
        metric: 'peak RSS of the server (VmHWM)',
        value: w.hwmMb,
        baseline: b.hwmMb,
        unit: 'MB',
        ratio: w.hwmMb && b.hwmMb ? ratio(w.hwmMb, b.hwmMb) : undefined,
      },
    ];
    const fc = { bw: cpuAvg(w.fixed.cpu), bare: cpuAvg(b.fixed.cpu) };
    const sc = { bw: cpuAvg(w.saturation.cpu), bare: cpuAvg(b.saturation.cpu) };
    const others = (c: Cpu) => (c.machine !== undefined ? round(c.machine - (c.server ?? 0) - (c.connector ?? 0) - (c.loadGenerator ?? 0)) : undefined);
    const writes = (c: Record<string, number>) => (c.update ?? 0) + (c.send ?? 0) + (c.reply ?? 0) + (c.delete ?? 0) + (c.create ?? 0);
    const notes = [
      PAIRED
        ? `fixed rate paired: in each round both bots got ${RPS}/s each at the same time (same background load; the machine also carried the other bot, two fake connectors and ${2 * RPS}/s of load generation)`
        : 'fixed rate one bot after the other (BENCH_TEAMS_PAIRED=0)',
      `load: ${CONVERSATIONS} channels, 10 % \`@bwprep status\`, 45 % mark_done, 45 % reopen_step invokes on ${STEPS.length} steps; bwprep's Bot Connector writes during the fixed-rate rounds: ${JSON.stringify(w.fixedConnectorCalls)} = ${round(writes(w.fixedConnectorCalls) / Math.max(1, w.fixed.sent), 2)} per request, ${round(writes(w.fixedConnectorCalls) / SECONDS / CONVERSATIONS, 2)}/s per channel (Teams allows 7 in any second per thread, 60 in 30 s; bwprep paces each conversation to ≤ 1.7/s sustained, src/teams/outbound.ts)`,
      `per fixed-rate round p99 invoke (ms) bwprep / bare, with the cores other processes took: ${w.fixedRounds
        .map((x, i) => {
          const o = [w, b].map((t) => t.fixed.cpu[i]).map((c) => (c ? others(c) : undefined));
          return `${x.p99} / ${b.fixedRounds[i]?.p99} (${o.join(' / ')})`;
        })
        .join('; ')}`,
      `invoke answers ${at}: bwprep ${JSON.stringify(w.fixed.answers)}, bare ${JSON.stringify(b.fixed.answers)} (card = the updated card, activity.message = a notice such as "already done")`,
      `CPU in cores ${at}: server bwprep ${fc.bw.server} / bare ${fc.bare.server}; fake connector ${fc.bw.connector} / ${fc.bare.connector}; load generator ${fc.bw.loadGenerator}; whole machine ${fc.bw.machine} of ${machine().cpus}, of which other processes (not this benchmark) ${others(fc.bw)}`,
      `CPU in cores, closed loop: server bwprep ${sc.bw.server} / bare ${sc.bare.server}; fake connector ${sc.bw.connector} / ${sc.bare.connector}; load generator ${sc.bw.loadGenerator} / ${sc.bare.loadGenerator}; whole machine ${sc.bw.machine} / ${sc.bare.machine}, other processes ${others(sc.bw)} / ${others(sc.bare)}`,
      `server CPU per request: bwprep ${w.cpuMsPerRequest.saturation} ms (closed loop) / ${w.cpuMsPerRequest.fixed} ms (fixed rate), bare ${b.cpuMsPerRequest.saturation} / ${b.cpuMsPerRequest.fixed} ms; one dedicated core would answer about ${round(1000 / w.cpuMsPerRequest.saturation, 0)} bwprep requests/s with their work, vs ${round(1000 / b.cpuMsPerRequest.saturation, 0)} bare answers/s`,
      `the load generator sent up to ${w.fixed.maxSendLagMs} ms (bwprep) / ${b.fixed.maxSendLagMs} ms (bare) late; latencies count from the intended send time`,
      `RSS at the end: bwprep ${w.rssMb} MB (peak ${w.hwmMb} MB), bare ${b.rssMb} MB (peak ${b.hwmMb} MB)`,
      `Bot Connector calls by bwprep (whole run incl. priming and warm-up): ${JSON.stringify(w.connectorCalls)}; failed ${JSON.stringify(w.connectorFailures)}; by bare: ${JSON.stringify(b.connectorCalls)}`,
      `bwprep log lines by level: ${JSON.stringify((w.logs as { counts?: unknown } | undefined)?.counts ?? {})}`,
      `load average at the end: ${os
        .loadavg()
        .map((x) => round(x, 2))
        .join(', ')}`,
    ];
    return {
      bench: 'teams',
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      rows,
      details: {
        rps: RPS,
        seconds: SECONDS,
        rounds: ROUNDS,
        paired: PAIRED,
        satSeconds: SAT_SECONDS,
        satRounds: SAT_ROUNDS,
        concurrency: CONCURRENCY,
        conversations: CONVERSATIONS,
        teamsTimeoutMs: TEAMS_TIMEOUT_MS,
        loadavgAtEnd: os.loadavg(),
        p99RoundRatios: roundRatios,
        bare: b,
        bwprep: w,
      },
      notes,
    };
  } finally {
    for (const t of targets) await t.close().catch((err: unknown) => log(`  ${t.name}: could not be closed: ${String(err)}`));
    // Connectors not handed to a target (a bot failed to start) are stopped here; stopping twice is harmless.
    for (const c of connectors) await c.stop();
  }
}

if (require.main === module) runAsScript(runTeams);
