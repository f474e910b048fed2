/**
 * A small loopback load generator on undici: open-loop fixed rate (latency from the *intended* send time,
 * so a stalled server cannot hide queueing: no coordinated omission) and closed loop (N workers, each
 * sending its next request when the previous answer arrived).
 *
 * The generic pair (`fixedRateHttp`, `closedLoopHttp`) sends any POST (`HttpRequestSpec`); `fixedRate` and
 * `closedLoop` are the Slack ack benchmark's: signed requests to `/slack/events`.
 */
import { Pool } from 'undici';
import type { SlackRequest } from '../../test/helpers/slack-requests';
import { slackHeaders } from '../../test/helpers/slack-requests';
import { sleep } from './stats';

export interface LoadOutcome {
  /** Latency (ms) of every request answered 200. */
  latencies: number[];
  sent: number;
  ok: number;
  /** Non-200 answers by status, and transport errors by code. */
  statuses: Record<string, number>;
  errors: Record<string, number>;
  over3s: number;
  /** Wall time from the first send to the last answer, ms. */
  elapsedMs: number;
  /** Open loop: how late (ms) the generator sent relative to schedule, at worst. */
  maxSendLagMs?: number;
  /** Latencies (ms) of the 200s by `HttpRequestSpec.kind`, when the requests name one. */
  latenciesByKind?: Record<string, number[]>;
  /** Answers counted by what `HttpRequestSpec.tag` said of them (e.g. which kind of invoke response). */
  tags?: Record<string, number>;
}

/** One POST the generator sends. Built when it is sent (`next(i)`), so a signature's timestamp is fresh. */
export interface HttpRequestSpec {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Groups the latencies (`LoadOutcome.latenciesByKind`), e.g. `invoke` and `message`. */
  kind?: string;
  /** Names what the answer was (counted in `LoadOutcome.tags`); undefined counts nothing. */
  tag?: (status: number, body: string) => string | undefined;
}

const newOutcome = (): LoadOutcome => ({ latencies: [], sent: 0, ok: 0, statuses: {}, errors: {}, over3s: 0, elapsedMs: 0 });

export function makePool(url: string, connections: number): Pool {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
}

/** A Slack request as Slack sends it: signed with `signingSecret`, POSTed to /slack/events. */
const slackHttp = (signingSecret: string, req: SlackRequest): HttpRequestSpec => ({
  path: '/slack/events',
  headers: slackHeaders(signingSecret, req),
  body: req.body,
});

async function sendOne(pool: Pool, req: HttpRequestSpec, started: number, out: LoadOutcome): Promise<void> {
  out.sent += 1;
  try {
    const res = await pool.request({ path: req.path, method: 'POST', headers: req.headers, body: req.body });
    const text = await res.body.text();
    const ms = performance.now() - started;
    if (ms > 3000) out.over3s += 1;
    if (res.statusCode === 200) {
      out.ok += 1;
      out.latencies.push(ms);
      if (req.kind) ((out.latenciesByKind ??= {})[req.kind] ??= []).push(ms);
    } else {
      out.statuses[res.statusCode] = (out.statuses[res.statusCode] ?? 0) + 1;
    }
    const tag = req.tag?.(res.statusCode, text);
    if (tag) {
      const tags = (out.tags ??= {});
      tags[tag] = (tags[tag] ?? 0) + 1;
    }
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).name ?? 'error';
    out.errors[code] = (out.errors[code] ?? 0) + 1;
  }
}

/** Sends `rps` requests a second for `durationMs`; `next(i)` builds request i when it is due. */
export async function fixedRateHttp(pool: Pool, rps: number, durationMs: number, next: (i: number) => HttpRequestSpec): Promise<LoadOutcome> {
  const out = newOutcome();
  const total = Math.round((rps * durationMs) / 1000);
  const interval = 1000 / rps;
  const pending: Promise<void>[] = [];
  let maxLag = 0;
  const t0 = performance.now();
  let i = 0;
  while (i < total) {
    const now = performance.now();
    while (i < total && t0 + i * interval <= now) {
      const intended = t0 + i * interval;
      maxLag = Math.max(maxLag, now - intended);
      pending.push(sendOne(pool, next(i), intended, out));
      i += 1;
    }
    if (i < total) await sleep(Math.max(0, Math.min(interval, t0 + i * interval - performance.now())));
  }
  await Promise.all(pending);
  out.elapsedMs = performance.now() - t0;
  out.maxSendLagMs = maxLag;
  return out;
}

/** `fixedRateHttp` with Slack requests signed by `signingSecret`. */
export function fixedRate(pool: Pool, signingSecret: string, rps: number, durationMs: number, next: (i: number) => SlackRequest): Promise<LoadOutcome> {
  return fixedRateHttp(pool, rps, durationMs, (i) => slackHttp(signingSecret, next(i)));
}

/**
 * `concurrency` workers send back to back for `durationMs` (requests in flight at the end finish), or, when
 * `count` is given, until `count` requests were sent.
 */
export async function closedLoopHttp(
  pool: Pool,
  concurrency: number,
  durationMs: number,
  next: (i: number) => HttpRequestSpec,
  count?: number,
): Promise<LoadOutcome> {
  const out = newOutcome();
  const t0 = performance.now();
  const end = t0 + durationMs;
  let i = 0;
  const more = () => (count !== undefined ? i < count : performance.now() < end);
  const worker = async () => {
    while (more()) {
      const req = next(i++);
      await sendOne(pool, req, performance.now(), out);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  out.elapsedMs = performance.now() - t0;
  return out;
}

/** `closedLoopHttp` with Slack requests signed by `signingSecret`. */
export function closedLoop(
  pool: Pool,
  signingSecret: string,
  concurrency: number,
  durationMs: number,
  next: (i: number) => SlackRequest,
  count?: number,
): Promise<LoadOutcome> {
  return closedLoopHttp(pool, concurrency, durationMs, (i) => slackHttp(signingSecret, next(i)), count);
}

/** GET a path on the pool's origin; returns status and text. */
export async function get(pool: Pool, path: string): Promise<{ status: number; text: string }> {
  const res = await pool.request({ path, method: 'GET' });
  return { status: res.statusCode, text: await res.body.text() };
}
