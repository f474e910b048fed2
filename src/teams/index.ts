/**
 * Microsoft Teams for bwprep: a botbuilder CloudAdapter behind `POST /api/messages` of the shared HTTP
 * server, conversation references and a user directory in the store, and proactive sends through the
 * Bot Connector (every one queued and retried, see outbound.ts).
 *
 * Authentication: with an app id, botbuilder validates the Bot Framework JWT of every request before any
 * handler runs; a request without a valid token gets 401. Without an app id the endpoint runs only when
 * TEAMS_ALLOW_UNAUTHENTICATED=true (config/schema.ts refuses to start otherwise), and says so loudly.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { type Activity, CloudAdapter, type ConversationParameters, TeamsInfo, TurnContext } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import { AuthenticationConstants, AuthenticationError } from 'botframework-connector';
import type { Config } from '../config/load';
import type { Locale } from '../core/checklist/model';
import type { KeyValueStore, LeaseStore } from '../core/ports';
import type { Logger } from '../logging/logger';
import { activityProblem } from './activity';
import { BwprepBotFrameworkAuthentication, type TeamsAuthOverrides } from './auth';
import { tr } from '../i18n';
import type { Interactions } from '../interactions';
import type { ChatPlatform } from '../interactions/ports';
import { teamsPlatform } from './platform';
import { addressedToBot, BwprepTeamsBot, invokeMessage, replyLocale } from './bot';
import { baseConversationId, type StoredConversation, TeamsConversations, TeamsUserDirectory } from './directory';
import { graphDigestLookup } from './graph';
import { MicrosoftIdentity, routedHttpClient } from './identity';
import { OutboundControl, type OutboundOptions, withoutResend } from './outbound';
import { noticeText, renderNotice } from './render';

/** Largest request body accepted on /api/messages (Teams messages stay under ~100 KB; 1 MiB leaves room for attachments' metadata). */
const MAX_ACTIVITY_BYTES = 1024 * 1024;

/** How long a handled message id is remembered, in ms: redeliveries come within seconds. */
const DEDUPE_MS = 15 * 60_000;

export interface TeamsDeps {
  kv: KeyValueStore;
  /** One-shot keys: a message the Bot Framework delivers twice is handled once (across replicas). */
  leases: LeaseStore;
  logger: Logger;
  defaultLocale: Locale;
  now?: () => Date;
}

export interface TeamsOptions extends TeamsAuthOverrides {
  /** Retry tuning (tests shorten nothing by default; see OutboundOptions). */
  outbound?: Pick<OutboundOptions, 'maxRetries' | 'retryDelayMs' | 'maxRetryDelayMs'>;
  /** Microsoft Graph's base URL (default https://graph.microsoft.com/v1.0, the global cloud); tests use a local fake. */
  graphUrl?: string;
  /**
   * Token requests for these origins go elsewhere: `{ 'https://login.microsoftonline.com': 'http://127.0.0.1:…' }`.
   * Tests only (MSAL accepts https authorities alone, so the route is taken at the HTTP client).
   */
  loginRoutes?: Record<string, string>;
}

/** Exposes CloudAdapterBase#processActivity, which authenticates and then runs the bot. */
class BwprepCloudAdapter extends CloudAdapter {
  handle(authHeader: string, activity: Activity, logic: (ctx: TurnContext) => Promise<void>) {
    return this.processActivity(authHeader, activity, logic);
  }
}

export interface SendOptions {
  /** Never resend after an answer that leaves it open whether the message went out (outbound.ts `withoutResend`). */
  once?: boolean;
}

export interface TeamsRuntime {
  /** Mounted by the HTTP server at POST /api/messages. */
  requestListener: RequestListener;
  conversations: TeamsConversations;
  users: TeamsUserDirectory;
  /**
   * Posts a message to a stored conversation (digest, reminder, card). Returns the new activity id, or
   * undefined when the conversation is unknown or inactive (nothing is sent). Throws the connector's
   * error otherwise, after the retries of outbound.ts.
   */
  send(conversationId: string, activity: Partial<Activity>, opts?: SendOptions): Promise<string | undefined>;
  /** Replaces a message the bot posted (PUT …/activities/{id}). False when the conversation is unknown or inactive. */
  update(conversationId: string, activityId: string, activity: Partial<Activity>): Promise<boolean>;
  /** Deletes a message the bot posted. False when the conversation is unknown or inactive. */
  delete(conversationId: string, activityId: string): Promise<boolean>;
  /**
   * The user's 1:1 conversation with the bot: the stored one, or one created through the connector
   * (`POST /v3/conversations`) using a conversation the bot shares with the user (`via`, e.g. the team
   * channel where the app is installed). Undefined when the user is unknown or no route exists.
   */
  personalConversation(aadObjectId: string, via?: string): Promise<string | undefined>;
  /** The application layer's ports on Teams (register in Platforms). */
  platform: ChatPlatform;
  /** Connects the bot to the application layer, once every platform is registered. */
  listen(interactions: Interactions): void;
  /** Resolves once the work started after answered invokes (card updates for everyone, check runs) is done. */
  idle(): Promise<void>;
  /** Closes the outbound queues: call it after `idle()` (bounded by the shutdown's drain). */
  stop(): Promise<void>;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status, { 'cache-control': 'no-store' });
    res.end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

/** The request body, or 'too_large' past `limit` bytes (the rest is read and dropped, so the 413 reaches the caller). */
/**
 * The request body, or `'too_large'` as soon as it is known to exceed `limit` bytes (a declared
 * Content-Length, or the bytes read so far): reading stops there, so a sender cannot keep the request open
 * by streaming on. The caller answers 413 with `Connection: close`.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too_large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (out: Buffer | 'too_large' | Error) => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      if (out instanceof Error) reject(out);
      else resolve(out);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.pause();
      done('too_large');
    };
    const onEnd = () => done(Buffer.concat(chunks));
    const onError = (err: Error) => done(err);
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** Errors botbuilder's token validation throws: its own, and those of jsonwebtoken (which it rethrows). */
function isAuthFailure(err: unknown): boolean {
  if (err instanceof AuthenticationError) return true;
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'JsonWebTokenError' || name === 'TokenExpiredError' || name === 'NotBeforeError';
}

export function createTeams(config: NonNullable<Config['teams']>, deps: TeamsDeps, opts: TeamsOptions = {}): TeamsRuntime {
  const logger = deps.logger;
  const now = deps.now ?? (() => new Date());
  const appId = config.appId ?? '';
  if (!config.appId) {
    // config/schema.ts only lets this through with TEAMS_ALLOW_UNAUTHENTICATED=true.
    logger.warn(
      'TEAMS_ALLOW_UNAUTHENTICATED=true: /api/messages accepts requests WITHOUT Bot Framework authentication. Use this only with a local emulator or in tests; set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD for Teams.',
    );
  }
  if (config.appId && config.allowUnauthenticated)
    logger.warn('TEAMS_ALLOW_UNAUTHENTICATED is ignored: MICROSOFT_APP_ID is set, so every request to /api/messages is authenticated');
  const conversationStore = new TeamsConversations(deps.kv, now);
  const directory = new TeamsUserDirectory(deps.kv, now);
  const outbound = new OutboundControl({
    logger,
    ...opts.outbound,
    onConversationGone: async (id, { status }) => {
      await conversationStore.markInactive(id, status === 403 ? 'forbidden' : 'not_found');
    },
  });
  // With a client secret, one token source serves the Bot Connector and Graph (identity.ts). A managed
  // identity keeps botbuilder's own credentials and has no Graph lookup.
  const identity =
    config.appId && config.appPassword && config.appType !== 'UserAssignedMSI'
      ? new MicrosoftIdentity(config.appId, config.appPassword, opts.loginRoutes ? routedHttpClient(opts.loginRoutes) : undefined)
      : undefined;
  const auth = new BwprepBotFrameworkAuthentication(config, outbound, logger, opts, identity);
  const adapter = new BwprepCloudAdapter(auth);
  // A failed turn is logged with a reference the user sees, as on Slack (error.internal); nothing else leaks.
  adapter.onTurnError = async (ctx, err) => {
    const ref = randomUUID().slice(0, 8);
    logger.error({ err, ref, activityType: ctx.activity.type, conversation: ctx.activity.conversation?.id }, 'teams turn failed');
    const locale = replyLocale(ctx.activity, deps.defaultLocale);
    if (ctx.activity.type === 'invoke') {
      // Without an invoke response botbuilder answers 501 and Teams shows "Something went wrong": the presser reads the reference instead.
      const text = noticeText('warn', [tr(locale, 'error.internal', { ref })], { personal: ctx.activity.conversation?.conversationType === 'personal' });
      await ctx.sendActivity({ type: 'invokeResponse', value: invokeMessage(text) }).catch((e) => logger.warn({ err: e, ref }, 'teams error answer failed'));
      return;
    }
    if (ctx.activity.type !== 'message') return;
    await ctx
      .sendActivity(renderNotice('warn', [tr(locale, 'error.internal', { ref })], { personal: ctx.activity.conversation?.conversationType === 'personal' }))
      .catch((e) => logger.warn({ err: e, ref }, 'teams error reply failed'));
  };
  const bot = new BwprepTeamsBot({ conversationStore, kv: deps.kv, directory, logger, defaultLocale: deps.defaultLocale, now });

  const requestListener: RequestListener = (req, res) => {
    void (async () => {
      if (req.method !== 'POST') return send(res, 405, { error: 'method_not_allowed' });
      const raw = await readBody(req, MAX_ACTIVITY_BYTES);
      if (raw === 'too_large') {
        // The rest of the body is not read: close the connection after the answer.
        res.shouldKeepAlive = false;
        return send(res, 413, { error: 'payload_too_large' });
      }
      let activity: Activity;
      try {
        activity = JSON.parse(raw.toString('utf8')) as Activity;
      } catch {
        return send(res, 400, { error: 'invalid_json' });
      }
      const problem = activityProblem(activity);
      if (problem) {
        logger.info({ problem }, 'teams request refused: not an activity bwprep can read');
        return send(res, 400, { error: 'not_an_activity' });
      }
      const authHeader = typeof req.headers.authorization === 'string' ? req.headers.authorization : '';
      let turnStarted = false;
      try {
        const invoke = await adapter.handle(authHeader, activity, async (ctx) => {
          turnStarted = true;
          // Authenticated from here on. The resource-specific consent that lets Graph read a team's or chat's
          // messages (graph.ts) also makes Teams deliver every message there: bwprep reads only what mentions
          // it. Nothing else is stored, answered or logged (not even its text), and it costs no store write.
          if (activity.type === 'message' && !addressedToBot(activity)) {
            logger.debug({ conversation: activity.conversation?.id }, 'teams message without a mention of bwprep; ignored');
            return;
          }
          // A redelivered message (same id) must not be answered twice.
          if (activity.type === 'message' && activity.id) {
            const key = `teams:activity:${baseConversationId(activity.conversation?.id ?? '')}:${activity.id}`;
            if (!(await deps.leases.acquire(key, randomUUID(), DEDUPE_MS))) {
              logger.info({ activityId: activity.id, conversation: activity.conversation?.id }, 'teams message delivered again; already handled');
              return;
            }
          }
          await bot.run(ctx);
        });
        return send(res, invoke?.status ?? 200, invoke?.body);
      } catch (err) {
        if (turnStarted) {
          logger.error({ err, activityType: activity.type }, 'teams activity failed');
          return send(res, 500, { error: 'internal' });
        }
        // Thrown before the bot ran. Authentication failures are botbuilder's AuthenticationError, or
        // jsonwebtoken's errors for a bad signature or dates; keys that could not be fetched are our
        // problem (503), not the caller's. Anything else is a fault on our side.
        if (!isAuthFailure(err)) {
          logger.error({ err, activityType: activity.type }, 'teams activity failed before the turn');
          return send(res, 500, { error: 'internal' });
        }
        const status = err instanceof AuthenticationError && err.statusCode >= 500 ? 503 : 401;
        logger.warn({ status, reason: (err as Error).message, activityType: activity.type, serviceUrl: activity.serviceUrl }, 'teams request refused');
        return send(res, status, { error: status === 401 ? 'unauthorized' : 'authentication_unavailable' });
      }
    })().catch((err) => {
      logger.error({ err }, 'teams request failed');
      if (!res.headersSent) send(res, 500, { error: 'internal' });
    });
  };

  const active = async (conversationId: string): Promise<StoredConversation | undefined> => {
    const c = await conversationStore.get(conversationId);
    if (!c) logger.warn({ conversation: conversationId }, 'teams send skipped: conversation unknown (app never installed there?)');
    else if (!c.active) logger.info({ conversation: conversationId, reason: c.inactiveReason }, 'teams send skipped: conversation inactive');
    return c?.active ? c : undefined;
  };
  /** Runs `logic` in a stored conversation; its error reaches the caller (the adapter's onTurnError would swallow it). */
  const continueIn = async (c: StoredConversation, logic: (ctx: TurnContext) => Promise<void>) => {
    let failure: unknown;
    await adapter.continueConversationAsync(appId, { ...c.reference, activityId: undefined } as never, async (ctx) => {
      try {
        await logic(ctx);
      } catch (err) {
        failure = err;
      }
    });
    if (failure) throw failure;
  };

  const runtime: Omit<TeamsRuntime, 'platform' | 'listen' | 'stop' | 'idle'> = {
    requestListener,
    conversations: conversationStore,
    users: directory,
    async send(conversationId, activity, sendOpts) {
      const c = await active(conversationId);
      if (!c) return undefined;
      let id: string | undefined;
      const run = (fn: () => Promise<void>) => (sendOpts?.once ? withoutResend(fn) : fn());
      await run(() =>
        continueIn(c, async (ctx) => {
          // A new message, not a reply: TurnContext#sendActivity would reply to the continuation activity's made-up id.
          const connector = ctx.turnState.get<ConnectorClient>(adapter.ConnectorClientKey);
          const out = TurnContext.applyConversationReference({ ...activity }, { ...c.reference, activityId: undefined } as never);
          delete out.replyToId;
          const api = connector.conversations;
          id = (await api.sendToConversation(conversationId, out as Activity)).id;
        }),
      );
      return id;
    },
    async update(conversationId, activityId, activity) {
      const c = await active(conversationId);
      if (!c) return false;
      await continueIn(c, async (ctx) => {
        await ctx.updateActivity({ ...activity, id: activityId, conversation: c.reference.conversation as Activity['conversation'] });
      });
      return true;
    },
    async delete(conversationId, activityId) {
      const c = await active(conversationId);
      if (!c) return false;
      await continueIn(c, async (ctx) => {
        await ctx.deleteActivity(activityId);
      });
      return true;
    },
    async personalConversation(aadObjectId, via) {
      const user = await directory.get(aadObjectId);
      if (!user) return undefined;
      if (user.personalConversationId) {
        const known = await conversationStore.get(user.personalConversationId);
        if (known?.active) return user.personalConversationId;
      }
      const route = via ? await conversationStore.get(via) : undefined;
      if (!route?.active) return undefined;
      const tenantId = route.tenantId ?? route.reference.conversation.tenantId;
      const params: ConversationParameters = {
        isGroup: false,
        bot: route.reference.bot,
        members: [{ id: user.id, name: user.name ?? '' }],
        ...(tenantId ? { tenantId, channelData: { tenant: { id: tenantId } } } : {}),
      } as ConversationParameters;
      let created: string | undefined;
      await adapter.createConversationAsync(
        appId,
        route.reference.channelId,
        route.reference.serviceUrl,
        AuthenticationConstants.ToChannelFromBotOAuthScope,
        params,
        async (ctx) => {
          const ref = ctx.activity;
          created = ref.conversation.id;
          await conversationStore.remember(
            {
              serviceUrl: route.reference.serviceUrl,
              channelId: route.reference.channelId,
              conversation: { id: created, conversationType: 'personal', ...(tenantId ? { tenantId } : {}) },
              bot: route.reference.bot,
              user: { id: user.id, ...(user.name ? { name: user.name } : {}), aadObjectId },
            },
            { ...(tenantId ? { tenantId } : {}) },
          );
        },
      );
      if (created) await directory.setPersonalConversation(aadObjectId, created);
      return created;
    },
  };
  /** The team's Microsoft 365 group id: stored, or asked of the Bot Connector (GET /v3/teams/{teamId}) and stored. */
  const teamGroupId = async (c: StoredConversation): Promise<string | undefined> => {
    if (c.aadGroupId) return c.aadGroupId;
    if (!c.teamId || !c.active) return undefined;
    let group: string | undefined;
    await continueIn(c, async (ctx) => {
      group = (await TeamsInfo.getTeamDetails(ctx, c.teamId)).aadGroupId || undefined;
    });
    if (group) await conversationStore.setTeamGroupId(c.reference.conversation.id, group);
    return group;
  };
  const lookup = identity
    ? graphDigestLookup({
        identity,
        logger,
        ...(opts.graphUrl ? { graphUrl: opts.graphUrl } : {}),
        conversation: (id) => conversationStore.get(id),
        teamGroupId,
      })
    : undefined;
  const platform = teamsPlatform({ runtime, logger, ...(lookup ? { lookup } : {}) });
  return {
    ...runtime,
    platform,
    listen: (interactions: Interactions) =>
      bot.attach({
        interactions,
        cardFor: async (id, view, checking) => (await platform.cardFor(id, view, checking)) as { contentType: string; content: unknown },
        tell: (user, message) => platform.notifier?.send(user, message) ?? Promise.resolve(false),
        post: async (conversationId, activity) => {
          await runtime.send(conversationId, activity);
        },
      }),
    idle: () => bot.idle(),
    stop: () => outbound.stop(),
  };
}
