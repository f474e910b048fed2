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
 * - a group chat: `GET /chats/{chat-id}/messages?$orderby=lastModifiedDateTime desc&$filter=lastModifiedDateTime gt {since}`
 *   (chat-list-messages).
 * A message is our digest when Graph says our app sent it (`from.application.id` is the bot's app id) and
 * one of its Adaptive Card attachments (`content`: the card's serialized JSON) has an element whose id is
 * the digest's marker (render.ts `digestMarker`).
 *
 * Answers: `found` (with the message id), `absent` (every page read, no such message), `unknown` (the
 * lookup cannot be made: no consent yet, a 1:1 chat, credentials refused, too many messages since the
 * slot; logged as a warning with what to do). A failure that may pass (429, 5xx, no connection) throws, and
 * the scheduler asks again after its back-off.
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
/** A Graph request gets this long, in ms. */
const TIMEOUT_MS = 15_000;

const GraphMessage = z.looseObject({
  id: z.string(),
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

/** Builds the Teams `findDigest`. */
export function graphDigestLookup(deps: GraphLookupDeps) {
  const graphUrl = (deps.graphUrl ?? GRAPH_URL).replace(/\/+$/, '');
  const { logger, identity } = deps;

  async function token(tenantId: string): Promise<string | { unknown: string }> {
    try {
      return await identity.token(GRAPH_RESOURCE, tenantId);
    } catch (err) {
      // @azure/identity wraps MSAL's answer; Entra ID's OAuth error code says whether asking again can help.
      const refused = ENTRA_REFUSALS.exec((err as Error).message ?? '')?.[0];
      if (refused) {
        logger.warn(
          { tenantId, code: refused, err },
          'cannot tell whether a Teams digest was posted: Microsoft Entra ID refused the app a Graph token; check MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and that the app is consented in this tenant',
        );
        return { unknown: 'credentials_refused' };
      }
      throw err;
    }
  }

  return async function findDigest(conversationId: string, digest: { rolloutId: string; slot: string }, since: Date): Promise<DigestLookup> {
    const where = { conversation: conversationId, rolloutId: digest.rolloutId, slot: digest.slot };
    const c = await deps.conversation(conversationId);
    const tenantId = c?.tenantId ?? c?.reference.conversation.tenantId;
    if (!c || c.kind === 'personal' || !tenantId) {
      logger.warn(
        { ...where, kind: c?.kind },
        'cannot tell whether a Teams digest was posted: Graph can only read a team channel or a group chat bwprep knows the tenant of',
      );
      return { status: 'unknown', reason: c ? (tenantId ? 'personal_chat' : 'tenant_unknown') : 'conversation_unknown' };
    }
    const filter = encodeURIComponent(`lastModifiedDateTime gt ${since.toISOString()}`);
    let url: string;
    if (c.kind === 'channel') {
      const group = await deps.teamGroupId(c);
      if (!group) {
        logger.warn(where, 'cannot tell whether a Teams digest was posted: the team’s Microsoft 365 group id is unknown');
        return { status: 'unknown', reason: 'team_unknown' };
      }
      url = `${graphUrl}/teams/${encodeURIComponent(group)}/channels/${encodeURIComponent(c.reference.conversation.id)}/messages/delta?$filter=${filter}&$top=${PAGE}`;
    } else {
      url = `${graphUrl}/chats/${encodeURIComponent(c.reference.conversation.id)}/messages?$top=${PAGE}&$orderby=${encodeURIComponent('lastModifiedDateTime desc')}&$filter=${filter}`;
    }
    const bearer = await token(tenantId);
    if (typeof bearer !== 'string') return { status: 'unknown', reason: bearer.unknown };
    const marker = digestMarker(digest.rolloutId, digest.slot);

    for (let page = 0; page < MAX_PAGES; page++) {
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
      if (res.statusCode !== 200) {
        const code = GraphError.safeParse(json).data?.error.code;
        if (res.statusCode === 403) {
          logger.warn(
            { ...where, status: res.statusCode, code, permission: c.kind === 'channel' ? 'ChannelMessage.Read.Group' : 'ChatMessage.Read.Chat' },
            'cannot tell whether a Teams digest was posted: Graph refused to list the messages (no resource-specific consent here); update the bwprep app in this team or chat to the current package, so its owner grants the permission',
          );
          return { status: 'unknown', reason: 'consent_missing' };
        }
        if (res.statusCode === 401) {
          logger.warn({ ...where, code }, 'cannot tell whether a Teams digest was posted: Graph refused the app’s token');
          return { status: 'unknown', reason: 'token_refused' };
        }
        if (res.statusCode === 404) {
          logger.warn({ ...where, code }, 'cannot tell whether a Teams digest was posted: Graph does not know this team, channel or chat');
          return { status: 'unknown', reason: 'not_found' };
        }
        throw new GraphUnavailableError(res.statusCode, code);
      }
      const body = GraphPage.safeParse(json);
      if (!body.success) throw new GraphUnavailableError(res.statusCode, 'unreadable_page');
      for (const raw of body.data.value) {
        const m = GraphMessage.safeParse(raw);
        if (!m.success || m.data.from?.application?.id !== identity.appId) continue;
        if (!carriesMarker(m.data, marker)) continue;
        const ref: MessageRef = { platform: 'teams', channel: conversationId, ts: m.data.id };
        return { status: 'found', digest: { ref } };
      }
      const next = body.data['@odata.nextLink'];
      if (!next) return { status: 'absent' };
      // Follow Graph's link on the configured origin only: a page never sends the token elsewhere.
      if (!next.startsWith(`${graphUrl}/`)) throw new GraphUnavailableError(res.statusCode, 'foreign_next_link');
      url = next;
    }
    logger.warn({ ...where, pages: MAX_PAGES }, 'cannot tell whether a Teams digest was posted: too many messages since its slot');
    return { status: 'unknown', reason: 'too_many_messages' };
  };
}
