import type { RequestListener } from 'node:http';
import { App, HTTPReceiver, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Config } from '../config/load';
import type { ChecklistService, RolloutDefaults } from '../core/checklist/service';
import type { Clock, Store } from '../core/ports';
import type { VerificationService } from '../core/verification/service';
import type { Scheduler } from '../scheduler/scheduler';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics';
import { ACTIONS } from '../views/actions';
import { CardPublisher } from './card';
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
}

export interface SlackRuntime {
  app: App;
  deps: SlackDeps;
  /** HTTP mode: mount on POST /slack/events of the shared server. Undefined in Socket Mode. */
  requestListener?: RequestListener;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once no listener run (including its work after the ack) is in flight. */
  idle(): Promise<void>;
}

/** Bolt logs through our pino logger (one JSON stream). */
export function boltLogger(logger: Logger): BoltLogger {
  const log = logger.child({ component: 'bolt' });
  let level: LogLevel = LogLevel.INFO;
  return {
    debug: (...m: unknown[]) => log.debug(m.map(String).join(' ')),
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
  base: Omit<SlackDeps, 'cards' | 'delegates'> & { delegates?: SlackDeps['delegates'] },
): SlackRuntime {
  const logger = boltLogger(base.logger);
  const clientOptions = { ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}), retryConfig: { retries: 2 } };
  let receiver: HTTPReceiver | undefined;
  let app: App;
  if (config.socketMode) {
    app = new App({ token: config.botToken, appToken: config.appToken as string, socketMode: true, logger, clientOptions });
  } else {
    receiver = new HTTPReceiver({
      signingSecret: config.signingSecret as string,
      endpoints: '/slack/events',
      logger,
      // Ack as soon as the listener calls ack(); slow work continues after the HTTP response.
      processBeforeResponse: false,
      // A signed payload Bolt cannot process (e.g. `actions` not a list) is the sender's fault: 400, not
      // Bolt's default 500 (found by test/fuzz/slack-http.fuzz.test.ts). Authorization errors stay 401.
      processEventErrorHandler: async ({ error, response }) => {
        const authorization = (error as { code?: string }).code === 'slack_bolt_authorization_error';
        base.logger.warn({ err: error }, authorization ? 'Slack request not authorized' : 'malformed Slack payload refused');
        if (!response.headersSent) {
          response.writeHead(authorization ? 401 : 400);
          response.end();
        }
        return authorization;
      },
    });
    app = new App({ token: config.botToken, receiver, logger, clientOptions });
  }
  const deps: SlackDeps = {
    ...base,
    delegates: { ...(base.delegates ?? {}) },
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
  // Every listener run, ack and the work after it, is counted so shutdown (and tests) can wait for it.
  const inFlight = new Set<Promise<unknown>>();
  app.use(async (args) => {
    // A click whose action_id is not a string matches no listener (Slack never sends one; found by fuzzing):
    // acknowledge and drop it rather than hold the request for Bolt's 3-second timeout.
    const actions = (args.body as { type?: string; actions?: unknown }).type === 'block_actions' ? (args.body as { actions?: unknown }).actions : undefined;
    if (Array.isArray(actions) && actions.some((a) => typeof (a as { action_id?: unknown } | null)?.action_id !== 'string')) {
      base.logger.warn('malformed Slack action dropped');
      await (args as { ack?: () => Promise<void> }).ack?.();
      return;
    }
    const run = args.next();
    inFlight.add(run);
    try {
      await run;
    } finally {
      inFlight.delete(run);
    }
  });
  const idle = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
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
    },
    idle,
  };
}
