import type { RequestListener } from 'node:http';
import { App, HTTPReceiver, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Config } from '../config/load';
import type { Locale } from '../core/checklist/model';
import type { KeyValueStore, LeaseStore } from '../core/ports';
import type { Interactions } from '../interactions';
import type { ChatPlatform } from '../interactions/ports';
import type { Logger } from '../logging/logger';
import { registerActions } from './listeners/actions';
import { registerCommand } from './listeners/command';
import { registerEvents } from './listeners/events';
import { registerSetup } from './listeners/setup';
import { slackPlatform } from './platform';
import { type SlackInstallation, slackStartupError } from './installation';

/** What the Slack listeners need: the application layer, and Slack-side caches. */
export interface SlackDeps {
  interactions: Interactions;
  kv: KeyValueStore;
  leases: LeaseStore;
  logger: Logger;
  defaultLocale: Locale;
}

export interface SlackRuntime {
  app: App;
  /** The ports the application layer uses to reach Slack. */
  platform: ChatPlatform;
  /** Our workspace, from `auth.test` at start-up (see ./installation.ts); undefined when the caller did not verify the token. */
  installation?: SlackInstallation;
  /** HTTP mode: mount on POST /slack/events of the shared server. Undefined in Socket Mode. */
  requestListener?: RequestListener;
  /** Registers the listeners on the application layer (once, after every platform is known). */
  listen(interactions: Interactions): void;
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

/**
 * The Slack adapter: a Bolt app whose listeners translate Slack requests into calls of the application
 * layer, and the Slack implementation of its ports. No user journey lives here.
 */
export function createSlackApp(config: NonNullable<Config['slack']>, base: Omit<SlackDeps, 'interactions'> & { installation?: SlackInstallation }): SlackRuntime {
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
  const platform = slackPlatform({ client: app.client, kv: rest.kv, logger: rest.logger });
  let listening = false;
  return {
    app,
    platform,
    ...(installation ? { installation } : {}),
    ...(receiver ? { requestListener: receiver.requestListener } : {}),
    listen(interactions) {
      if (listening) return;
      listening = true;
      const deps: SlackDeps = { ...rest, interactions };
      registerCommand(app, deps);
      registerActions(app, deps);
      registerSetup(app, deps);
      registerEvents(app, deps);
      app.error(async (err) => {
        base.logger.error({ err }, 'unhandled Slack error');
      });
    },
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
