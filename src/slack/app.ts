import type { RequestListener } from 'node:http';
import { App, HTTPReceiver, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Config } from '../config/load';
import type { ChecklistService, RolloutDefaults } from '../core/checklist/service';
import type { Clock, Store } from '../core/ports';
import type { VerificationService } from '../core/verification/service';
import type { Scheduler } from '../scheduler/scheduler';
import type { Logger } from '../logging/logger';
import { type Metrics, workQueueMetrics } from '../metrics';
import { WorkQueue } from '../util/work-queue';
import { ACTIONS } from '../views/actions';
import { CardPublisher } from './card';
import { createSlackHttp } from './http-client';
import { registerActions, type StepAction } from './listeners/actions';
import { checkDelegate, runCheckAction } from './listeners/check';
import { type Delegate, registerCommand } from './listeners/command';
import { digestDelegate, snoozeAction } from './listeners/digest';
import { registerEvents } from './listeners/events';
import { registerSetup, setupDelegate } from './listeners/setup';
import { exportDelegate } from './listeners/export';

export interface SlackDeps {
  service: ChecklistService;
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  defaults: RolloutDefaults;
  cards: CardPublisher;
  /** Key for per-rollout secrets (BWPREP_ENCRYPTION_KEY); without it the setup dialog refuses API keys. */
  encryptionKey?: Buffer;
  /** The digest scheduler (`/bwprep digest` previews). */
  scheduler?: Scheduler;
  /** Verification against Bitwarden (`check`, the card's Check button). */
  verification?: VerificationService;
  /** Handlers for check, digest, setup and export, added by their features. */
  delegates: Partial<Record<'check' | 'digest' | 'setup' | 'export', Delegate>>;
  /** The bounded queue commands and card clicks run their post-ack work through (default: `slackWorkQueue`). */
  work: WorkQueue;
}

/**
 * Capacity of the post-ack work queue: 64 interactions at work at once (each mostly waits on Slack and the
 * store; with 16 the queue's throughput was bound by Slack round trips, not CPU: bench/README.md), 512
 * waiting (well under a second of work at the measured ~1 ms of CPU each; Slack's response_url lives 30
 * minutes, a user waits seconds). Beyond that the user is told to try again.
 */
export const SLACK_WORK_CAPACITY = { concurrency: 64, maxBacklog: 512 } as const;

export function slackWorkQueue(metrics: Metrics): WorkQueue {
  return new WorkQueue({ name: 'slack', ...SLACK_WORK_CAPACITY, observer: workQueueMetrics(metrics, 'slack') });
}

export interface SlackRuntime {
  app: App;
  deps: SlackDeps;
  /** HTTP mode: mount on POST /slack/events of the shared server. Undefined in Socket Mode. */
  requestListener?: RequestListener;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Bolt logs through our pino logger (one JSON stream). Bolt hands this logger to its WebClients too, which
 * call `debug` several times per API call: the message is only joined when debug is on.
 */
export function boltLogger(logger: Logger): BoltLogger {
  const log = logger.child({ component: 'bolt' });
  let level: LogLevel = LogLevel.INFO;
  return {
    debug: (...m: unknown[]) => {
      if (log.isLevelEnabled('debug')) log.debug(m.map(String).join(' '));
    },
    info: (...m: unknown[]) => log.info(m.map(String).join(' ')),
    warn: (...m: unknown[]) => log.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => log.error(m.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

export function createSlackApp(
  config: NonNullable<Config['slack']>,
  base: Omit<SlackDeps, 'cards' | 'delegates' | 'work'> & { delegates?: SlackDeps['delegates']; work?: WorkQueue },
): SlackRuntime {
  const logger = boltLogger(base.logger);
  // Web API calls and respond() over undici pools (src/slack/http-client.ts; issue 12 has the measurements).
  const http = createSlackHttp();
  const clientOptions = { ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}), retryConfig: { retries: 2 }, fetch: http.fetch };
  let receiver: HTTPReceiver | undefined;
  let app: App;
  if (config.socketMode) {
    app = new App({ token: config.botToken, appToken: config.appToken as string, socketMode: true, logger, clientOptions, convoStore: false });
  } else {
    receiver = new HTTPReceiver({
      signingSecret: config.signingSecret as string,
      endpoints: '/slack/events',
      logger,
      // Ack as soon as the listener calls ack(); slow work continues after the HTTP response.
      processBeforeResponse: false,
    });
    // convoStore: no listener reads context.conversation, so Bolt need not look it up per request.
    app = new App({ token: config.botToken, receiver, logger, clientOptions, convoStore: false });
  }
  const deps: SlackDeps = {
    ...base,
    delegates: { ...(base.delegates ?? {}) },
    work: base.work ?? slackWorkQueue(base.metrics),
    cards: new CardPublisher({ service: base.service, clock: base.clock, logger: base.logger }),
  };
  deps.delegates.export ??= exportDelegate(deps);
  const actions: Record<string, StepAction> = {};
  if (deps.verification) {
    deps.delegates.check ??= checkDelegate(deps);
    actions[ACTIONS.runCheck] = runCheckAction;
  }
  deps.delegates.setup ??= setupDelegate(deps);
  deps.delegates.digest ??= digestDelegate(deps);
  actions[ACTIONS.snoozeStep] = snoozeAction;
  registerCommand(app, deps);
  registerActions(app, deps, actions);
  registerSetup(app, deps);
  registerEvents(app, deps);
  app.error(async (err) => {
    base.logger.error({ err }, 'unhandled Slack error');
  });
  return {
    app,
    deps,
    ...(receiver ? { requestListener: receiver.requestListener } : {}),
    start: async () => {
      // Socket Mode opens its WebSocket; in HTTP mode our shared server carries the requests.
      if (config.socketMode) await app.start();
    },
    stop: async () => {
      if (config.socketMode) await app.stop();
      await http.close();
    },
  };
}
