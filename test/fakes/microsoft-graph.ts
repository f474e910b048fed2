/**
 * A fake of the two Microsoft services bwprep's Teams side calls besides the Bot Connector: the Microsoft
 * identity platform's token endpoint (client credentials) and Microsoft Graph's message lists. One real
 * local HTTP server (node:http, 127.0.0.1, port 0) speaking their wire formats:
 *
 *   GET  /{tenant}/v2.0/.well-known/openid-configuration   OpenID metadata (MSAL reads it before a token)
 *   GET  /common/discovery/instance                        instance discovery (MSAL, for unknown clouds)
 *   POST /{tenant}/oauth2/v2.0/token                       client_credentials grant (form body) → access token
 *   GET  /v1.0/teams/{group}/channels/{channel}/messages/delta?$filter=lastModifiedDateTime gt …&$top=n
 *   GET  /v1.0/chats/{chat}/messages?$top=n&$orderby=lastModifiedDateTime desc&$filter=lastModifiedDateTime gt …
 *
 * The login routes are reached through `loginRoutes` (`https://login.microsoftonline.com` → this server);
 * Graph through `graphUrl`. A token is issued only for the registered client id and secret, and remembers
 * its tenant and scope; Graph accepts only a Graph-scoped token of the tenant that "granted consent" to the
 * team or chat (`grant()`), else 403 like Graph without RSC. Pages follow `@odata.nextLink`; a delta round
 * ends with `@odata.deltaLink`. Messages are chatMessage JSON: `from.application` for a bot, an Adaptive
 * Card attachment's `content` as the card's serialized JSON.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { reportToSecretGuard } from '../helpers/secret-guard';
import { listenLocal } from './local-server';

export const LOGIN_ORIGIN = 'https://login.microsoftonline.com';
const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export interface GraphCall {
  kind: 'openid' | 'discovery' | 'token' | 'channel_messages' | 'chat_messages' | 'other';
  method: string;
  path: string;
  query: Record<string, string>;
  /** token: the tenant of the path; Graph: the tenant of the bearer token. */
  tenant?: string;
  /** token: the requested scope. */
  scope?: string;
  status: number;
}

export interface FakeChatMessage {
  id: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  from: { application?: { id: string; displayName?: string; applicationIdentityType?: string } | null; user?: { id: string } | null } | null;
  body: { contentType: 'html' | 'text'; content: string };
  attachments: { id: string; contentType: string; content: string | null; contentUrl: string | null }[];
}

export interface FakeMicrosoft {
  /** Origin for `loginRoutes` (`{ 'https://login.microsoftonline.com': fake.loginOrigin }`). */
  loginOrigin: string;
  /** Graph base URL (…/v1.0). */
  graphUrl: string;
  calls: GraphCall[];
  /** Tokens handed out: value → tenant and scope. */
  tokens: Map<string, { tenant: string; scope: string }>;
  /** Lets `tenant`'s Graph tokens read the team's (group id) or chat's messages: the RSC grant. */
  grant(tenant: string, resource: { group: string } | { chat: string }): void;
  /** Adds a message to a channel (`{group, channel}`) or chat (`{chat}`); newest last. */
  addMessage(where: { group: string; channel: string } | { chat: string }, message: Partial<FakeChatMessage> & { at: Date }): FakeChatMessage;
  /** The next `times` matching calls answer `status` with a Graph/Entra error body, or with `body` as it is. */
  failNext(script: { kind: GraphCall['kind']; status: number; code?: string; times?: number; body?: string }): void;
  close(): Promise<void>;
}

/** A bot message as Graph shows it: from the app, the card as an attachment (serialized JSON). */
export function botCardMessage(appId: string, card: unknown, at: Date): Partial<FakeChatMessage> & { at: Date } {
  return {
    at,
    from: { application: { id: appId, displayName: 'bwprep', applicationIdentityType: 'bot' }, user: null },
    body: { contentType: 'html', content: '<attachment id="att-1"></attachment>' },
    attachments: [{ id: 'att-1', contentType: 'application/vnd.microsoft.card.adaptive', content: JSON.stringify(card, null, 2), contentUrl: null }],
  };
}

function answer(res: ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `lastModifiedDateTime gt 2026-…Z` → the instant. */
function sinceOf(filter: string | undefined): number {
  const m = /^lastModifiedDateTime gt (\S+)$/.exec(filter ?? '');
  return m ? Date.parse(m[1] as string) : Number.NEGATIVE_INFINITY;
}

export async function startFakeMicrosoft(opts: { clientId: string; clientSecret: string }): Promise<FakeMicrosoft> {
  const calls: GraphCall[] = [];
  const tokens = new Map<string, { tenant: string; scope: string }>();
  const grants = new Set<string>();
  const messages = new Map<string, FakeChatMessage[]>();
  const scripts: { kind: GraphCall['kind']; status: number; code?: string; body?: string; left: number }[] = [];
  let base = '';
  let seq = 0;

  const keyOf = (where: { group: string; channel: string } | { chat: string }) =>
    'chat' in where ? `chat:${where.chat}` : `team:${where.group}:${where.channel}`;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    const method = req.method ?? 'GET';
    const query = Object.fromEntries(url.searchParams);
    const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const call: GraphCall = { kind: 'other', method, path: url.pathname, query, status: 200 };
    calls.push(call);
    if (method === 'GET' && segs[1] === 'v2.0' && segs[2] === '.well-known') call.kind = 'openid';
    else if (method === 'GET' && segs[0] === 'common' && segs[1] === 'discovery') call.kind = 'discovery';
    else if (method === 'POST' && segs[1] === 'oauth2' && segs[3] === 'token') call.kind = 'token';
    else if (method === 'GET' && segs[0] === 'v1.0' && segs[1] === 'teams' && segs[3] === 'channels' && segs[5] === 'messages') call.kind = 'channel_messages';
    else if (method === 'GET' && segs[0] === 'v1.0' && segs[1] === 'chats' && segs[3] === 'messages') call.kind = 'chat_messages';

    const script = scripts.find((s) => s.left > 0 && s.kind === call.kind);
    if (script) {
      script.left -= 1;
      call.status = script.status;
      if (script.body !== undefined) {
        res.writeHead(script.status, { 'content-type': 'application/json' });
        return res.end(script.body);
      }
      return answer(res, script.status, { error: { code: script.code ?? 'ServiceUnavailable', message: `fake graph: scripted ${script.status}` } });
    }

    switch (call.kind) {
      case 'openid': {
        const tenant = segs[0] as string;
        const login = `${LOGIN_ORIGIN}/${tenant}`;
        return answer(res, 200, {
          token_endpoint: `${login}/oauth2/v2.0/token`,
          authorization_endpoint: `${login}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${login}/oauth2/v2.0/logout`,
          issuer: `${LOGIN_ORIGIN}/${tenant}/v2.0`,
          jwks_uri: `${LOGIN_ORIGIN}/${tenant}/discovery/v2.0/keys`,
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
          response_modes_supported: ['query', 'fragment', 'form_post'],
        });
      }
      case 'discovery':
        return answer(res, 200, {
          tenant_discovery_endpoint: `${LOGIN_ORIGIN}/common/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: 'login.microsoftonline.com', preferred_cache: 'login.windows.net', aliases: ['login.microsoftonline.com'] }],
        });
      case 'token': {
        const raw = await readBody(req);
        const form = new URLSearchParams(raw);
        // The client secret belongs here (and only here); everything else in the request is scanned.
        reportToSecretGuard(
          'call',
          [...form]
            .filter(([k]) => k !== 'client_secret')
            .map(([k, v]) => `${k}=${v}`)
            .join('&'),
        );
        call.tenant = segs[0] as string;
        call.scope =
          form
            .get('scope')
            ?.split(' ')
            .find((s) => s.endsWith('/.default')) ?? '';
        if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== opts.clientId || form.get('client_secret') !== opts.clientSecret) {
          call.status = 401;
          return answer(res, 401, {
            error: 'invalid_client',
            error_description: 'AADSTS7000215: Invalid client secret provided. (fake)',
            error_codes: [7000215],
            timestamp: new Date().toISOString(),
            trace_id: randomUUID(),
            correlation_id: randomUUID(),
          });
        }
        const token = `fake-entra-token-${++seq}-${randomUUID().slice(0, 8)}`;
        tokens.set(token, { tenant: call.tenant, scope: call.scope });
        return answer(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
      }
      case 'channel_messages':
      case 'chat_messages': {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const issued = bearer ? tokens.get(bearer) : undefined;
        if (!issued || issued.scope !== GRAPH_SCOPE) {
          call.status = 401;
          return answer(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' } });
        }
        call.tenant = issued.tenant;
        const where = call.kind === 'chat_messages' ? { chat: segs[2] as string } : { group: segs[2] as string, channel: segs[4] as string };
        const resource = 'chat' in where ? `chat:${where.chat}` : `team:${where.group}`;
        if (!grants.has(`${issued.tenant}|${resource}`)) {
          call.status = 403;
          return answer(res, 403, {
            error: {
              code: 'Forbidden',
              message: 'Invoked API requires Protected API access in application-only context when not using Resource Specific Consent.',
            },
          });
        }
        const top = Math.min(Number(query.$top ?? 20), 50);
        const skip = Number(query.$skiptoken ?? 0);
        let list = messages.get(keyOf(where)) ?? [];
        if (call.kind === 'channel_messages') {
          // delta: root messages changed after the filter's instant.
          const since = sinceOf(query.$filter);
          list = list.filter((m) => Date.parse(m.lastModifiedDateTime) > since);
        } else {
          // Chat messages, newest first by $orderby (default lastModifiedDateTime); $filter counts only when it
          // names the same property (chat-list-messages), else Graph ignores it.
          const by = (query.$orderby ?? 'lastModifiedDateTime desc').split(' ')[0] as 'createdDateTime' | 'lastModifiedDateTime';
          list = [...list].sort((a, b) => Date.parse(b[by]) - Date.parse(a[by]));
          if (query.$filter?.startsWith(`${by} `)) {
            const since = sinceOf(query.$filter.replace(by, 'lastModifiedDateTime'));
            list = list.filter((m) => Date.parse(m[by]) > since);
          }
        }
        const page = list.slice(skip, skip + top);
        const more = skip + top < list.length;
        const self = new URL(url.toString());
        self.searchParams.set('$skiptoken', String(skip + top));
        const end = call.kind === 'channel_messages' ? { '@odata.deltaLink': `${base}${url.pathname}?$deltatoken=fake-${seq}` } : {};
        return answer(res, 200, {
          '@odata.context': `${base}/v1.0/$metadata#Collection(chatMessage)`,
          value: page,
          ...(more ? { '@odata.nextLink': self.toString() } : end),
        });
      }
      default:
        call.status = 404;
        return answer(res, 404, { error: { code: 'NotFound', message: `fake microsoft: no route ${method} ${url.pathname}` } });
    }
  };

  const local = await listenLocal(handle, (res, err) => answer(res, 500, { error: { code: 'InternalServerError', message: String(err) } }));
  base = local.base;

  return {
    loginOrigin: base,
    graphUrl: `${base}/v1.0`,
    calls,
    tokens,
    grant: (tenant, resource) => grants.add(`${tenant}|${'chat' in resource ? `chat:${resource.chat}` : `team:${resource.group}`}`),
    addMessage(where, m) {
      const at = m.at.toISOString();
      const { at: _at, ...rest } = m;
      const msg: FakeChatMessage = {
        id: String(m.at.getTime() + ++seq),
        createdDateTime: at,
        lastModifiedDateTime: at,
        from: { user: { id: randomUUID() }, application: null },
        body: { contentType: 'html', content: '<p>hello</p>' },
        attachments: [],
        ...rest,
      };
      const key = keyOf(where);
      messages.set(key, [...(messages.get(key) ?? []), msg]);
      return msg;
    },
    failNext: (s) => scripts.push({ ...s, left: s.times ?? 1 }),
    close: local.close,
  };
}
