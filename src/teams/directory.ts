/**
 * What bwprep remembers about Teams conversations and users, in the store's key-value space:
 *
 * - `teams:conversation:<conversationId>` → {@link StoredConversation}: the conversation reference a
 *   proactive send needs (digest, reminders, card updates), saved on install and on every message, and
 *   whether the bot can still post there.
 * - `teams:user:<aadObjectId>` → {@link TeamsUser}: name, locale, time zone and tenant of a user, from
 *   the activities they send (Bot Framework `locale`, `localTimezone`, the `clientInfo` entity) and the
 *   conversation roster; plus their 1:1 conversation with the bot once one exists.
 *
 * Keys use the ids Teams sends, unchanged: conversation ids (`19:…@thread.tacv2`, `a:…`) and AAD
 * object ids (GUIDs) carry no colon-separated parts bwprep would misread.
 */
import type { Locale } from '../core/checklist/model';
import type { KeyValueStore } from '../core/ports';
import { toLocale } from '../i18n';
import { isValidTimeZone } from '../core/time';

/** The fields of a Bot Framework ConversationReference bwprep keeps (botframework-schema ConversationReference). */
export interface ConversationRef {
  serviceUrl: string;
  channelId: string;
  conversation: { id: string; conversationType?: string; tenantId?: string; isGroup?: boolean; name?: string };
  bot: { id: string; name?: string };
  /** The user who last wrote in the conversation (Bot Framework puts it in a reference; bwprep does not rely on it). */
  user?: { id: string; name?: string; aadObjectId?: string };
  locale?: string;
}

export type ConversationKind = 'personal' | 'groupChat' | 'channel';

export interface StoredConversation {
  reference: ConversationRef;
  kind: ConversationKind;
  /** The tenant that installed the app here (channelData.tenant.id / conversation.tenantId). */
  tenantId?: string;
  /** The team's id for a channel conversation (channelData.team.id). */
  teamId?: string;
  /**
   * The team's Microsoft 365 group id (channelData.team.aadGroupId on install and team events, or the Bot
   * Connector's team details): Microsoft Graph names a team by it (graph.ts).
   */
  aadGroupId?: string;
  /** false once the app was removed or the connector answered 403/404 for this conversation. */
  active: boolean;
  inactiveSince?: string;
  inactiveReason?: 'uninstalled' | 'forbidden' | 'not_found' | 'channel_deleted';
  installedAt?: string;
  updatedAt: string;
}

export interface TeamsUser {
  /** The Teams user id in bwprep's owner form, `teams:<aadObjectId>`. */
  key: string;
  aadObjectId: string;
  /** Bot Framework channel account id (`29:…`), needed to open a 1:1 conversation. */
  id: string;
  name?: string;
  /** The user's home tenant: from the roster when known, else the tenant of the conversation they wrote in. */
  tenantId?: string;
  /** Roster role (`user`, `guest`…), when the roster was read. */
  userRole?: string;
  /** Supported bwprep locale from the user's Teams locale, when it maps to one. */
  locale?: Locale;
  /** The raw Teams locale (`nl-NL`). */
  teamsLocale?: string;
  /** IANA time zone from the client (`Europe/Amsterdam`). */
  timezone?: string;
  /** Where to reach the user: the service URL of their last activity. */
  serviceUrl?: string;
  /** The 1:1 conversation with the bot, once one exists (installed personally, or created for a reminder). */
  personalConversationId?: string;
  /** When the roster was last read for this user (ISO time). */
  rosterCheckedAt?: string;
  /** A conversation bwprep shares with the user (where they last wrote or were mentioned): the route to open a 1:1 chat. */
  viaConversationId?: string;
  updatedAt: string;
}

/** At most this many people are offered as static owner choices per conversation. */
const MEMBERS_KEPT = 100;

/**
 * A channel message's conversation id names its thread (`19:…@thread.tacv2;messageid=1700000000000`); the
 * channel itself is the part before `;messageid=`. bwprep keeps one reference per channel (a proactive
 * post to it starts a new thread), so ids are stored and looked up by their base.
 */
export const baseConversationId = (conversationId: string) => conversationId.split(';messageid=')[0] as string;
const conversationKey = (conversationId: string) => `teams:conversation:${baseConversationId(conversationId)}`;
const userKey = (aadObjectId: string) => `teams:user:${aadObjectId}`;

/** `teams:<aadObjectId>`: how bwprep names a Teams user as an owner or admin (DESIGN §4). */
export const teamsUserKey = (aadObjectId: string) => `teams:${aadObjectId}`;

function conversationKind(conversationType: string | undefined): ConversationKind {
  if (conversationType === 'personal') return 'personal';
  if (conversationType === 'groupChat') return 'groupChat';
  return 'channel';
}

export class TeamsConversations {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly now: () => Date,
  ) {}

  get(conversationId: string): Promise<StoredConversation | undefined> {
    return this.kv.get<StoredConversation>(conversationKey(conversationId));
  }

  /** Saves the reference from an incoming activity: the conversation is (again) active. */
  async remember(
    reference: ConversationRef,
    extra: { tenantId?: string; teamId?: string; aadGroupId?: string; installed?: boolean },
  ): Promise<StoredConversation> {
    const id = baseConversationId(reference.conversation.id);
    reference = { ...reference, conversation: { ...reference.conversation, id } };
    const prev = await this.get(id);
    // Every message carries the reference; write only when something changed (or it is an install).
    if (
      prev?.active &&
      !extra.installed &&
      JSON.stringify(prev.reference) === JSON.stringify(reference) &&
      (extra.tenantId ?? prev.tenantId) === prev.tenantId &&
      (extra.teamId ?? prev.teamId) === prev.teamId &&
      (extra.aadGroupId ?? prev.aadGroupId) === prev.aadGroupId
    )
      return prev;
    const at = this.now().toISOString();
    const next: StoredConversation = {
      reference,
      kind: conversationKind(reference.conversation.conversationType),
      ...((extra.tenantId ?? prev?.tenantId) ? { tenantId: extra.tenantId ?? prev?.tenantId } : {}),
      ...((extra.teamId ?? prev?.teamId) ? { teamId: extra.teamId ?? prev?.teamId } : {}),
      ...((extra.aadGroupId ?? prev?.aadGroupId) ? { aadGroupId: extra.aadGroupId ?? prev?.aadGroupId } : {}),
      active: true,
      ...(extra.installed ? { installedAt: at } : prev?.installedAt ? { installedAt: prev.installedAt } : {}),
      updatedAt: at,
    };
    await this.kv.set(conversationKey(id), next);
    return next;
  }

  /** Records the team's Microsoft 365 group id learnt from the Bot Connector. Unknown conversations are ignored. */
  async setTeamGroupId(conversationId: string, aadGroupId: string): Promise<void> {
    const prev = await this.get(conversationId);
    if (!prev || prev.aadGroupId === aadGroupId) return;
    await this.kv.set(conversationKey(conversationId), { ...prev, aadGroupId, updatedAt: this.now().toISOString() });
  }

  /** Marks a conversation inactive (app removed, bot blocked); sends to it stop. Unknown conversations are ignored. */
  async markInactive(conversationId: string, reason: NonNullable<StoredConversation['inactiveReason']>): Promise<boolean> {
    const prev = await this.get(conversationId);
    if (!prev) return false;
    if (!prev.active && prev.inactiveReason === reason) return false;
    const at = this.now().toISOString();
    await this.kv.set(conversationKey(conversationId), { ...prev, active: false, inactiveSince: at, inactiveReason: reason, updatedAt: at });
    return true;
  }
}

/** What an activity tells about its sender (fields of a Bot Framework activity). */
export interface SenderFacts {
  id: string;
  aadObjectId: string;
  name?: string;
  /** `activity.locale`, or the `clientInfo` entity's `locale`. */
  locale?: string;
  /** `activity.localTimezone`, or the `clientInfo` entity's `timezone`. */
  timezone?: string;
  conversationTenantId?: string;
  serviceUrl: string;
  /** The conversation the activity came from (base id). */
  conversationId?: string;
  personalConversationId?: string;
}

export class TeamsUserDirectory {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly now: () => Date,
  ) {}

  get(aadObjectId: string): Promise<TeamsUser | undefined> {
    return this.kv.get<TeamsUser>(userKey(aadObjectId));
  }

  /** Records what the latest activity says about its sender; earlier facts stay when an activity lacks them. */
  async observe(f: SenderFacts): Promise<TeamsUser> {
    const prev = await this.get(f.aadObjectId);
    const locale = toLocale(f.locale);
    const tz = f.timezone && isValidTimeZone(f.timezone) ? f.timezone : undefined;
    const next: TeamsUser = {
      ...prev,
      key: teamsUserKey(f.aadObjectId),
      aadObjectId: f.aadObjectId,
      id: f.id,
      ...(f.name ? { name: f.name } : {}),
      ...(prev?.rosterCheckedAt ? {} : f.conversationTenantId ? { tenantId: f.conversationTenantId } : {}),
      ...(f.locale ? { teamsLocale: f.locale } : {}),
      ...(locale ? { locale } : {}),
      ...(tz ? { timezone: tz } : {}),
      serviceUrl: f.serviceUrl,
      ...(f.personalConversationId ? { personalConversationId: f.personalConversationId } : {}),
      ...(f.conversationId && f.conversationId !== f.personalConversationId ? { viaConversationId: baseConversationId(f.conversationId) } : {}),
      updatedAt: this.now().toISOString(),
    };
    await this.kv.set(userKey(f.aadObjectId), next);
    if (f.conversationId) await this.addMember(f.conversationId, f.aadObjectId);
    return next;
  }

  /** Remembers that a person is in a conversation (the owner picker's static choices). */
  async addMember(conversationId: string, aadObjectId: string): Promise<void> {
    const key = `teams:members:${baseConversationId(conversationId)}`;
    const list = (await this.kv.get<string[]>(key)) ?? [];
    if (list.includes(aadObjectId)) return;
    await this.kv.set(key, [...list, aadObjectId].slice(-MEMBERS_KEPT));
  }

  /** The people bwprep has seen in a conversation (wrote there or were mentioned), with what it knows of them. */
  async known(conversationId: string): Promise<TeamsUser[]> {
    const ids = (await this.kv.get<string[]>(`teams:members:${baseConversationId(conversationId)}`)) ?? [];
    const users = await Promise.all(ids.map((id) => this.get(id)));
    return users.filter((u): u is TeamsUser => Boolean(u));
  }

  /** Records the roster's view of a user: their home tenant and role (TeamsInfo.getMember). */
  async recordRoster(aadObjectId: string, roster: { tenantId?: string; userRole?: string }): Promise<void> {
    const prev = await this.get(aadObjectId);
    if (!prev) return;
    await this.kv.set(userKey(aadObjectId), {
      ...prev,
      ...(roster.tenantId ? { tenantId: roster.tenantId } : {}),
      ...(roster.userRole ? { userRole: roster.userRole } : {}),
      rosterCheckedAt: this.now().toISOString(),
    });
  }

  /**
   * Records a conversation member bwprep learnt about from the roster (an @mentioned owner who never wrote
   * to the bot), so a reminder can reach them later. Facts from their own activities are kept.
   */
  async recordMember(m: { id: string; aadObjectId: string; name?: string; tenantId?: string; userRole?: string; serviceUrl: string }): Promise<void> {
    const prev = await this.get(m.aadObjectId);
    const at = this.now().toISOString();
    await this.kv.set(userKey(m.aadObjectId), {
      ...prev,
      key: teamsUserKey(m.aadObjectId),
      aadObjectId: m.aadObjectId,
      id: m.id,
      ...(m.name && !prev?.name ? { name: m.name } : {}),
      ...(m.tenantId ? { tenantId: m.tenantId } : {}),
      ...(m.userRole ? { userRole: m.userRole } : {}),
      serviceUrl: prev?.serviceUrl ?? m.serviceUrl,
      rosterCheckedAt: at,
      updatedAt: at,
    } satisfies TeamsUser);
  }

  async setPersonalConversation(aadObjectId: string, conversationId: string): Promise<void> {
    const prev = await this.get(aadObjectId);
    if (!prev) return;
    await this.kv.set(userKey(aadObjectId), { ...prev, personalConversationId: conversationId, updatedAt: this.now().toISOString() });
  }
}

/**
 * Whether Teams says a user is from another organization than the one that installed the app here: a
 * member of another tenant (a shared channel, a guest account's home tenant as the roster gives it) or a
 * roster role `guest`. Unknown tenants count as not external (a roster that could not be read must not lock
 * the installing organization's people out). bwprep grants no admin rights for any Teams role; this only
 * keeps external people from starting a rollout (its creator becomes its admin).
 */
export function isExternalTeamsUser(user: Pick<TeamsUser, 'tenantId' | 'userRole'>, installTenantId: string | undefined): boolean {
  if (user.userRole?.toLowerCase() === 'guest') return true;
  return Boolean(installTenantId && user.tenantId && user.tenantId !== installTenantId);
}
