/**
 * Whether a scheduled digest is in a Teams conversation, read through Microsoft Graph: the Teams half of
 * the scheduler's reconciliation (ConversationPublisher.findDigest; src/scheduler/scheduler.ts, "Crash
 * windows"). A bot cannot read a conversation through the Bot Framework, so without this a process killed
 * between claiming a digest slot and recording its post would leave that digest at most once on Teams.
 *
 * Permissions: resource-specific consent (RSC), granted by the team's owner (or the chat's members) when
 * the app is installed or updated: `ChannelMessage.Read.Group` for a team's channels and
 * `ChatMessage.Read.Chat` for a group chat (manifests/teams/manifest.json, `authorization.permissions`).
 * RSC needs no tenant-wide admin consent and is not one of Teams' protected APIs: Graph only asks for
 * Microsoft's approval "in application-only context when not using Resource Specific Consent".
 * The token is an app-only one (client credentials, identity.ts) from the tenant that installed the app.
 *
 * Requests (Graph v1.0, learn.microsoft.com/graph/api/...):
 * - a channel: `GET /teams/{team-id}/channels/{channel-id}/messages/delta?$filter=lastModifiedDateTime gt {since}`
 *   (chatmessage-delta; root messages changed since `since`, paged by `@odata.nextLink`). `team-id` is the
 *   team's Microsoft 365 group id (`aadGroupId`), not the Bot Framework team id.
 * - a group chat: `GET /chats/{chat-id}/messages?$orderby=createdDateTime desc` (chat-list-messages), read
 *   until a message created before `since` (Graph filters chats only on lastModifiedDateTime, which a
 *   reaction changes).
 * A message is our digest when Graph says our app sent it (`from.application.id` is the bot's app id) and
 * one of its Adaptive Card attachments (`content`: the card's serialized JSON) has an element whose id is
 * the digest's marker (render.ts `digestMarker`).
 *
 * Answers: `found` (with the message id), `absent` (every page read, no such message), `unknown` (the
 * lookup cannot be made: no consent yet (403), 401, 404 or another 4xx, a 1:1 chat, credentials refused,
 * too many messages since the slot; logged as a warning with what to do). A failure that may pass (408,
 * 429, 5xx, an unreadable page, no connection) throws, and the scheduler asks again after its back-off.
 * `canLook` asks for one message to tell whether a digest post may be sent once (platform.ts).
 *
 * The same consent makes Teams deliver every message of the team's channels (or the chat) to the bot;
 * the Teams request listener (index.ts, with bot.ts `addressedToBot`) drops all but those that @mention it.
 */
import { request } from 'undici';
import { z } from 'zod';
import type { MessageRef } from '../core/checklist/model';
import type { DigestLookup } from '../core/digest/ports';
import type { Logger } from '../logging/logger';
import type { StoredConversation } from './directory';
import type { MicrosoftIdentity } from './identity';
import { ADAPTIVE_CARD, digestMarker } from './render';

/** Microsoft Graph v1.0 in the global cloud. */
const GRAPH_URL = 'https://graph.microsoft.com/v1.0';
/** The Graph resource whose `.default` scope carries the app's RSC grants. */
const GRAPH_RESOURCE = 'https://graph.microsoft.com';
/** Messages per page (the most both list APIs allow). */
const PAGE = 50;
/** Pages read before giving up with `unknown` (500 messages since the digest's slot). */
const MAX_PAGES = 10;
/**
 * Entra ID answers that asking again will not change (RFC 6749 §5.2 error codes; AADSTS codes from
 * learn.microsoft.com/entra/identity-platform/reference-error-codes): a wrong or expired secret, an app or
 * tenant Entra does not know.
 */
const ENTRA_REFUSALS = /\b(invalid_client|unauthorized_client|invalid_grant|AADSTS(?:7000215|7000222|700016|90002|700024))\b/;
/** How long canLook's answer for a conversation is kept, in ms. */
const LOOK_TTL_MS = 3600_000;
/** A Graph request gets this long, in ms. */
const TIMEOUT_MS = 15_000;

const GraphMessage = z.looseObject({
  id: z.string(),
  createdDateTime: z.string().nullish(),
  from: z.looseObject({ application: z.looseObject({ id: z.string().optional() }).nullish() }).nullish(),
  attachments: z.array(z.looseObject({ contentType: z.string().nullish(), content: z.string().nullish() })).nullish(),
});
const GraphPage = z.looseObject({ value: z.array(z.unknown()), '@odata.nextLink': z.string().optional() });
const GraphError = z.looseObject({ error: z.looseObject({ code: z.string().optional() }) });

/** What the lookup needs of the Teams runtime. */
export interface GraphLookupDeps {
  identity: MicrosoftIdentity;
  /** Default {@link GRAPH_URL}; tests point it at a local fake. */
  graphUrl?: string;
  logger: Logger;
  conversation(conversationId: string): Promise<StoredConversation | undefined>;
  /** The team's Microsoft 365 group id (stored, or asked of the Bot Connector); undefined when unknown. */
  teamGroupId(conversation: StoredConversation): Promise<string | undefined>;
}

/** True when some object in `node` (a parsed Adaptive Card) has `id === marker`. */
function hasElementId(node: unknown, marker: string): boolean {
  if (Array.isArray(node)) return node.some((n) => hasElementId(n, marker));
  if (!node || typeof node !== 'object') return false;
  if ((node as { id?: unknown }).id === marker) return true;
  return Object.values(node).some((v) => typeof v === 'object' && hasElementId(v, marker));
}

function carriesMarker(message: z.infer<typeof GraphMessage>, marker: string): boolean {
  for (const a of message.attachments ?? []) {
    if (a.contentType !== ADAPTIVE_CARD || !a.content) continue;
    try {
      if (hasElementId(JSON.parse(a.content), marker)) return true;
    } catch {
      // Not JSON: not one of our cards.
      continue;
    }
  }
  return false;
}

/** A Graph failure that may pass: the scheduler asks again later. */
class GraphUnavailableError extends Error {
  constructor(
    readonly status: number,
    readonly code?: string,
  ) {
    super(`microsoft graph answered ${status}${code ? ` (${code})` : ''}`);
    this.name = 'GraphUnavailableError';
  }
}

/** A failed Graph or token request: `unknown` (asking again will not help) or thrown (it may pass). */
type Refusal = { unknown: string; log: { msg: string; fields: Record<string, unknown> } };

const isRefusal = (x: object): x is Refusal => typeof (x as Partial<Refusal>).unknown === 'string' && typeof (x as Partial<Refusal>).log === 'object';

/** What a conversation's lookup starts from, or why there is none. */
type Opened = { url: string; bearer: string; kind: 'channel' | 'groupChat' } | Refusal;

/**
 * The Teams digest lookup over Graph: `findDigest` (the scheduler's reconciliation) and `canLook` (whether
 * a digest post may be sent once, never resent: see platform.ts).
 */
export function graphDigestLookup(deps: GraphLookupDeps): {
  findDigest(conversationId: string, digest: { rolloutId: string; slot: string }, since: Date): Promise<DigestLookup>;
  canLook(conversationId: string): Promise<boolean>;
} {
  const graphUrl = (deps.graphUrl ?? GRAPH_URL).replace(/\/+$/, '');
  const { logger, identity } = deps;
  /** canLook's answers per conversation, until the time stored beside them. */
  const looks = new Map<string, { ok: boolean; until: number }>();

  async function token(tenantId: string): Promise<string | Refusal> {
    try {
      return await identity.token(GRAPH_RESOURCE, tenantId);
    } catch (err) {
      // @azure/identity wraps MSAL's answer; Entra ID's OAuth error code says whether asking again can help.
      const refused = ENTRA_REFUSALS.exec((err as Error).message ?? '')?.[0];
      if (!refused) throw err;
      return {
        unknown: 'credentials_refused',
        log: {
          msg: 'Microsoft Entra ID refused the app a Graph token; check MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD (expired?) and that the app is consented in this tenant',
          fields: { tenantId, code: refused, err },
        },
      };
    }
  }

  /** The first page's URL and a token, for a channel (delta since `since`) or a group chat (newest first). */
  async function open(conversationId: string, since: Date, top: number): Promise<Opened> {
    const c = await deps.conversation(conversationId);
    const tenantId = c?.tenantId ?? c?.reference.conversation.tenantId;
    if (!c || c.kind === 'personal' || !tenantId) {
      return {
        unknown: c ? (tenantId ? 'personal_chat' : 'tenant_unknown') : 'conversation_unknown',
        log: { msg: 'Graph can only read a team channel or a group chat bwprep knows the tenant of', fields: { kind: c?.kind } },
      };
    }
    let url: string;
    if (c.kind === 'channel') {
      const group = await deps.teamGroupId(c);
      if (!group) return { unknown: 'team_unknown', log: { msg: 'the team’s Microsoft 365 group id is unknown', fields: {} } };
      const filter = encodeURIComponent(`lastModifiedDateTime gt ${since.toISOString()}`);
      url = `${graphUrl}/teams/${encodeURIComponent(group)}/channels/${encodeURIComponent(c.reference.conversation.id)}/messages/delta?$filter=${filter}&$top=${top}`;
    } else {
      // Newest first by creation: a reaction or an edit changes lastModifiedDateTime, which would move a
      // message between pages while they are read (chat-list-messages: createdDateTime desc is supported).
      url = `${graphUrl}/chats/${encodeURIComponent(c.reference.conversation.id)}/messages?$top=${top}&$orderby=${encodeURIComponent('createdDateTime desc')}`;
    }
    const bearer = await token(tenantId);
    if (typeof bearer !== 'string') return bearer;
    return { url, bearer, kind: c.kind };
  }

  /** One page, or why not (a refusal), or a thrown GraphUnavailableError when asking again may help. */
  async function page(url: string, bearer: string, kind: 'channel' | 'groupChat'): Promise<z.infer<typeof GraphPage> | Refusal> {
    const res = await request(url, {
      headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' },
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.statusCode === 200) {
      const body = GraphPage.safeParse(json);
      if (!body.success) throw new GraphUnavailableError(res.statusCode, 'unreadable_page');
      return body.data;
    }
    const code = GraphError.safeParse(json).data?.error.code;
    const status = res.statusCode;
    if (status === 403) {
      return {
        unknown: 'consent_missing',
        log: {
          msg: 'Graph refused to list the messages: no resource-specific consent here. Update the bwprep app in this team or chat to the current package so its owner grants the permission, or, if the tenant does not let owners consent, ask a Teams admin to allow it',
          fields: { status, code, permission: kind === 'channel' ? 'ChannelMessage.Read.Group' : 'ChatMessage.Read.Chat' },
        },
      };
    }
    if (status === 401) {
      return {
        unknown: 'token_refused',
        log: { msg: 'Graph refused the app’s token; check that MICROSOFT_APP_ID is the bot’s Entra app in the global cloud', fields: { status, code } },
      };
    }
    if (status === 404) return { unknown: 'not_found', log: { msg: 'Graph does not know this team, channel or chat', fields: { status, code } } };
    // 408, 429 and 5xx may pass (the scheduler asks again after its back-off); another 4xx will not.
    if (status === 408 || status === 429 || status >= 500) throw new GraphUnavailableError(status, code);
    return { unknown: `graph_${status}`, log: { msg: 'Graph refused the request', fields: { status, code } } };
  }

  async function findDigest(conversationId: string, digest: { rolloutId: string; slot: string }, since: Date): Promise<DigestLookup> {
    const where = { conversation: conversationId, rolloutId: digest.rolloutId, slot: digest.slot };
    const unknown = (r: Refusal): DigestLookup => {
      // What cannot be read now is no place for a post sent once (canLook), until asked again.
      looks.set(conversationId, { ok: false, until: Date.now() + LOOK_TTL_MS });
      logger.warn({ ...where, ...r.log.fields }, `cannot tell whether a Teams digest was posted: ${r.log.msg}`);
      return { status: 'unknown', reason: r.unknown };
    };
    const start = await open(conversationId, since, PAGE);
    if (isRefusal(start)) return unknown(start);
    const marker = digestMarker(digest.rolloutId, digest.slot);
    let url = start.url;
    for (let n = 0; n < MAX_PAGES; n++) {
      const body = await page(url, start.bearer, start.kind);
      if (isRefusal(body)) return unknown(body);
      let older = false;
      for (const raw of body.value) {
        const m = GraphMessage.safeParse(raw);
        if (!m.success) continue;
        // A chat lists every message newest first: past `since`, nothing older can be the digest.
        if (m.data.createdDateTime && Date.parse(m.data.createdDateTime) < since.getTime()) older = true;
        if (m.data.from?.application?.id !== identity.appId || !carriesMarker(m.data, marker)) continue;
        const ref: MessageRef = { platform: 'teams', channel: conversationId, ts: m.data.id };
        return { status: 'found', digest: { ref } };
      }
      const next = body['@odata.nextLink'];
      if (!next || (start.kind === 'groupChat' && older)) return { status: 'absent' };
      // Follow Graph's link on the configured origin only: a page never sends the token elsewhere.
      if (!next.startsWith(`${graphUrl}/`)) throw new GraphUnavailableError(200, 'foreign_next_link');
      url = next;
    }
    logger.warn({ ...where, pages: MAX_PAGES }, 'cannot tell whether a Teams digest was posted: too many messages since its slot');
    return { status: 'unknown', reason: 'too_many_messages' };
  }

  /**
   * Whether Graph can read this conversation now: one message of one page, answered 200. Remembered for an
   * hour (a consent granted or revoked counts within the hour; a lookup that cannot read it says no at
   * once). Never throws: a failure is a no.
   */
  async function canLook(conversationId: string): Promise<boolean> {
    const known = looks.get(conversationId);
    if (known && known.until > Date.now()) return known.ok;
    let ok = false;
    try {
      const start = await open(conversationId, new Date(), 1);
      ok = !isRefusal(start) && !isRefusal(await page(start.url, start.bearer, start.kind));
    } catch (err) {
      logger.debug({ err, conversation: conversationId }, 'teams: could not ask Graph whether it can read this conversation');
    }
    looks.set(conversationId, { ok, until: Date.now() + LOOK_TTL_MS });
    return ok;
  }

  return { findDigest, canLook };
}
