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
import { type SlackInstallation, slackStartupError } from './installation';

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
  /** Our workspace, from `auth.test` at start-up (see ./installation.ts); undefined when the caller did not verify the token. */
  installation?: SlackInstallation;
  /** HTTP mode: mount on POST /slack/events of the shared server. Undefined in Socket Mode. */
  requestListener?: RequestListener;
  start(): Promise<void>;
  stop(): Promise<void>;
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
  base: Omit<SlackDeps, 'cards' | 'delegates'> & { delegates?: SlackDeps['delegates']; installation?: SlackInstallation },
): SlackRuntime {
  const logger = boltLogger(base.logger);
  const clientOptions = { ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}), retryConfig: { retries: 2 } };
  // With the bot's ids from our own auth.test, Bolt does not call auth.test again in its constructor
  // (where a rejected token would end as an unhandled rejection).
  const { installation, ...rest } = base;
  const known = installation?.botId ? { botId: installation.botId, botUserId: installation.botUserId } : {};
  let receiver: HTTPReceiver | undefined;
  let app: App;
  if (config.socketMode) {
    app = new App({ token: config.botToken, ...known, appToken: config.appToken as string, socketMode: true, logger, clientOptions });
  } else {
    receiver = new HTTPReceiver({
      signingSecret: config.signingSecret as string,
      endpoints: '/slack/events',
      logger,
      // Ack as soon as the listener calls ack(); slow work continues after the HTTP response.
      processBeforeResponse: false,
    });
    app = new App({ token: config.botToken, ...known, receiver, logger, clientOptions });
  }
  const deps: SlackDeps = {
    ...rest,
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
    ...(installation ? { installation } : {}),
    ...(receiver ? { requestListener: receiver.requestListener } : {}),
    start: async () => {
      // Socket Mode opens its WebSocket; in HTTP mode our shared server carries the requests.
      if (!config.socketMode) return;
      try {
        await app.start();
      } catch (err) {
        // apps.connections.open refuses the app-level token: say so, naming SLACK_APP_TOKEN.
        throw slackStartupError(err, 'app', config.apiUrl) ?? err;
      }
    },
    stop: async () => {
      if (config.socketMode) await app.stop();
    },
  };
}
