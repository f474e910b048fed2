import type { Server } from 'node:http';
import type { Config } from './config/load';
import { ChecklistService } from './core/checklist/service';
import type { Template } from './core/checklist/template';
import { type Clock, type Store, systemClock } from './core/ports';
import { close, createHttpServer, listen } from './http/server';
import type { Logger } from './logging/logger';
import { type BitwardenVerification, createBitwardenVerifier } from './bitwarden/verifier';
import { BwprepError } from './core/errors';
import { VerificationService } from './core/verification/service';
import { createMetrics, type Metrics } from './metrics';
import { decryptSecret } from './store/crypto';
import { SCHEDULER_ACTOR, Scheduler } from './scheduler/scheduler';
import { SlackDigestPublisher, SlackReminderSender, slackTimezoneLookup } from './slack/scheduling';
import { slackUser } from './slack/blocks/limits';
import { createSlackApp, type SlackRuntime } from './slack/app';
import { openStore } from './store';
import { loadTemplate } from './templates';

export interface Bwprep {
  config: Config;
  logger: Logger;
  clock: Clock;
  store: Store;
  template: Template;
  service: ChecklistService;
  verification: VerificationService;
  metrics: Metrics;
  slack?: SlackRuntime;
  /** Digests and reminders; runs when a chat platform is configured. */
  scheduler?: Scheduler;
  server?: Server;
  /** Base URL of the HTTP server when listening (tests, logs). */
  url?: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  clock?: Clock;
  /** An already-open store (tests, benchmarks); otherwise opened from config.storeUrl. */
  store?: Store;
  template?: Template;
  /** Serve HTTP even with no platform configured (health and metrics). Default: when a platform is configured. */
  http?: boolean;
  /** Start the scheduler's timer (default true); tests drive `scheduler.tick()` themselves. */
  startScheduler?: boolean;
}

/** Composition root: config → store → services → platforms → one HTTP server. */
export async function startBwprep(config: Config, opts: StartOptions): Promise<Bwprep> {
  const logger = opts.logger;
  const clock = opts.clock ?? systemClock;
  const template = opts.template ?? loadTemplate();
  const store = opts.store ?? (await openStore(config.storeUrl, { logger }));
  const metrics = createMetrics();
  const service = new ChecklistService({ store: store.rollouts, template, clock, defaults: config.defaults, globalAdmins: config.admins });
  const { verification, verifier } = createVerification(config, { store, service, clock, logger });
  const app: Bwprep = {
    config,
    logger,
    clock,
    store,
    template,
    service,
    verification,
    metrics,
    stop: async () => undefined,
  };

  if (config.slack) {
    app.slack = createSlackApp(config.slack, {
      service,
      verification,
      store,
      clock,
      logger: logger.child({ platform: 'slack' }),
      metrics,
      defaults: config.defaults,
      ...(config.encryptionKey ? { encryptionKey: config.encryptionKey } : {}),
    });
    const client = app.slack.app.client;
    const slackLog = logger.child({ platform: 'slack', component: 'scheduler' });
    app.scheduler = new Scheduler({
      store,
      template,
      clock,
      logger: slackLog,
      publisher: new SlackDigestPublisher({ client, logger: slackLog }),
      reminderSender: new SlackReminderSender({ client, rollouts: store.rollouts, kv: store.kv, template, logger: slackLog }),
      userTimezone: slackTimezoneLookup(client, store.kv),
      // Fresh state before each digest: drift since yesterday shows up; a failed run is reported, not fatal.
      verifier: async (rollout) => {
        const run = await verification.run(rollout, { actor: SCHEDULER_ACTOR });
        for (const r of run.results) metrics.checks.inc({ step: r.stepId, status: r.record.status });
      },
      formatUser: slackUser,
    });
    app.slack.deps.scheduler = app.scheduler;
  }

  const serveHttp = opts.http ?? Boolean(config.slack || config.teams);
  if (serveHttp) {
    const server = createHttpServer({
      ...(app.slack?.requestListener ? { slack: app.slack.requestListener } : {}),
      ready: { store: () => store.ping() },
      metrics,
      logger,
    });
    const addr = await listen(server, config.http.port, config.http.host);
    app.server = server;
    const host = addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address;
    app.url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
    logger.info({ port: addr.port, slack: config.slack ? (config.slack.socketMode ? 'socket-mode' : 'http') : 'off' }, 'bwprep listening');
  }
  await app.slack?.start();
  if (app.scheduler && opts.startScheduler !== false) app.scheduler.start();

  app.stop = async () => {
    // Shutdown order: stop accepting requests, let the work already accepted finish (a digest being posted,
    // a click's card update; bounded by DRAIN_TIMEOUT_MS), and only then close what that work needs.
    const closing = app.server ? close(app.server) : Promise.resolve();
    await app.scheduler?.stop();
    await app.slack?.stop().catch((err) => logger.warn({ err }, 'slack stop failed'));
    await closing;
    if (app.slack) await drain(app.slack.idle(), DRAIN_TIMEOUT_MS, logger);
    await verifier.close().catch((err) => logger.warn({ err }, 'closing Bitwarden connections failed'));
    if (!opts.store) await store.close();
  };
  return app;
}

/** How long `stop()` waits for accepted Slack work to finish before closing the store under it. */
export const DRAIN_TIMEOUT_MS = 7_000;

async function drain(idle: Promise<void>, ms: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
    timer.unref();
  });
  if (await Promise.race([idle.then(() => false), timedOut])) logger.warn({ waitedMs: ms }, 'shutdown: work still in flight after the drain timeout');
  clearTimeout(timer);
}

/**
 * Verification against the Bitwarden Public API. A rollout on the hosting configured in the environment
 * uses the configured endpoints (so BW_API_URL / BW_IDENTITY_URL overrides apply); another hosting uses
 * its standard endpoints. A rollout's own API key is decrypted just before a run.
 */
export function createVerification(
  config: Config,
  deps: { store: Store; service: ChecklistService; clock: Clock; logger: Logger },
): { verification: VerificationService; verifier: BitwardenVerification } {
  const env = config.bitwarden;
  const verifier = createBitwardenVerifier(config, { kv: deps.store.kv, logger: deps.logger.child({ component: 'bitwarden' }), clock: deps.clock });
  const verification = new VerificationService({
    checklist: deps.service,
    verifier,
    clock: deps.clock,
    ...(env.clientId && env.clientSecret ? { defaultCredentials: { clientId: env.clientId, clientSecret: env.clientSecret } } : {}),
    resolveCredentials: (rollout) => {
      const own = rollout.settings.credentials;
      if (!own) return undefined;
      if (!config.encryptionKey) throw new BwprepError('no_encryption_key', { key: 'error.no_encryption_key' });
      return { clientId: own.clientId, clientSecret: decryptSecret(config.encryptionKey, own.secret) };
    },
  });
  return { verification, verifier };
}
