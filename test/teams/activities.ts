/**
 * Builders for the Bot Framework activities Teams POSTs to `/api/messages` (message, invoke
 * `adaptiveCard/action`, conversationUpdate, installationUpdate), shaped as Teams sends them
 * (shared/reference/wire-formats.md), and a sender that delivers one to a running bwprep.
 *
 *   const a = teamsMessage({ serviceUrl: connector.serviceUrl, text: '<at>bwprep</at> help', mention: true });
 *   const res = await postActivity(app.url, a);                       // no Authorization header
 *   const res2 = await postActivity(app.url, a, { token: '…' });      // Authorization: Bearer …
 *
 * Every id and tenant is obviously fake.
 */
import { randomUUID } from 'node:crypto';
import { reportToSecretGuard } from '../helpers/secret-guard';

export const FAKE_TENANT = '00000000-0000-4000-8000-00000000face';
export const OTHER_TENANT = '00000000-0000-4000-8000-0000000000ff';
export const FAKE_BOT = { id: '28:00000000-0000-4000-8000-0000000000b0', name: 'bwprep' };
export const FAKE_TEAM_ID = '19:fake-team@thread.tacv2';
export const FAKE_CHANNEL = '19:fake-channel@thread.tacv2';
export const FAKE_GROUP_CHAT = '19:fake-group@thread.v2';

export interface FakeTeamsUser {
  id: string;
  name: string;
  aadObjectId: string;
}

export const BOB: FakeTeamsUser = { id: '29:fake-bob', name: 'Bob Fake', aadObjectId: '00000000-0000-4000-8000-000000000b0b' };
export const ANNA: FakeTeamsUser = { id: '29:fake-anna', name: 'Anna Fake', aadObjectId: '00000000-0000-4000-8000-00000000a11a' };
export const GUEST: FakeTeamsUser = { id: '29:fake-guest', name: 'Gus Guest', aadObjectId: '00000000-0000-4000-8000-00000000905e' };

export type Scope = 'channel' | 'groupChat' | 'personal';

export interface ActivityBase {
  serviceUrl: string;
  scope?: Scope;
  from?: FakeTeamsUser;
  /** Conversation id; defaults per scope (the personal one is per user). */
  conversationId?: string;
  /** Teams locale of the sender (`activity.locale` and clientInfo), e.g. `nl-NL`. */
  locale?: string;
  /** IANA time zone in clientInfo and localTimezone. */
  timezone?: string;
  tenantId?: string;
  /** The team's Microsoft 365 group id in channelData.team, as Teams sends it on install and team events. */
  aadGroupId?: string;
}

export type Activity = Record<string, unknown> & { type: string; id: string; serviceUrl: string; conversation: { id: string } };

function conversation(b: ActivityBase): { id: string; conversationType: string; tenantId: string; isGroup?: boolean } {
  const scope = b.scope ?? 'channel';
  const tenantId = b.tenantId ?? FAKE_TENANT;
  if (scope === 'personal') return { id: b.conversationId ?? `a:fake-personal-${(b.from ?? BOB).aadObjectId}`, conversationType: 'personal', tenantId };
  if (scope === 'groupChat') return { id: b.conversationId ?? FAKE_GROUP_CHAT, conversationType: 'groupChat', tenantId, isGroup: true };
  return { id: b.conversationId ?? `${FAKE_CHANNEL};messageid=1700000000000`, conversationType: 'channel', tenantId, isGroup: true };
}

function base(b: ActivityBase, type: string): Activity {
  const from = b.from ?? BOB;
  const scope = b.scope ?? 'channel';
  const tenantId = b.tenantId ?? FAKE_TENANT;
  return {
    type,
    id: `fake-incoming-${randomUUID()}`,
    timestamp: new Date().toISOString(),
    serviceUrl: b.serviceUrl,
    channelId: 'msteams',
    from: { id: from.id, name: from.name, aadObjectId: from.aadObjectId },
    recipient: { ...FAKE_BOT },
    conversation: conversation(b),
    ...(b.locale ? { locale: b.locale } : {}),
    ...(b.timezone ? { localTimezone: b.timezone } : {}),
    channelData: {
      tenant: { id: tenantId },
      ...(scope === 'channel'
        ? {
            team: { id: FAKE_TEAM_ID, name: 'Fake Team', ...(b.aadGroupId ? { aadGroupId: b.aadGroupId } : {}) },
            channel: { id: FAKE_CHANNEL, name: 'rollout' },
          }
        : {}),
    },
  };
}

/** A message. `mention: true` prefixes `<at>bwprep</at> ` and adds the mention entity, as Teams does in channels. */
export function teamsMessage(b: ActivityBase & { text: string; mention?: boolean; mentions?: FakeTeamsUser[] }): Activity {
  const a = base(b, 'message');
  const botTag = `<at>${FAKE_BOT.name}</at>`;
  const entities: Record<string, unknown>[] = [];
  if (b.mention) entities.push({ type: 'mention', text: botTag, mentioned: { ...FAKE_BOT } });
  // Teams' mention entities carry the channel account id and name, not the AAD object id.
  for (const u of b.mentions ?? []) entities.push({ type: 'mention', text: `<at>${u.name}</at>`, mentioned: { id: u.id, name: u.name } });
  entities.push({ type: 'clientInfo', locale: b.locale ?? 'en-US', country: 'NL', platform: 'Web', ...(b.timezone ? { timezone: b.timezone } : {}) });
  const people = (b.mentions ?? []).map((u) => `<at>${u.name}</at>`).join(' ');
  const text = [b.mention ? botTag : '', b.text, people].filter(Boolean).join(' ');
  return { ...a, text, textFormat: 'plain', entities };
}

/** An Action.Execute press on a card: invoke `adaptiveCard/action` replying to the card's activity. */
export function teamsCardAction(
  b: ActivityBase & { verb: string; data?: Record<string, unknown>; replyToId: string; trigger?: 'manual' | 'automatic' },
): Activity {
  return {
    ...base(b, 'invoke'),
    name: 'adaptiveCard/action',
    replyToId: b.replyToId,
    value: { action: { type: 'Action.Execute', verb: b.verb, data: b.data ?? {} }, trigger: b.trigger ?? 'manual' },
  };
}

/** The bot (or someone else) added to / removed from a team or chat. */
export function teamsConversationUpdate(b: ActivityBase & { added?: { id: string }[]; removed?: { id: string }[]; eventType?: string }): Activity {
  const a = base(b, 'conversationUpdate');
  return {
    ...a,
    ...(b.added ? { membersAdded: b.added } : {}),
    ...(b.removed ? { membersRemoved: b.removed } : {}),
    channelData: { ...(a.channelData as object), ...(b.eventType ? { eventType: b.eventType } : {}) },
  };
}

/** The app installed (`add`) or uninstalled (`remove`) in a personal chat, group chat or team. */
export function teamsInstallationUpdate(b: ActivityBase & { action: 'add' | 'remove' }): Activity {
  return { ...base(b, 'installationUpdate'), action: b.action };
}

export interface PostResult {
  status: number;
  body: unknown;
}

/** POSTs an activity to `<appUrl>/api/messages` as the Bot Framework channel does. */
export async function postActivity(appUrl: string, activity: Activity, opts: { token?: string } = {}): Promise<PostResult> {
  const res = await fetch(`${appUrl}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    body: JSON.stringify(activity),
  });
  const text = await res.text();
  // An invoke's answer (a card, a message only the presser sees, an error) reaches the user: scanned too.
  reportToSecretGuard('teams:http-answer', text);
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* plain text */
  }
  return { status: res.status, body };
}

/** The user's answer to a FileConsentCard: invoke `fileConsent/invoke` (accept carries Teams' upload info). */
export function teamsFileConsent(
  b: ActivityBase & {
    action: 'accept' | 'decline';
    context: unknown;
    replyToId: string;
    uploadInfo?: { name: string; uploadUrl: string; contentUrl: string; uniqueId: string; fileType: string };
  },
): Activity {
  return {
    ...base(b, 'invoke'),
    name: 'fileConsent/invoke',
    replyToId: b.replyToId,
    value: { type: 'fileUpload', action: b.action, context: b.context, ...(b.uploadInfo ? { uploadInfo: b.uploadInfo } : {}) },
  };
}
