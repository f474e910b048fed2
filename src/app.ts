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
import { createSlackApp, type SlackRuntime } from './slack/app';
import type { SlackInstallation } from './slack/installation';
import { SlackWorkThread, workThreadEntry } from './work-thread';
import { Interactions } from './interactions';
import { Platforms } from './interactions/platforms';
import { kvCheckHistory } from './core/ports';
import { verifySlackToken } from './slack/installation';
import { openStore } from './store';
import { createTeams, type TeamsOptions, type TeamsRuntime } from './teams';
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
  /** The chat platforms served (the console registers itself here too). */
  platforms: Platforms;
  /** The application layer: every user journey, for every platform. */
  interactions: Interactions;
  slack?: SlackRuntime;
  /** The Slack work thread, when commands' and clicks' post-ack work runs there (BWPREP_SLACK_WORK_THREAD). */
  slackWork?: SlackWorkThread;
  teams?: TeamsRuntime;
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
  /** Teams adapter options (tests: where inbound tokens' signing keys are published). */
  teams?: TeamsOptions;
  /**
   * Set only by the Slack work thread's entry (src/work-thread/worker.ts) for the instance inside it: no auth.test
   * (the main thread's `installation` is used), no Socket Mode connection, no work thread of its own.
   */
  slackWorkThread?: { inside: true; installation?: SlackInstallation };
}

/** Composition root: config → store → services → platforms → one HTTP server. */
export async function startBwprep(config: Config, opts: StartOptions): Promise<Bwprep> {
  const logger = opts.logger;
  const clock = opts.clock ?? systemClock;
  // BWPREP_TEMPLATE: a custom template for new rollouts; a problem stops the start with the same words as `template validate`.
  const template = opts.template ?? loadTemplate(config.templateFile, { variable: 'BWPREP_TEMPLATE' });
  // Existing rollouts keep the template they were created with (ChecklistService.templateFor).
  const builtIn = config.templateFile && !opts.template ? loadTemplate() : undefined;
  const sameAsBuiltIn = builtIn !== undefined && builtIn.id === template.id && builtIn.version === template.version;
  if (sameAsBuiltIn)
    logger.warn(
      { template: config.templateFile, id: template.id, version: template.version },
      'BWPREP_TEMPLATE has the id and version of the built-in template; give it its own id or a higher version, or existing rollouts switch to it too',
    );
  const templates = builtIn && !sameAsBuiltIn ? [builtIn] : [];
  const store = opts.store ?? (await openStore(config.storeUrl, { logger }));
  try {
    return await startOnStore(config, opts, { logger, clock, template, templates, store });
  } catch (err) {
    // A start-up failure after the store opened (Slack refused the token, the port is taken): let go of it.
    if (!opts.store) await store.close().catch((closeErr: unknown) => logger.warn({ err: closeErr }, 'closing the store failed'));
    throw err;
  }
}

async function startOnStore(
  config: Config,
  opts: StartOptions,
  { logger, clock, template, templates, store }: { logger: Logger; clock: Clock; template: Template; templates: Template[]; store: Store },
): Promise<Bwprep> {
  const inside = opts.slackWorkThread?.inside === true;
  // The work thread's metrics are added to the main thread's /metrics; process metrics are counted there once.
  const metrics = createMetrics({ processMetrics: !inside });
  const service = new ChecklistService({
    store: store.rollouts,
    template,
    templates,
    clock,
    defaults: config.defaults,
    globalAdmins: config.admins,
    checkHistory: kvCheckHistory(store.kv, clock),
  });
  const { verification, verifier } = createVerification(config, { store, service, clock, logger });
  const platforms = new Platforms();
  const interactions = new Interactions({
    service,
    store,
    clock,
    platforms,
    logger: logger.child({ component: 'interactions' }),
    metrics,
    defaults: config.defaults,
    verification,
    ...(config.encryptionKey ? { encryptionKey: config.encryptionKey } : {}),
    cardUpdateIntervalMs: config.cards.updateIntervalMs,
  });
  const app: Bwprep = {
    config,
    logger,
    clock,
    store,
    template,
    service,
    verification,
    metrics,
    platforms,
    interactions,
    stop: async () => undefined,
  };

  if (config.slack) {
    // Before anything listens: a token Slack refuses stops the start with one clear message.
    const installation =
      inside && opts.slackWorkThread?.installation
        ? opts.slackWorkThread.installation
        : await verifySlackToken(config.slack, logger.child({ platform: 'slack' }));
    const entry = inside ? undefined : workThreadEntry(config, { storeHandedIn: Boolean(opts.store) });
    if (entry) {
      app.slackWork = new SlackWorkThread({
        entry,
        init: {
          config,
          ...(installation ? { installation } : {}),
          ...(opts.teams?.openIdMetadataUrl ? { teams: { openIdMetadataUrl: opts.teams.openIdMetadataUrl } } : {}),
        },
        logger: logger.child({ component: 'slack-work-thread' }),
        defaultLocale: config.defaults.locale,
      });
    }
    app.slack = createSlackApp(config.slack, {
      ...(installation ? { installation } : {}),
      kv: store.kv,
      leases: store.leases,
      logger: logger.child({ platform: 'slack' }),
      defaultLocale: config.defaults.locale,
      metrics,
      ...(app.slackWork ? { offload: app.slackWork } : {}),
    });
    platforms.register(app.slack.platform);
  }
  if (config.teams) {
    app.teams = createTeams(
      config.teams,
      { kv: store.kv, leases: store.leases, logger: logger.child({ platform: 'teams' }), defaultLocale: config.defaults.locale, now: () => clock.now() },
      opts.teams,
    );
    platforms.register(app.teams.platform);
  }

  // Digests and reminders whenever any chat platform is served; each rollout goes to its own platform.
  if (platforms.hasChat) {
    app.scheduler = new Scheduler({
      store,
      service,
      template,
      clock,
      platforms,
      logger: logger.child({ component: 'scheduler' }),
      intervalMs: config.scheduler.intervalMs,
      verifierTimeoutMs: config.scheduler.checkTimeoutMs,
      leaseTtlMs: config.scheduler.digestLeaseMs,
      // Fresh state before each digest: drift since yesterday shows up; a failed run is reported, not fatal.
      verifier: (rollout) => interactions.checks!.runScheduled(rollout, SCHEDULER_ACTOR),
    });
    interactions.setDigest(app.scheduler);
  }
  app.slack?.listen(interactions);
  app.teams?.listen(interactions);

  // The work thread loads bwprep again and opens the store (1–2 s). BWPREP_SLACK_WORK_THREAD=on waits for
  // it and refuses to start without it; auto serves at once (acks never wait for it: work that arrives
  // meanwhile waits for the start under way), and when the thread cannot start, the Slack work runs in
  // the main thread (SlackWorkThread.run answers 'unavailable'; it tries again a minute later).
  if (config.slack?.workThread === 'on') await app.slackWork?.start();
  else if (app.slackWork)
    app.slackWork.start().catch(() => {
      // Logged by SlackWorkThread; the Slack work runs in the main thread meanwhile.
    });

  const serveHttp = opts.http ?? Boolean(config.slack || config.teams);
  if (serveHttp) {
    const server = createHttpServer({
      ...(app.slack?.requestListener ? { slack: app.slack.requestListener } : {}),
      ...(app.teams ? { teams: app.teams.requestListener } : {}),
      ready: { store: () => store.ping() },
      metrics,
      ...(app.slackWork ? { moreMetrics: () => app.slackWork!.metrics() } : {}),
      logger,
    });
    const addr = await listen(server, config.http.port, config.http.host);
    app.server = server;
    const host = addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address;
    app.url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  }
  try {
    if (!inside) await app.slack?.start();
  } catch (err) {
    if (app.server) await close(app.server);
    await app.slackWork?.stop();
    throw err;
  }
  if (app.server) {
    const port = (app.server.address() as { port: number }).port;
    const teams = config.teams ? (config.teams.appId ? 'on' : 'unauthenticated') : 'off';
    logger.info({ port, slack: config.slack ? (config.slack.socketMode ? 'socket-mode' : 'http') : 'off', teams }, 'bwprep listening');
  }
  if (app.scheduler && opts.startScheduler !== false) app.scheduler.start();

  app.stop = async () => {
    // Shutdown order: stop accepting requests, let the work already accepted finish (a digest being posted,
    // a request in flight, a click's card update; ALL within one DRAIN_TIMEOUT_MS), and only then close what
    // that work needs (Slack and Teams connections, the work thread, the store).
    const closing = app.server ? close(app.server) : Promise.resolve();
    // The scheduler stops ticking now; a tick in flight (a digest being posted) finishes within the drain.
    const ticking = app.scheduler?.stop();
    await app.slack?.stop().catch((err) => logger.warn({ err }, 'slack stop failed'));
    await drain(
      Promise.all([
        closing,
        ticking,
        // After `closing`, every request that arrived has its listener run registered: those runs, then (with
        // the work thread) the work they handed over.
        app.slack ? closing.then(() => app.slack?.idle()).then(() => app.slackWork?.idle()) : undefined,
        // Teams card updates after answered invokes; a turn still in flight may add one, so after `closing` too.
        app.teams ? closing.then(() => app.teams?.idle()) : undefined,
      ]).then(() => undefined),
      DRAIN_TIMEOUT_MS,
      logger,
    );
    // Within main's 10 s bound: the drain's 7 s, then at most WORK_THREAD_STOP_MS for the thread to close.
    await app.slackWork?.stop(WORK_THREAD_STOP_MS);
    await app.slack?.close().catch((err) => logger.warn({ err }, 'closing Slack connections failed'));
    await app.teams?.stop().catch((err) => logger.warn({ err }, 'teams stop failed'));
    // Past the drain: a Bitwarden request still in flight is cut, not waited for (its headers timeout is 10 s).
    await verifier.close({ force: true }).catch((err) => logger.warn({ err }, 'closing Bitwarden connections failed'));
    if (!opts.store) await store.close();
  };
  return app;
}

/** How long `stop()` waits for accepted work (requests in flight, Slack work, Teams card updates) before closing what it needs. */
const DRAIN_TIMEOUT_MS = 7_000;
/** How long the Slack work thread gets to close its store and connections before it is terminated. */
const WORK_THREAD_STOP_MS = 2_000;

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
