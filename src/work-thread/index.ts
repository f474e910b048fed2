import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config } from '../config/load';
import { StartupError } from '../config/errors';
import type { Locale } from '../core/checklist/model';
import { t } from '../i18n';
import type { Logger } from '../logging/logger';
import type { SlackInstallation } from '../slack/installation';
import { type SlackOffload, type SlackWork, slimWork } from '../slack/offload';
import { parseStoreUrl } from '../store/url';

/**
 * The Slack work thread (issue 12 §2–4): the work a command or card click does after its ack — the store,
 * the card, the Slack calls — runs in a `worker_threads` worker at a lower scheduling priority, so the
 * main thread's event loop is left to receiving requests and writing acks. Measured (bench/README.md):
 * in one thread, post-ack work kept the loop 70–90 % busy at 300 requests/s and the acks queued behind it.
 *
 * The worker (`./worker.ts`) is a second bwprep instance on the same store (a replica without HTTP,
 * scheduler or Socket Mode connection), so everything that holds across replicas — optimistic concurrency,
 * leases, the living card's version guard — holds between the threads. That is why a store only this
 * thread can see (`sqlite://:memory:`, a store object handed in by a test) rules the thread out.
 */

/** What the worker needs to build its bwprep instance (structured-cloned into it). */
export interface WorkerInit {
  config: Config;
  /** The Slack installation the main thread verified at start-up (the worker does not call auth.test again). */
  installation?: SlackInstallation;
  /** Teams adapter options (tests: the published signing keys). */
  teams?: { openIdMetadataUrl?: string };
}

/** Main → worker. */
export type ToWorker = { type: 'work'; id: number; work: SlackWork } | { type: 'metrics'; id: number } | { type: 'stop' };
/** Worker → main. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; key?: string; vars?: Record<string, string>; message: string }
  | { type: 'settled'; id: number }
  | { type: 'done'; id: number; ok: boolean }
  | { type: 'metrics'; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] }
  | { type: 'stopped' };

/** The compiled worker entry next to this module; absent when running from TypeScript sources (tests). */
const WORKER_ENTRY = path.join(__dirname, 'worker.js');

/**
 * Whether post-ack Slack work runs in the work thread (BWPREP_SLACK_WORK_THREAD): `auto` (default) uses it
 * wherever it can, `off` never, `on` always — and refuses to start when it cannot, saying why.
 * Returns the reason it cannot, or undefined when it can.
 */
function workThreadUnavailable(
  config: Config,
  opts: { storeHandedIn: boolean; entry?: string },
): 'store_in_process' | 'store_in_memory' | 'not_built' | undefined {
  if (opts.storeHandedIn) return 'store_in_process';
  try {
    const parsed = parseStoreUrl(config.storeUrl);
    if (parsed.kind === 'sqlite' && parsed.path === ':memory:') return 'store_in_memory';
  } catch {
    return 'store_in_process';
  }
  if (!existsSync(opts.entry ?? WORKER_ENTRY)) return 'not_built';
  return undefined;
}

/** Decides the mode at start-up: the entry to run, or undefined for in-thread work; throws for `on` when it cannot. */
export function workThreadEntry(config: Config, opts: { storeHandedIn: boolean; entry?: string }): string | undefined {
  const mode = config.slack?.workThread ?? 'auto';
  if (mode === 'off') return undefined;
  const reason = workThreadUnavailable(config, opts);
  if (reason === undefined) return opts.entry ?? WORKER_ENTRY;
  if (mode === 'on') throw new StartupError(`startup.slack.work_thread_unavailable.${reason}`);
  return undefined;
}

/** After a failed start of the work thread, how long before the next attempt (the work runs in the main thread meanwhile). */
const RETRY_START_MS = 60_000;

interface Pending {
  /** The caller's `settled` (its work slot goes back), called once. */
  settled: () => void;
  tell: (text: string) => Promise<unknown>;
}

/**
 * The main thread's side of the Slack work thread: starts the worker, hands it work, forwards its
 * "settled" and "done", asks it for its metrics, and stops it after the main thread has drained.
 * A worker that dies is reported (log at error, each person whose work it held told in `defaultLocale`)
 * and started again on the next request.
 */
export class SlackWorkThread implements SlackOffload {
  private worker?: Worker;
  private starting?: Promise<Worker>;
  private readonly pending = new Map<number, Pending>();
  private readonly asks = new Map<number, (m: MetricObjectWithValues<MetricValue<string>>[]) => void>();
  private readonly idleWaiters: (() => void)[] = [];
  /** When (monotonic ms) the last start failed; no new attempt within RETRY_START_MS. */
  private failedAt: number | undefined;
  private nextId = 1;
  private stopping = false;

  constructor(
    private readonly o: {
      entry: string;
      init: WorkerInit;
      logger: Logger;
      defaultLocale: Locale;
      /** How long the worker may take to open the store and build its instance. Default 30 s. */
      startTimeoutMs?: number;
    },
  ) {}

  /** Starts the worker and waits until it is ready; a StartupError when it cannot start. */
  async start(): Promise<void> {
    await this.ensure();
  }

  async run(work: SlackWork, tell: (text: string) => Promise<unknown>, settled: () => void): Promise<'handed' | 'unavailable'> {
    let worker: Worker;
    try {
      worker = await this.ensure();
    } catch {
      // Logged where the start failed; nothing of the request ran: the caller does the work itself.
      return 'unavailable';
    }
    const id = this.nextId++;
    let open = true;
    const once = () => {
      if (open) settled();
      open = false;
    };
    this.pending.set(id, { settled: once, tell });
    worker.postMessage({ type: 'work', id, work: slimWork(work) } satisfies ToWorker);
    return 'handed';
  }

  async idle(): Promise<void> {
    if (this.pending.size > 0) this.o.logger.info({ inFlight: this.pending.size }, 'waiting for the work handed to the Slack work thread');
    while (this.pending.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** The worker's metrics (prom-client JSON), to aggregate into /metrics; empty when it is not running. */
  async metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    const worker = this.worker;
    if (!worker) return [];
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.asks.delete(id);
        resolve([]);
      }, 5_000);
      timer.unref();
      this.asks.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.postMessage({ type: 'metrics', id } satisfies ToWorker);
    });
  }

  /**
   * Stops the worker: it closes its store and Slack connections (work handed to it was drained by the
   * caller first), then the thread ends. Bounded by `graceMs`; after that the thread is terminated.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    // A start still under way is waited for; one that failed already told its caller why (start/run).
    const worker = this.worker ?? (await this.starting?.catch(() => undefined /* reported by start() or run() */));
    if (!worker) return;
    const stopped = new Promise<void>((resolve) => {
      const onMessage = (m: FromWorker) => {
        if (m.type === 'stopped') resolve();
      };
      worker.on('message', onMessage);
      worker.once('exit', () => resolve());
    });
    worker.postMessage({ type: 'stop' } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    if (await Promise.race([stopped.then(() => false), late])) this.o.logger.warn({ graceMs }, 'the Slack work thread did not stop in time; terminating it');
    clearTimeout(timer);
    await worker.terminate();
    this.worker = undefined;
  }

  private ensure(): Promise<Worker> {
    if (this.worker) return Promise.resolve(this.worker);
    if (this.stopping) return Promise.reject(new Error('the Slack work thread is stopping'));
    // After a failed start, wait RETRY_START_MS before the next attempt (each costs a second of start-up).
    if (this.failedAt !== undefined && performance.now() - this.failedAt < RETRY_START_MS)
      return Promise.reject(new Error('the Slack work thread failed to start recently'));
    this.starting ??= this.spawn()
      .then(
        (w) => {
          this.failedAt = undefined;
          return w;
        },
        (err: unknown) => {
          this.failedAt = performance.now();
          this.o.logger.error(
            { err, retryInSeconds: RETRY_START_MS / 1000 },
            'the Slack work thread could not start; Slack work runs in the main thread until it does',
          );
          throw err;
        },
      )
      .finally(() => {
        this.starting = undefined;
      });
    return this.starting;
  }

  private spawn(): Promise<Worker> {
    const worker = new Worker(this.o.entry, { workerData: this.o.init, stdout: false, stderr: false });
    return new Promise<Worker>((resolve, reject) => {
      const timeoutMs = this.o.startTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        worker.terminate().catch((err: unknown) => this.o.logger.warn({ err }, 'the Slack work thread could not be terminated'));
        reject(new StartupError('startup.slack.work_thread_start', { reason: `not ready after ${timeoutMs} ms` }));
      }, timeoutMs);
      const early = (err: unknown) => {
        clearTimeout(timer);
        reject(new StartupError('startup.slack.work_thread_start', { reason: err instanceof Error ? err.message : String(err) }, { cause: err }));
      };
      worker.once('error', early);
      worker.once('exit', early);
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            clearTimeout(timer);
            worker.off('error', early);
            worker.off('exit', early);
            this.worker = worker;
            this.o.logger.info({ threadId: worker.threadId }, 'Slack work thread ready: commands and clicks do their work after the ack there');
            worker.on('error', (err) => this.o.logger.error({ err }, 'the Slack work thread failed'));
            worker.once('exit', (code) => this.exited(worker, code));
            resolve(worker);
            return;
          case 'failed':
            clearTimeout(timer);
            worker.off('exit', early);
            worker.terminate().catch((err: unknown) => this.o.logger.warn({ err }, 'the Slack work thread could not be terminated'));
            // The worker met the same start-up problem the main thread would have: pass its sentence on.
            reject(m.key ? new StartupError(m.key, m.vars ?? {}) : new StartupError('startup.slack.work_thread_start', { reason: m.message }));
            return;
          case 'settled':
            this.pending.get(m.id)?.settled();
            return;
          case 'done': {
            this.pending.get(m.id)?.settled();
            this.forget(m.id);
            return;
          }
          case 'metrics':
            this.asks.get(m.id)?.(m.metrics);
            this.asks.delete(m.id);
            return;
          case 'stopped':
            return;
        }
      });
    });
  }

  /** The worker ended: everyone whose work it held is told; the next request starts a new one. */
  private exited(worker: Worker, code: number): void {
    if (this.worker === worker) this.worker = undefined;
    for (const resolve of this.asks.values()) resolve([]);
    this.asks.clear();
    if (this.stopping && this.pending.size === 0) return;
    const lost = [...this.pending.values()];
    this.pending.clear();
    const ref = randomUUID().slice(0, 8);
    this.o.logger.error(
      { exitCode: code, lost: lost.length, ref },
      'the Slack work thread ended unexpectedly; its requests were answered with an error and it starts again on the next request',
    );
    for (const p of lost) {
      void p
        .tell(`⚠️ ${t(this.o.defaultLocale, 'error.work_lost', { ref })}`)
        .catch((err: unknown) => this.o.logger.warn({ err, ref }, 'could not tell a person their request was lost'));
      p.settled();
    }
    this.wakeIdle();
  }

  private forget(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.wakeIdle();
  }

  private wakeIdle(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
