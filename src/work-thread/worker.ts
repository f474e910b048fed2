/**
 * Entry of the Slack work thread (src/work-thread/index.ts): a bwprep instance on the same store as the main
 * thread, without HTTP, scheduler or Socket Mode connection, that runs the work of Slack commands and card
 * clicks after the main thread acked them. Runs at a lower scheduling priority than the main thread, so
 * receiving requests and writing acks goes first when both want a core.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { startBwprep } from '../app';
import { StartupError } from '../config/errors';
import { createLogger } from '../logging/logger';
import { configSecrets } from '../main';
import type { FromWorker, ToWorker, WorkerInit } from '.';

/** Nice value of the work thread: below the main thread (0) so acks win, well above idle. */
const WORK_THREAD_NICE = 10;

async function run(port: NonNullable<typeof parentPort>): Promise<void> {
  const init = workerData as WorkerInit;
  // Structured cloning turned the key's Buffer into a Uint8Array.
  const config = { ...init.config, ...(init.config.encryptionKey ? { encryptionKey: Buffer.from(init.config.encryptionKey) } : {}) };
  const logger = createLogger({ level: config.logLevel, secrets: configSecrets(config) }).child({ thread: 'slack-work' });
  try {
    // On Linux, priority of pid 0 is the calling thread's (setpriority(2), "BUGS"): only this thread.
    setPriority(0, WORK_THREAD_NICE);
  } catch (err) {
    logger.info({ err }, 'the Slack work thread runs at normal priority (could not lower it)');
  }
  const send = (m: FromWorker) => port.postMessage(m);
  let app: Awaited<ReturnType<typeof startBwprep>>;
  try {
    app = await startBwprep(config, {
      logger,
      http: false,
      startScheduler: false,
      slackWorkThread: { inside: true, ...(init.installation ? { installation: init.installation } : {}) },
      ...(init.teams ? { teams: init.teams } : {}),
    });
  } catch (err) {
    send(
      err instanceof StartupError
        ? { type: 'failed', key: err.key, vars: err.vars as Record<string, string>, message: err.message }
        : { type: 'failed', message: String(err) },
    );
    return;
  }
  const slack = app.slack;
  if (!slack) {
    send({ type: 'failed', message: 'Slack is not configured in the work thread' });
    return;
  }
  let stopping = false;
  // Work in flight: a stop waits for it before closing the store under it (bounded by the main thread).
  const inFlight = new Set<Promise<void>>();
  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'work': {
        const run = slack
          .runWork(m.work, () => send({ type: 'settled', id: m.id }))
          .then(
            () => send({ type: 'done', id: m.id, ok: true }),
            (err: unknown) => {
              logger.error({ err, kind: m.work.kind }, 'unhandled error in Slack work');
              send({ type: 'done', id: m.id, ok: false });
            },
          );
        inFlight.add(run);
        run
          .finally(() => inFlight.delete(run))
          .catch((err: unknown) => logger.error({ err, kind: m.work.kind }, 'the Slack work thread could not report finished work'));
        return;
      }
      case 'metrics':
        void app.metrics.registry.getMetricsAsJSON().then(
          (metrics) => send({ type: 'metrics', id: m.id, metrics }),
          (err: unknown) => {
            // The main thread's /metrics then serves its own series without the work thread's.
            logger.warn({ err }, 'the Slack work thread could not collect its metrics');
            send({ type: 'metrics', id: m.id, metrics: [] });
          },
        );
        return;
      case 'stop':
        if (stopping) return;
        stopping = true;
        void Promise.allSettled([...inFlight])
          .then(() => app.stop())
          .catch((err: unknown) => logger.warn({ err }, 'the Slack work thread did not stop cleanly'))
          .finally(() => {
            send({ type: 'stopped' });
            port.close();
          });
        return;
    }
  });
  send({ type: 'ready' });
}

if (parentPort) {
  const port = parentPort;
  // run() reports its own start-up failures; anything else still reaches the main thread as a failed start.
  run(port).catch((err: unknown) => port.postMessage({ type: 'failed', message: String(err) } satisfies FromWorker));
}
