/**
 * The Teams activity handler: remembers conversations and users from every activity, and answers
 * commands typed to the bot (`@bwprep help` in a channel or group chat, `help` in a personal chat).
 *
 * Interim: commands other than `help` are answered with a "not in Teams yet" notice; the application
 * layer (src/interactions/) will take over command handling, and this file then only translates.
 */
import {
  type Activity,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type ConversationReference,
  TeamsActivityHandler,
  TeamsInfo,
  TurnContext,
} from 'botbuilder';
import type { Locale } from '../core/checklist/model';
import { isBwprepError } from '../core/errors';
import { parseCommand } from '../commands/parse';
import { t, toLocale } from '../i18n';
import type { Logger } from '../logging/logger';
import { buildHelpView } from '../views/text';
import { type ConversationRef, type TeamsConversations, type TeamsUserDirectory, teamsUserKey } from './directory';
import { renderHelp, renderNotice } from './render';

export interface TeamsBotDeps {
  conversationStore: TeamsConversations;
  directory: TeamsUserDirectory;
  logger: Logger;
  /** Language when a user's Teams locale is not one bwprep speaks. */
  defaultLocale: Locale;
  /** How long a roster lookup of a user (home tenant, role) stays fresh, in ms. Default one day. */
  rosterMaxAgeMs?: number;
  now: () => Date;
}

/** The `clientInfo` entity Teams adds to user activities (msteams-docs#745). */
interface ClientInfo {
  type: 'clientInfo';
  locale?: string;
  timezone?: string;
}

function clientInfo(activity: Partial<Activity>): ClientInfo | undefined {
  return (activity.entities ?? []).find((e) => e.type === 'clientInfo') as ClientInfo | undefined;
}

/** The Teams locale of the sender: `activity.locale`, else the clientInfo entity's. */
export function activityLocale(activity: Partial<Activity>): string | undefined {
  return activity.locale || clientInfo(activity)?.locale || undefined;
}

/** The IANA time zone of the sender: `activity.localTimezone`, else the clientInfo entity's (absent in some Copilot contexts). */
export function activityTimezone(activity: Partial<Activity>): string | undefined {
  return activity.localTimezone || clientInfo(activity)?.timezone || undefined;
}

/** The reader's language for replies: their Teams locale when bwprep speaks it, else `fallback`. */
export function replyLocale(activity: Partial<Activity>, fallback: Locale): Locale {
  return toLocale(activityLocale(activity)) ?? fallback;
}

/** The installing tenant: channelData.tenant.id, else conversation.tenantId. */
function activityTenant(activity: Partial<Activity>): string | undefined {
  const cd = activity.channelData as { tenant?: { id?: string } } | undefined;
  return cd?.tenant?.id || activity.conversation?.tenantId || undefined;
}

function activityTeam(activity: Partial<Activity>): string | undefined {
  const cd = activity.channelData as { team?: { id?: string } } | undefined;
  return cd?.team?.id || undefined;
}

function toRef(r: Partial<ConversationReference>): ConversationRef {
  const conv = r.conversation!;
  return {
    serviceUrl: r.serviceUrl!,
    channelId: r.channelId ?? 'msteams',
    conversation: {
      id: conv.id,
      ...(conv.conversationType ? { conversationType: conv.conversationType } : {}),
      ...(conv.tenantId ? { tenantId: conv.tenantId } : {}),
      ...(conv.isGroup !== undefined ? { isGroup: conv.isGroup } : {}),
      ...(conv.name ? { name: conv.name } : {}),
    },
    bot: { id: r.bot!.id, ...(r.bot?.name ? { name: r.bot.name } : {}) },
    ...(r.user ? { user: { id: r.user.id, ...(r.user.name ? { name: r.user.name } : {}), ...(r.user.aadObjectId ? { aadObjectId: r.user.aadObjectId } : {}) } } : {}),
    ...(r.locale ? { locale: r.locale } : {}),
  };
}

export class BwprepTeamsBot extends TeamsActivityHandler {
  constructor(private readonly deps: TeamsBotDeps) {
    super();
    this.onMessage(async (ctx, next) => {
      await this.remember(ctx, false);
      await this.answer(ctx);
      await next();
    });
    this.onConversationUpdate(async (ctx, next) => {
      const a = ctx.activity;
      const botId = a.recipient?.id;
      if (a.membersAdded?.some((m) => m.id === botId)) await this.remember(ctx, true);
      if (a.membersRemoved?.some((m) => m.id === botId)) await this.forget(ctx);
      const cd = a.channelData as { eventType?: string; channel?: { id?: string } } | undefined;
      if (cd?.eventType === 'channelDeleted' && cd.channel?.id && (await this.deps.conversationStore.markInactive(cd.channel.id, 'channel_deleted')))
        this.deps.logger.info({ conversation: cd.channel.id }, 'teams channel deleted; marked inactive');
      await next();
    });
    this.onInstallationUpdateAdd(async (ctx, next) => {
      await this.remember(ctx, true);
      await ctx.sendActivity({ type: 'message', text: t(this.localeOf(ctx.activity), 'teams.welcome'), textFormat: 'markdown' });
      await next();
    });
    this.onInstallationUpdateRemove(async (ctx, next) => {
      await this.forget(ctx);
      await next();
    });
  }

  /** The reader's language for replies: their Teams locale when bwprep speaks it, else the default. */
  private localeOf(activity: Partial<Activity>): Locale {
    return replyLocale(activity, this.deps.defaultLocale);
  }

  private async remember(ctx: TurnContext, installed: boolean): Promise<void> {
    const a = ctx.activity;
    const reference = toRef(TurnContext.getConversationReference(a));
    const tenantId = activityTenant(a);
    const teamId = activityTeam(a);
    await this.deps.conversationStore.remember(reference, { ...(tenantId ? { tenantId } : {}), ...(teamId ? { teamId } : {}), installed });
    const from = a.from;
    // Only people have an AAD object id; other bots and the channel itself do not.
    if (!from?.aadObjectId || from.id === a.recipient?.id) return;
    const locale = activityLocale(a);
    const timezone = activityTimezone(a);
    const user = await this.deps.directory.observe({
      id: from.id,
      aadObjectId: from.aadObjectId,
      ...(from.name ? { name: from.name } : {}),
      ...(locale ? { locale } : {}),
      ...(timezone ? { timezone } : {}),
      ...(tenantId ? { conversationTenantId: tenantId } : {}),
      serviceUrl: a.serviceUrl,
      ...(a.conversation?.conversationType === 'personal' ? { personalConversationId: a.conversation.id } : {}),
    });
    const maxAge = this.deps.rosterMaxAgeMs ?? 24 * 3600_000;
    const fresh = user.rosterCheckedAt && this.deps.now().getTime() - Date.parse(user.rosterCheckedAt) < maxAge;
    if (fresh || a.type !== 'message') return;
    // The roster knows the user's home tenant and role (guests, shared channels); one lookup a day.
    try {
      const member = await TeamsInfo.getMember(ctx, from.id);
      await this.deps.directory.recordRoster(from.aadObjectId, {
        ...(member.tenantId ? { tenantId: member.tenantId } : {}),
        ...(member.userRole ? { userRole: member.userRole } : {}),
      });
    } catch (err) {
      this.deps.logger.debug({ err, conversation: a.conversation?.id }, 'teams roster lookup failed; keeping the conversation tenant');
    }
  }

  private async forget(ctx: TurnContext): Promise<void> {
    const id = ctx.activity.conversation?.id;
    if (!id) return;
    if (await this.deps.conversationStore.markInactive(id, 'uninstalled')) this.deps.logger.info({ conversation: id }, 'teams app removed from a conversation; marked inactive');
  }

  /**
   * A card button (Action.Execute). Interim: no card is posted yet, so any verb is answered with a
   * message only the presser sees (Teams shows an invoke response's text to that user).
   */
  protected override async onAdaptiveCardInvoke(ctx: TurnContext, value: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    await this.remember(ctx, false);
    const text = t(this.localeOf(ctx.activity), 'teams.not_yet', { command: value.action?.verb ?? '' });
    return { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: text as unknown as Record<string, unknown> };
  }

  /**
   * The people mentioned in a message (besides the bot), as `<at>Name</at>` token → `teams:<aadObjectId>`.
   * Teams' mention entities carry the channel account id (`29:…`); the AAD object id comes from the
   * entity when present, else from bwprep's directory, else from the conversation roster.
   */
  private async mentionMap(ctx: TurnContext): Promise<Map<string, string>> {
    const activity = ctx.activity;
    const map = new Map<string, string>();
    for (const m of TurnContext.getMentions(activity)) {
      const mentioned = m.mentioned as { id?: string; aadObjectId?: string } | undefined;
      if (!m.text || !mentioned?.id || mentioned.id === activity.recipient?.id) continue;
      let aad = mentioned.aadObjectId;
      if (!aad) {
        try {
          const member = await TeamsInfo.getMember(ctx, mentioned.id);
          aad = member.aadObjectId;
          // Remember the person, so a reminder can reach an owner who never wrote to bwprep.
          if (aad)
            await this.deps.directory.recordMember({
              id: member.id,
              aadObjectId: aad,
              ...(member.name ? { name: member.name } : {}),
              ...(member.tenantId ? { tenantId: member.tenantId } : {}),
              ...(member.userRole ? { userRole: member.userRole } : {}),
              serviceUrl: activity.serviceUrl,
            });
        } catch (err) {
          this.deps.logger.debug({ err, conversation: activity.conversation?.id }, 'teams mention not in the roster');
        }
      }
      if (aad) map.set(m.text.trim(), teamsUserKey(aad));
    }
    return map;
  }

  private async answer(ctx: TurnContext): Promise<void> {
    const a = ctx.activity;
    const locale = this.localeOf(a);
    const personal = a.conversation?.conversationType === 'personal';
    // In a channel or group chat the text starts with the bot's mention: `<at>bwprep</at> help`.
    const text = (TurnContext.removeRecipientMention(a) ?? a.text ?? '').replace(/&nbsp;/g, ' ').trim();
    // A card button or an empty message (an attachment only) is not a command.
    if (!text && a.value !== undefined) return;
    const mentions = await this.mentionMap(ctx);
    try {
      const cmd = parseCommand(text, { resolveUser: (token) => mentions.get(token.trim()) });
      if (cmd.name === 'help') {
        await ctx.sendActivity(renderHelp(buildHelpView(locale), { personal }));
        return;
      }
      await ctx.sendActivity(renderNotice(t(locale, 'teams.not_yet', { command: cmd.name })));
    } catch (err) {
      if (!isBwprepError(err)) throw err;
      const usage = err.usage ? t(locale, err.usage.key, err.usage.vars) : undefined;
      // The shared message names Slack; in Teams the person must be @mentioned from this conversation.
      const badUser = err.userMessage.key === 'error.bad_user';
      const vars = badUser ? { ...err.userMessage.vars, value: String(err.userMessage.vars?.value ?? '').replace(/<\/?at>/g, '') } : err.userMessage.vars;
      await ctx.sendActivity(renderNotice(t(locale, badUser ? 'teams.bad_user' : err.userMessage.key, vars), usage, { personal }));
    }
  }
}
