import type { RequestListener } from 'node:http';
import { type AllMiddlewareArgs, type AnyMiddlewareArgs, App, HTTPReceiver, LogLevel, type Logger as BoltLogger, webApi } from '@slack/bolt';
import type { Config } from '../config/load';
import type { Locale } from '../core/checklist/model';
import type { KeyValueStore, LeaseStore } from '../core/ports';
import type { Interactions } from '../interactions';
import type { ChatPlatform } from '../interactions/ports';
import type { Logger } from '../logging/logger';
import { type ActionArgs, actionHandler } from './listeners/actions';
import { type CommandArgs, commandHandler, SLASH_COMMAND } from './listeners/command';
import { registerEvents } from './listeners/events';
import { registerSetup } from './listeners/setup';
import { installationOf, type SlackInstallation } from './installation';
import { INSTALLATION_CODES } from './errors';
import { slackPlatform } from './platform';
import { type Metrics, workQueueMetrics } from '../metrics';
import { WorkQueue } from '../util/work-queue';
import { createSlackHttp } from './http-client';
import { slackStartupError } from './installation';
import { commandWork } from './listeners/command';
import { actionWork } from './listeners/actions';
import type { SlackOffload, SlackWork } from './offload';
import { RespondError, type RespondFn } from '@slack/bolt';

/** What the Slack listeners need: the application layer, and Slack-side caches. */
export interface SlackDeps {
  interactions: Interactions;
  /** The bounded queue commands and card clicks run their post-ack work through (default: `slackWorkQueue`). */
  work: WorkQueue;
  kv: KeyValueStore;
  leases: LeaseStore;
  logger: Logger;
  defaultLocale: Locale;
  /** The installing workspace, from auth.test (once per process). */
  installation: () => Promise<SlackInstallation>;
  /** Where commands' and clicks' work after the ack runs when not in this thread (the Slack work thread). */
  offload?: SlackOffload;
}

export interface SlackRuntime {
  app: App;
  /** The ports the application layer uses to reach Slack. */
  platform: ChatPlatform;
  /** The bounded post-ack work queue of the listeners. */
  work: WorkQueue;
  /** auth.test, asked once and remembered (at start-up when the token was verified there): the installing team (and Grid enterprise) and the bot user. */
  installation: () => Promise<SlackInstallation>;
  /** HTTP mode: mount on POST /slack/events of the shared server. Undefined in Socket Mode. */
  requestListener?: RequestListener;
  /** Registers the listeners on the application layer (once, after every platform is known). */
  listen(interactions: Interactions): void;
  start(): Promise<void>;
  /** Stops receiving (Socket Mode's connection; in HTTP mode the shared server stops accepting). */
  stop(): Promise<void>;
  /**
   * Closes the outbound Slack connections, cutting requests still in flight: call it after the shutdown's
   * drain (`idle()`), never before — a graceful close would wait up to the request timeout (30 s) for a
   * Slack answer that is still on its way.
   */
  close(): Promise<void>;
  /** Resolves once no listener run (including its work after the ack) is in flight. */
  idle(): Promise<void>;
  /**
   * Runs the work after the ack of a command or click that another thread received and acked (the Slack
   * work thread's side of `SlackDeps.offload`): the same code the listeners run in-thread, with this
   * instance's Web API client and a `respond()` to the payload's response_url. Needs `listen()` first.
   */
  runWork(work: SlackWork, settled: () => void): Promise<void>;
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

/**
 * The Slack adapter: a Bolt app whose listeners translate Slack requests into calls of the application
 * layer, and the Slack implementation of its ports. No user journey lives here.
 */
/**
 * Capacity of the post-ack work queue: 64 interactions at work at once (each mostly waits on Slack and the
 * store; with 16 the queue's throughput was bound by Slack round trips, not CPU: bench/README.md), 512
 * waiting (well under a second of work at the measured ~1 ms of CPU each; Slack's response_url lives 30
 * minutes, a user waits seconds). Beyond that the user is told to try again.
 */
export const SLACK_WORK_CAPACITY = { concurrency: 64, maxBacklog: 512 } as const;

function slackWorkQueue(metrics?: Metrics): WorkQueue {
  return new WorkQueue({ name: 'slack', ...SLACK_WORK_CAPACITY, ...(metrics ? { observer: workQueueMetrics(metrics, 'slack') } : {}) });
}

export function createSlackApp(
  config: NonNullable<Config['slack']>,
  options: Omit<SlackDeps, 'interactions' | 'installation' | 'work'> & {
    installation?: SlackInstallation;
    work?: WorkQueue;
    metrics?: Metrics;
    offload?: SlackOffload;
  },
): SlackRuntime {
  const logger = boltLogger(options.logger);
  // Web API calls and respond() over undici pools (src/slack/http-client.ts; issue 12 has the measurements).
  const http = createSlackHttp();
  const clientOptions = { ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}), retryConfig: { retries: 2 }, fetch: http.fetch };
  // With the bot's ids from our own auth.test, Bolt does not call auth.test again in its constructor
  // (where a rejected token would end as an unhandled rejection).
  const { installation: verifiedAtStart, work, metrics, ...others } = options;
  const rest = { ...others, work: work ?? slackWorkQueue(metrics) };
  const known = verifiedAtStart?.botId ? { botId: verifiedAtStart.botId, botUserId: verifiedAtStart.botUserId } : {};
  let receiver: HTTPReceiver | undefined;
  let app: App;
  if (config.socketMode) {
    app = new App({ token: config.botToken, ...known, appToken: config.appToken as string, socketMode: true, logger, clientOptions, convoStore: false });
  } else {
    receiver = new HTTPReceiver({
      signingSecret: config.signingSecret as string,
      endpoints: '/slack/events',
      logger,
      // Ack as soon as the listener calls ack(); slow work continues after the HTTP response.
      processBeforeResponse: false,
      // A signed payload Bolt cannot process (e.g. `actions` not a list) is the sender's fault: 400, not
      // Bolt's default 500 (found by test/fuzz/slack-http.fuzz.test.ts). Authorization errors stay 401.
      // A signed request Bolt cannot even type (a block_actions without actions) reaches no listener and is
      // never acknowledged: answer it 400 and log at warn, not Bolt's error "not acknowledged within 3 seconds".
      unhandledRequestHandler: ({ response }) => {
        base.logger.warn('Slack request matched no listener and was not acknowledged; refused as malformed');
        if (!response.headersSent) {
          response.writeHead(400);
          response.end();
        }
      },
      unhandledRequestTimeoutMillis: 2500,
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
    // convoStore: no listener reads context.conversation, so Bolt need not look it up per request.
    app = new App({ token: config.botToken, ...known, receiver, logger, clientOptions, convoStore: false });
  }
  const verified = verifiedAtStart;
  const installation = verified ? () => Promise.resolve(verified) : installationOf(app.client);
  const base: Omit<SlackDeps, 'interactions'> = { ...rest, installation };
  // Digest posts never retry (slackPlatform's postOnce): the scheduler checks the channel after a failure instead.
  const postOnce = new webApi.WebClient(config.botToken, { ...clientOptions, logger, retryConfig: { retries: 0 } });
  const platform = slackPlatform({ client: app.client, postOnce, kv: base.kv, logger: base.logger, installation });
  let listening = false;
  let listeningTo: Interactions | undefined;
  let listeningDeps: SlackDeps | undefined;
  // Every listener run, ack and the work after it, is counted so shutdown (and tests) can wait for it.
  const inFlight = new Set<Promise<unknown>>();
  // Set by listen(): the handler of a click or of `/bwprep`, or undefined for any other request.
  let hot: ((args: AnyMiddlewareArgs & AllMiddlewareArgs) => Promise<void> | undefined) | undefined;
  app.use(async (args) => {
    // A click whose action_id is not a string matches no listener (Slack never sends one; found by fuzzing):
    // acknowledge and drop it rather than hold the request for Bolt's 3-second timeout.
    const body = args.body as { type?: string; actions?: unknown; user?: { id?: unknown } };
    const actions = body.type === 'block_actions' ? body.actions : undefined;
    // A click without a user (Slack always sends one) cannot be answered or attributed: drop it the same way.
    const noUser = body.type === 'block_actions' && typeof body.user?.id !== 'string';
    // A click without any action (Slack always sends one) has nothing to act on either.
    const noAction = body.type === 'block_actions' && (!Array.isArray(actions) || actions.length === 0);
    if (noUser || noAction || (Array.isArray(actions) && actions.some((a) => typeof (a as { action_id?: unknown } | null)?.action_id !== 'string'))) {
      const ack = (args as { ack?: () => Promise<void> }).ack;
      // Without an ack function Bolt did not see an interaction at all: refuse the request (400 above).
      if (!ack) throw new Error('malformed Slack payload: an interaction without actions or user');
      base.logger.warn('malformed Slack action dropped');
      await ack();
      return;
    }
    // The two kinds of request that carry the load, clicks and `/bwprep`, go straight to their handler: Bolt
    // runs every registered listener's middleware chain for every request (`App.processEvent`), and skipping
    // that fan-out here took a measurable share of the acks' thread's CPU and allocation (issue 12,
    // bench/README.md "One dispatcher"). Events and the setup form's submission still use Bolt listeners.
    const run = hot?.(args) ?? args.next();
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
  return {
    app,
    platform,
    work: rest.work,
    installation,
    ...(receiver ? { requestListener: receiver.requestListener } : {}),
    listen(interactions) {
      if (listening) return;
      listening = true;
      listeningTo = interactions;
      const deps: SlackDeps = { ...base, interactions };
      listeningDeps = deps;
      const onAction = actionHandler(deps);
      const onCommand = commandHandler(deps);
      hot = (args) => {
        const body = args.body as { type?: string; command?: unknown };
        // What Bolt's app.action(/^/) and app.command('/bwprep') matched, less one kind Slack never sends
        // bwprep: every block_actions payload (Bolt made it an action and set `action`) and the one slash
        // command. (The action listener also took a legacy interactive_message whose action had an
        // action_id; bwprep posts no legacy attachments, and such a request now gets Bolt's unhandled answer.)
        if (body.type === 'block_actions' && 'action' in args) return onAction(args as unknown as ActionArgs);
        if ('command' in args && body.command === SLASH_COMMAND) return onCommand(args as unknown as CommandArgs);
        return undefined;
      };
      registerSetup(app, deps);
      registerEvents(app, deps);
      app.error(async (err) => {
        base.logger.error({ err }, 'unhandled Slack error');
      });
    },
    start: async () => {
      // Learn who installed bwprep once; a failure here is not fatal (admin rights are then not vouched).
      const inst = await installation().catch((err: unknown) =>
        base.logger.warn({ err }, 'auth.test failed; workspace admin rights are not vouched until it answers'),
      );
      // A token that works again (bwprep reinstalled) ends the pause app_uninstalled / tokens_revoked set.
      if (inst && listeningTo) {
        const cleared = await listeningTo
          .workspaceReachable({ platform: 'slack', workspace: inst.teamId }, INSTALLATION_CODES, { user: 'system:bwprep', surface: 'slack' })
          .catch((err: unknown) => (base.logger.warn({ err }, 'could not resume the rollouts of a reinstalled workspace'), 0));
        if (cleared) base.logger.info({ team: inst.teamId, rollouts: cleared }, 'the Slack installation works again; scheduled digests resume');
      }
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
    close: () => http.destroy(),
    idle,
    runWork: async (work, settled) => {
      if (!listeningDeps) throw new Error('runWork before listen()');
      // No work slot here: the thread that acked holds one for this request until it is settled.
      const deps = listeningDeps;
      if (work.kind === 'command')
        await commandWork(deps, { command: work.command, client: app.client, respond: respondTo(http.fetch, work.command.response_url) }, settled);
      else await actionWork(deps, { body: work.body, client: app.client, respond: respondTo(http.fetch, work.body.response_url) }, settled);
      settled();
    },
  };
}

/**
 * `respond()` for a payload received in another thread: what Bolt builds per request (its
 * `context/create-respond.js`, not exported): POST the message as JSON to the response_url, a string as
 * `{ text }`, and throw Bolt's RespondError for a non-2xx answer (an expired response_url, a rate limit).
 */
function respondTo(fetchFn: ReturnType<typeof createSlackHttp>['fetch'], responseUrl: string | undefined): RespondFn {
  return async (message) => {
    if (!responseUrl) throw new RespondError('Failed to respond: the request had no response_url', 0);
    const body = typeof message === 'string' ? { text: message } : message;
    const res = await fetchFn(responseUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new RespondError(`Failed to respond to the response_url: ${res.status} ${res.statusText}`, res.status);
    return res;
  };
}
