/**
 * A small loopback load generator on undici: open-loop fixed rate (latency from the *intended* send time,
 * so a stalled server cannot hide queueing: no coordinated omission) and closed loop (N workers, each
 * sending its next request when the previous answer arrived).
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
}

const newOutcome = (): LoadOutcome => ({ latencies: [], sent: 0, ok: 0, statuses: {}, errors: {}, over3s: 0, elapsedMs: 0 });

export function makePool(url: string, connections: number): Pool {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
}

async function sendOne(pool: Pool, signingSecret: string, req: SlackRequest, started: number, out: LoadOutcome): Promise<void> {
  out.sent += 1;
  try {
    const res = await pool.request({ path: '/slack/events', method: 'POST', headers: slackHeaders(signingSecret, req), body: req.body });
    await res.body.text();
    const ms = performance.now() - started;
    if (ms > 3000) out.over3s += 1;
    if (res.statusCode === 200) {
      out.ok += 1;
      out.latencies.push(ms);
    } else {
      out.statuses[res.statusCode] = (out.statuses[res.statusCode] ?? 0) + 1;
    }
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).name ?? 'error';
    out.errors[code] = (out.errors[code] ?? 0) + 1;
  }
}

/** Sends `rps` requests a second for `durationMs`; `next(i)` builds request i. */
export async function fixedRate(pool: Pool, signingSecret: string, rps: number, durationMs: number, next: (i: number) => SlackRequest): Promise<LoadOutcome> {
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
      pending.push(sendOne(pool, signingSecret, next(i), intended, out));
      i += 1;
    }
    if (i < total) await sleep(Math.max(0, Math.min(interval, t0 + i * interval - performance.now())));
  }
  await Promise.all(pending);
  out.elapsedMs = performance.now() - t0;
  out.maxSendLagMs = maxLag;
  return out;
}

/**
 * `concurrency` workers send back to back for `durationMs` (requests in flight at the end finish), or, when
 * `count` is given, until `count` requests were sent.
 */
export async function closedLoop(pool: Pool, signingSecret: string, concurrency: number, durationMs: number, next: (i: number) => SlackRequest, count?: number): Promise<LoadOutcome> {
  const out = newOutcome();
  const t0 = performance.now();
  const end = t0 + durationMs;
  let i = 0;
  const more = () => (count !== undefined ? i < count : performance.now() < end);
  const worker = async () => {
    while (more()) {
      const req = next(i++);
      await sendOne(pool, signingSecret, req, performance.now(), out);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  out.elapsedMs = performance.now() - t0;
  return out;
}

/** GET a path on the pool's origin; returns status and text. */
export async function get(pool: Pool, path: string): Promise<{ status: number; text: string }> {
  const res = await pool.request({ path, method: 'GET' });
  return { status: res.statusCode, text: await res.body.text() };
}
