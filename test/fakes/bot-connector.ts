/**
 * A fake Bot Connector (the service at an activity's `serviceUrl`): a real local HTTP server
 * (node:http, 127.0.0.1, port 0) speaking the Bot Framework REST wire format (v3), for bwprep's
 * Teams end-to-end tests. It also publishes a Bot Framework-style OpenID configuration and signing key,
 * so a test can sign channel tokens that botbuilder validates (and forge ones it must refuse).
 *
 *   const connector = await startFakeBotConnector();
 *   … post an activity with serviceUrl: connector.serviceUrl (test/helpers/teams-activities.ts) …
 *   const reply = await connector.waitFor((c) => c.kind === 'reply');
 *   connector.failNext({ kind: 'send', status: 429, retryAfter: 1 });
 *   await connector.close();
 *
 * Routes (Bot Framework REST API v3; every answer to a write is `{ "id": "<activity id>" }`):
 *   POST   /v3/conversations                                  create a conversation → { id, activityId? }
 *   POST   /v3/conversations/{conversationId}/activities      send a new message       (kind 'send')
 *   POST   /v3/conversations/{conversationId}/activities/{id} reply to an activity      (kind 'reply')
 *   PUT    /v3/conversations/{conversationId}/activities/{id} update an activity        (kind 'update')
 *   DELETE /v3/conversations/{conversationId}/activities/{id} delete an activity        (kind 'delete')
 *   GET    /v3/conversations/{conversationId}/members/{id}    one roster member (TeamsInfo.getMember) (kind 'member')
 *   GET    /v3/conversations/{conversationId}/pagedmembers    the roster, one page (TeamsInfo.getPagedMembers) (kind 'roster')
 *   GET    /v3/teams/{teamId}                                 team details with its aadGroupId (TeamsInfo.getTeamDetails) (kind 'team')
 *   GET    /v1/.well-known/openidconfiguration                OpenID metadata → jwks_uri
 *   GET    /v1/keys                                           the signing key (JWK, endorsed for msteams)
 *
 * Scripted failures answer like the real connector: HTTP status plus `{ "error": { "code", "message" } }`,
 * with `Retry-After` (seconds) when given. Failed calls are recorded too (`status` on the call).
 * Unknown members answer 404 `MemberNotFoundInConversation`.
 */
import { createSign, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { reportToSecretGuard } from '../helpers/secret-guard';
import { listenLocal } from './local-server';

export type CallKind = 'create' | 'send' | 'reply' | 'update' | 'delete' | 'member' | 'roster' | 'team' | 'other';

export interface ConnectorCall {
  kind: CallKind;
  method: string;
  path: string;
  conversationId?: string;
  /** The activity addressed: replyToId for a reply, the updated/deleted activity's id. */
  activityId?: string;
  memberId?: string;
  /** Parsed JSON body (undefined for GET/DELETE). */
  body?: Record<string, unknown>;
  authorization?: string;
  /** HTTP status the fake answered. */
  status: number;
  /** Activity id handed out (successful create/send/reply/update). */
  id?: string;
  /** Date.now() when the request arrived (for checking request spacing, never for timing a test). */
  at: number;
}

export interface FailureScript {
  /** Which calls fail; default any write. */
  kind?: CallKind;
  conversationId?: string;
  status: number;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
  /** Error code in the body, e.g. `ConversationBlockedByUser`, `BotNotInConversationRoster`. */
  code?: string;
  /** How many matching calls fail (default 1). */
  times?: number;
}

export interface FakeMember {
  id: string;
  name?: string;
  aadObjectId?: string;
  tenantId?: string;
  userRole?: string;
  email?: string;
}

export interface FakeBotConnector {
  /** Base URL ending in `/`, as Teams sends `serviceUrl`. */
  serviceUrl: string;
  /** Where botbuilder should look for the channel's signing keys (ToBotFromChannelOpenIdMetadataUrl). */
  openIdMetadataUrl: string;
  calls: ConnectorCall[];
  failNext(script: FailureScript): void;
  /**
   * Holds the answer to every new message (`send`) or message update (`update`) matching `pred` until
   * `release()`: the call is taken (recorded, with its id) when it arrives, as Teams would have applied it,
   * so a sender killed while it waits has still posted. `arrived(n)` resolves once n held calls have arrived.
   */
  hold(pred: (c: ConnectorCall) => boolean): { arrived(n: number): Promise<void>; release(): void };
  /** Team details answered on GET /v3/teams/{teamId} (TeamsInfo.getTeamDetails). */
  addTeam(team: { id: string; name?: string; aadGroupId: string }): void;
  /** Adds roster members (per conversation id, or `*` for every conversation). */
  addMembers(conversationId: string, members: FakeMember[]): void;
  /** Resolves with the first call (past or future) matching `pred`. */
  waitFor(pred: (c: ConnectorCall) => boolean, timeoutMs?: number): Promise<ConnectorCall>;
  /** A Bot Framework channel token signed with the published key (what Teams sends in Authorization). */
  channelToken(claims: { audience: string; serviceUrl: string; expiresInSeconds?: number }): string;
  close(): Promise<void>;
}

/** A JWT signed RS256 with `key` (compact serialization, RFC 7519). */
export function signJwt(key: KeyObject, kid: string, payload: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(payload)}`;
  const sig = createSign('RSA-SHA256').update(input).sign(key).toString('base64url');
  return `${input}.${sig}`;
}

/** A fresh RSA key pair for signing test tokens. */
export function testKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** Claims of a channel token as the Bot Framework issues them (botframework-connector ChannelValidation). */
export function channelClaims(c: { audience: string; serviceUrl: string; expiresInSeconds?: number }): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'https://api.botframework.com',
    aud: c.audience,
    serviceurl: c.serviceUrl,
    nbf: now - 60,
    iat: now - 60,
    exp: now + (c.expiresInSeconds ?? 3600),
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (!chunks.length) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export async function startFakeBotConnector(): Promise<FakeBotConnector> {
  const calls: ConnectorCall[] = [];
  const scripts: (FailureScript & { left: number })[] = [];
  const members = new Map<string, FakeMember[]>();
  const teams = new Map<string, { id: string; name?: string; aadGroupId: string }>();
  const waiters: { pred: (c: ConnectorCall) => boolean; resolve: (c: ConnectorCall) => void }[] = [];
  const holds: { pred: (c: ConnectorCall) => boolean; gate: Promise<void>; count: number; notify: (() => void)[] }[] = [];
  const { privateKey, publicKey } = testKeyPair();
  const kid = `fake-${randomUUID()}`;
  let seq = 0;
  let base = '';

  const record = (c: ConnectorCall) => {
    calls.push(c);
    // The authorization header is how a call authenticates; everything else the app sent is scanned for secrets.
    reportToSecretGuard(`teams:${c.method} ${c.path}`, JSON.stringify({ path: c.path, body: c.body }));
    for (const w of [...waiters]) {
      if (w.pred(c)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(c);
      }
    }
  };

  const answer = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/v1/.well-known/openidconfiguration') {
      return answer(res, 200, {
        issuer: 'https://api.botframework.com',
        authorization_endpoint: `${base}/v1/authorize`,
        jwks_uri: `${base}/v1/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
    }
    if (method === 'GET' && path === '/v1/keys') {
      const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
      return answer(res, 200, { keys: [{ kty: 'RSA', use: 'sig', kid, n: jwk.n, e: jwk.e, endorsements: ['msteams', 'emulator'] }] });
    }
    const body = method === 'POST' || method === 'PUT' ? await readJson(req) : undefined;
    const m = /^\/v3\/conversations(?:\/([^/]+)(?:\/(activities|members|pagedmembers)(?:\/([^/]+))?)?)?\/?$/.exec(path);
    const conversationId = m?.[1] ? decodeURIComponent(m[1]) : undefined;
    const sub = m?.[2];
    const target = m?.[3] ? decodeURIComponent(m[3]) : undefined;
    let kind: CallKind = 'other';
    if (m && !conversationId && method === 'POST') kind = 'create';
    else if (sub === 'activities' && method === 'POST') kind = target ? 'reply' : 'send';
    else if (sub === 'activities' && method === 'PUT' && target) kind = 'update';
    else if (sub === 'activities' && method === 'DELETE' && target) kind = 'delete';
    else if (sub === 'members' && method === 'GET' && target) kind = 'member';
    else if (sub === 'pagedmembers' && method === 'GET') kind = 'roster';
    const teamPath = /^\/v3\/teams\/([^/]+)\/?$/.exec(path);
    if (teamPath && method === 'GET') kind = 'team';
    const call: ConnectorCall = {
      kind,
      method,
      path,
      ...(conversationId ? { conversationId } : {}),
      ...(target && kind !== 'member' ? { activityId: target } : {}),
      ...(target && kind === 'member' ? { memberId: target } : {}),
      ...(body ? { body } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      status: 200,
      at: Date.now(),
    };
    const script = scripts.find(
      (s) =>
        s.left > 0 &&
        (s.kind ? s.kind === kind : kind !== 'member' && kind !== 'roster' && kind !== 'other') &&
        (!s.conversationId || s.conversationId === conversationId),
    );
    if (script) {
      script.left -= 1;
      call.status = script.status;
      record(call);
      const code =
        script.code ??
        (script.status === 429
          ? 'TooManyRequests'
          : script.status === 403
            ? 'BotNotInConversationRoster'
            : script.status === 404
              ? 'ConversationNotFound'
              : 'ServiceError');
      return answer(
        res,
        script.status,
        { error: { code, message: `fake connector: scripted ${script.status}` } },
        script.retryAfter !== undefined ? { 'retry-after': String(script.retryAfter) } : {},
      );
    }
    switch (kind) {
      case 'create': {
        const id = `a:fake-personal-${++seq}`;
        call.id = id;
        record(call);
        return answer(res, 201, { id, serviceUrl: base.endsWith('/') ? base : `${base}/` });
      }
      case 'send':
      case 'reply': {
        const id = `fake-activity-${++seq}`;
        call.id = id;
        record(call);
        const held = kind === 'send' ? holds.find((h) => h.pred(call)) : undefined;
        if (held) {
          held.count++;
          for (const n of held.notify.splice(0)) n();
          await held.gate;
        }
        return answer(res, 201, { id });
      }
      case 'update': {
        call.id = target;
        record(call);
        const held = holds.find((h) => h.pred(call));
        if (held) {
          held.count++;
          for (const n of held.notify.splice(0)) n();
          await held.gate;
        }
        return answer(res, 200, { id: target });
      }
      case 'delete':
        record(call);
        return answer(res, 200);
      case 'member': {
        const found = [...(members.get(conversationId ?? '') ?? []), ...(members.get('*') ?? [])].find((x) => x.id === target || x.aadObjectId === target);
        call.status = found ? 200 : 404;
        record(call);
        if (!found) return answer(res, 404, { error: { code: 'MemberNotFoundInConversation', message: 'fake connector: no such member' } });
        return answer(res, 200, { ...found, objectId: found.aadObjectId });
      }
      case 'team': {
        const team = teams.get(decodeURIComponent(teamPath?.[1] ?? ''));
        call.status = team ? 200 : 404;
        record(call);
        if (!team) return answer(res, 404, { error: { code: 'NotFound', message: 'fake connector: no such team' } });
        return answer(res, 200, { id: team.id, name: team.name ?? 'Fake Team', aadGroupId: team.aadGroupId, type: 'standard' });
      }
      case 'roster': {
        // One page is enough for the tests: the whole roster, no continuation token.
        record(call);
        const list = [...(members.get(conversationId ?? '') ?? []), ...(members.get('*') ?? [])];
        return answer(res, 200, { members: list.map((x) => ({ ...x, objectId: x.aadObjectId })) });
      }
      default:
        call.status = 404;
        record(call);
        return answer(res, 404, { error: { code: 'NotFound', message: `fake connector: no route ${method} ${path}` } });
    }
  };

  const local = await listenLocal(handle, (res, err) => answer(res, 500, { error: { code: 'ServiceError', message: String(err) } }));
  base = local.base;

  return {
    serviceUrl: `${base}/`,
    openIdMetadataUrl: `${base}/v1/.well-known/openidconfiguration`,
    calls,
    failNext: (s) => scripts.push({ ...s, left: s.times ?? 1 }),
    hold: (pred) => {
      let open!: () => void;
      const h = { pred, gate: new Promise<void>((r) => (open = r)), count: 0, notify: [] as (() => void)[] };
      holds.push(h);
      return {
        arrived: (n) =>
          new Promise<void>((resolve) => {
            const check = () => (h.count >= n ? resolve() : h.notify.push(check));
            check();
          }),
        release: () => {
          holds.splice(holds.indexOf(h), 1);
          open();
        },
      };
    },
    addTeam: (team) => teams.set(team.id, team),
    addMembers: (conversationId, list) => members.set(conversationId, [...(members.get(conversationId) ?? []), ...list]),
    waitFor: (pred, timeoutMs = 10_000) => {
      const past = calls.find(pred);
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(
              new Error(
                `fake connector: no matching call within ${timeoutMs} ms; calls: ${JSON.stringify(calls.map((c) => `${c.method} ${c.path} ${c.status}`))}`,
              ),
            );
          }
        }, timeoutMs).unref();
      });
    },
    channelToken: (c) => signJwt(privateKey, kid, channelClaims(c)),
    close: local.close,
  };
}
