import type { Activity, Attachment } from 'botbuilder';
import type { ConversationRef as BwConversation, Locale, MessageRef, UserKey } from '../core/checklist/model';
import type { PostedDigest } from '../core/digest/ports';
import { CardGoneError, PlatformError } from '../interactions/errors';
import type { ChatPlatform, DirectMessage, UserProfile } from '../interactions/ports';
import type { Logger } from '../logging/logger';
import type { CheckReportView } from '../views/check-report';
import type { ChecklistView } from '../views/checklist';
import type { DigestView } from '../views/digest';
import type { TeamsConversations, TeamsUserDirectory } from './directory';
import type { graphDigestLookup } from './graph';
import { checklistCard, type RenderContext, renderCheckReport, renderDigest, renderNotice, renderReminder, retiredCard } from './render';

/** What the platform needs of the Teams runtime (src/teams/index.ts): proactive sends by conversation id. */
export interface TeamsSender {
  conversations: TeamsConversations;
  users: TeamsUserDirectory;
  send(conversationId: string, activity: Partial<Activity>, opts?: { once?: boolean }): Promise<string | undefined>;
  update(conversationId: string, activityId: string, activity: Partial<Activity>): Promise<boolean>;
  personalConversation(aadObjectId: string, via?: string): Promise<string | undefined>;
}

const aadOf = (user: UserKey) => user.slice('teams:'.length);

/**
 * A failed connector send as a PlatformError. `uncertain` only for a send made once (withoutResend) whose
 * connector request itself got no clear answer: a RestError (@azure/core-rest-pipeline) with a 5xx (a
 * 502/504 gateway, a 500 after the write) or with no response at all (a reset or timed-out connection). A 4xx was refused (403/404 lasting:
 * the bot was removed, the conversation is gone; outbound.ts marked it inactive already); a failure before
 * the request (no Bot Connector token from Entra ID) sent nothing.
 */
function sendFailure(e: unknown, once: boolean): PlatformError {
  const rest = (e as { name?: unknown }).name === 'RestError';
  const status = (e as { statusCode?: unknown }).statusCode;
  const answered = typeof status === 'number';
  // Only a send made once leaves "maybe posted" to the scheduler; the client's retries already had their say.
  const uncertain = once && rest && (!answered || status >= 500);
  const kind = status === 403 || status === 404 ? 'lasting' : 'transient';
  const code = answered ? `http_${status}` : rest ? 'no_answer' : 'not_sent';
  return new PlatformError('teams', code, kind, { key: 'error.teams.unavailable' }, { cause: e, uncertain });
}

/**
 * Teams' implementation of the application layer's ports: the living card as an Adaptive Card posted and
 * updated through the Bot Connector (proactively, by stored conversation reference), the digest as an
 * Adaptive Card (a scheduled one found again through Graph after a crash, graph.ts), reports as Markdown
 * messages, reminders and DMs in the person's 1:1 chat with the bot (created through the connector when
 * needed), people from what Teams told bwprep about them.
 */
export function teamsPlatform(deps: {
  runtime: TeamsSender;
  logger: Logger;
  /**
   * The Graph lookup of a scheduled digest and whether Graph can read a conversation now (graph.ts);
   * absent without app credentials (digests stay at most once).
   */
  lookup?: ReturnType<typeof graphDigestLookup>;
}): ChatPlatform & { cardFor(conversationId: string, view: ChecklistView, checking?: boolean): Promise<Attachment> } {
  const { runtime, logger } = deps;
  const names = new Map<string, string>();

  /** Render context for a conversation: personal chats spell commands bare; people show by name. */
  async function ctxFor(conversationId: string): Promise<RenderContext> {
    const c = await runtime.conversations.get(conversationId);
    return { personal: c?.kind === 'personal', userName: (key) => names.get(key) };
  }

  /** Names of the people a view mentions, from the directory (Teams ids mean nothing to a reader). */
  async function learnNames(keys: (string | undefined)[]): Promise<void> {
    for (const key of keys) {
      if (!key?.startsWith('teams:') || names.has(key)) continue;
      const u = await runtime.users.get(aadOf(key));
      if (u?.name) names.set(key, u.name);
    }
  }

  const unreachable = (conversation: string) =>
    new PlatformError(
      'teams',
      'conversation_inactive',
      'lasting',
      { key: 'error.teams.conversation_inactive' },
      { cause: new Error(`teams conversation ${conversation} unknown or inactive`) },
    );

  async function people(conversationId: string): Promise<{ key: string; name: string }[]> {
    // The roster bwprep has seen: everyone who wrote or was mentioned here (a static list beside the search).
    const list = await runtime.users.known(conversationId);
    return (list ?? []).map((u) => ({ key: `teams:${u.aadObjectId}`, name: u.name ?? u.aadObjectId }));
  }

  async function card(conversationId: string, view: ChecklistView, checking = false) {
    await learnNames(view.phases.flatMap((p) => p.steps.flatMap((s) => [s.owner, s.doneBy])));
    const ctx = await ctxFor(conversationId);
    return checklistCard(view, { ...ctx, people: await people(conversationId), checking });
  }

  return {
    id: 'teams',
    cardFor: card,
    directory: {
      async profile(user: UserKey): Promise<UserProfile> {
        const u = user.startsWith('teams:') ? await runtime.users.get(aadOf(user)) : undefined;
        if (!u) return { user, exists: false, missing: 'unknown', platformAdmin: false };
        if (u.name) names.set(user, u.name);
        return {
          user,
          exists: true,
          ...(u.locale ? { locale: u.locale as Locale } : {}),
          ...(u.timezone ? { tz: u.timezone } : {}),
          ...(u.name ? { name: u.name } : {}),
          // Teams roles do not map onto rollout admin rights: rollout admins and BWPREP_ADMINS decide.
          platformAdmin: false,
        };
      },
    },
    cards: {
      async post(conversation: BwConversation, view: ChecklistView): Promise<MessageRef> {
        const id = await runtime.send(conversation.channel, { type: 'message', attachments: [await card(conversation.channel, view)] });
        if (!id) throw unreachable(conversation.channel);
        return { platform: 'teams', channel: conversation.channel, ts: id };
      },
      async update(ref: MessageRef, view: ChecklistView, opts: { checking?: boolean } = {}): Promise<void> {
        try {
          const ok = await runtime.update(ref.channel, ref.ts, { type: 'message', attachments: [await card(ref.channel, view, opts.checking)] });
          if (!ok) throw new CardGoneError('conversation_inactive');
        } catch (e) {
          const status = (e as { statusCode?: number }).statusCode;
          if (status === 404) throw new CardGoneError('not_found');
          throw e;
        }
      },
      async retire(ref: MessageRef, locale: Locale): Promise<void> {
        await runtime.update(ref.channel, ref.ts, { type: 'message', attachments: [retiredCard(locale)] });
      },
    },
    publisher: {
      async postDigest(conversation: BwConversation, view: DigestView, _card?: MessageRef, opts?: { once?: boolean }): Promise<PostedDigest> {
        await learnNames(view.model.overdue.map((o) => o.owner));
        const activity = renderDigest(view, await ctxFor(conversation.channel));
        // The scheduler's home post (opts.once) is sent once, never resent by the client, where Graph can read
        // the conversation back: after a 502/504 or a lost connection it may be out, and the scheduler looks for
        // it (findDigest) rather than posting it twice. Elsewhere (a linked conversation, no consent yet, a 1:1
        // chat) the client retries as for any message: a rare double post beats a lost digest.
        const once = opts?.once && deps.lookup ? await deps.lookup.canLook(conversation.channel) : false;
        let id: string | undefined;
        try {
          id = await runtime.send(conversation.channel, activity, { once });
        } catch (e) {
          throw sendFailure(e, once);
        }
        if (!id) throw unreachable(conversation.channel);
        return { ref: { platform: 'teams', channel: conversation.channel, ts: id } };
      },
      ...(deps.lookup
        ? {
            findDigest: (conversation: BwConversation, digest: { rolloutId: string; slot: string }, since: Date) =>
              deps.lookup!.findDigest(conversation.channel, digest, since),
          }
        : {}),
      async postCheckReport(conversation: BwConversation, view: CheckReportView): Promise<void> {
        const id = await runtime.send(conversation.channel, renderCheckReport(view, await ctxFor(conversation.channel)));
        if (!id) throw unreachable(conversation.channel);
      },
    },
    notifier: {
      async send(user: UserKey, message: DirectMessage): Promise<boolean> {
        if (!user.startsWith('teams:')) return false;
        const u = await runtime.users.get(aadOf(user));
        // A 1:1 chat: the stored one, or one created through a conversation bwprep shares with the person.
        const chat = await runtime.personalConversation(aadOf(user), u?.viaConversationId);
        if (!chat) {
          logger.info({ user }, 'teams: no personal chat with this person; nothing sent');
          return false;
        }
        const ctx: RenderContext = { personal: true, userName: (k) => names.get(k) };
        const activity =
          message.kind === 'reminder'
            ? renderReminder(message.view, ctx)
            : message.kind === 'check_report'
              ? renderCheckReport(message.view, ctx)
              : renderNotice(message.tone ?? 'info', message.lines, ctx);
        return Boolean(await runtime.send(chat, activity));
      },
    },
  };
}
