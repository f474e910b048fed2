import type { webApi } from '@slack/bolt';
import type { ConversationRef, Locale, MessageRef, UserKey } from '../core/checklist/model';
import type { DigestLookup, PostedDigest } from '../core/digest/ports';
import type { KeyValueStore } from '../core/ports';
import { t } from '../i18n';
import type { ChatPlatform, DirectMessage, UserProfile } from '../interactions/ports';
import type { Logger } from '../logging/logger';
import type { CheckReportView } from '../views/check-report';
import type { ChecklistView } from '../views/checklist';
import type { DigestView } from '../views/digest';
import { checkReportBlocks } from './blocks/check-report';
import { checklistBlocks, checklistFallback } from './blocks/checklist';
import { digestBlocks, reminderBlocks } from './blocks/digest';
import { richMessage, textMessage } from './blocks/messages';
import { escText } from './blocks/mrkdwn';
import { getProfile } from './context';
import type { SlackInstallation } from './installation';
import { lastingHint, rethrowCardUpdate, rethrowSlack, slackErrorCode } from './errors';

type WebClient = webApi.WebClient;

const slackId = (user: UserKey) => user.slice('slack:'.length);

/**
 * Blocks as the JSON string Slack's form-encoded Web API takes for `blocks`: what the WebClient sends anyway
 * (it JSON-encodes an array argument). Given an array, the WebClient also walks it for a debug line it builds
 * at every log level (`redact`, then `JSON.stringify`); a string it passes through. For the 9 KB card that
 * walk was ~0.35 ms of CPU per call (issue 12, bench/README.md "After the application layer, round 2").
 */
const wireBlocks = (blocks: readonly unknown[]) => JSON.stringify(blocks) as unknown as webApi.Block[];

/**
 * The Slack message metadata (https://docs.slack.dev/messaging/message-metadata/) every scheduled digest
 * carries: which rollout and slot it stands for. The scheduler's reconciliation looks for it with
 * conversations.history to tell "posted, not recorded" from "never posted" after a crash.
 */
const DIGEST_EVENT_TYPE = 'bwprep_digest';

/** The scopes conversations.history needs for the reconciliation: public and private channels. */
const HISTORY_SCOPES = ['channels:history', 'groups:history'] as const;

/** Messages per conversations.history page (Slack recommends at most 200), and the most pages read. */
const HISTORY_PAGE = 200;
const HISTORY_MAX_PAGES = 20;

/** Slack errors of conversations.history after which we cannot tell (not transient: no retry helps). */
const CANNOT_READ = new Set(['missing_scope', 'not_in_channel', 'channel_not_found', 'no_permission', 'restricted_action', 'ekm_access_denied', 'is_archived']);

interface HistoryMessage {
  ts?: string;
  bot_id?: string;
  user?: string;
  subtype?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/**
 * Slack's implementation of the application layer's ports: the living card as a Block Kit message
 * (chat.postMessage / chat.update), channel posts, DMs from the app, and people from users.info. Every
 * Slack error leaves here classified (src/slack/errors.ts).
 */
export function slackPlatform(deps: {
  client: WebClient;
  /**
   * For posts that must not go out twice (the scheduled digest): a client that never retries. The shared
   * client retries a timed-out or 5xx call, and a post Slack accepted but answered late would be repeated;
   * a failed digest post is instead checked in the channel by the scheduler (findDigest). Default `client`.
   */
  postOnce?: WebClient;
  kv: KeyValueStore;
  logger: Logger;
  installation?: () => Promise<SlackInstallation | undefined>;
}): ChatPlatform {
  const { client, kv, logger } = deps;
  /** For the digest's path: the post and its permalinks are never retried (see `postOnce`). */
  const once = deps.postOnce ?? client;

  async function permalink(ref: MessageRef | undefined): Promise<string | undefined> {
    if (!ref || ref.platform !== 'slack') return undefined;
    try {
      // Without retries: it sits on the digest's path, whose time the slot lease bounds.
      const res = await once.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts });
      return res.permalink as string | undefined;
    } catch (err) {
      logger.info({ err: slackErrorCode(err) ?? String(err), channel: ref.channel }, 'no permalink for the card');
      return undefined;
    }
  }

  /** A DM from the app. Reminders open the IM first (its id is stable); a user id works as the channel too. */
  async function dm(user: UserKey, msg: { text: string; blocks: unknown[] }, openIm = false): Promise<boolean> {
    try {
      let channel = slackId(user);
      if (openIm) {
        const open = await client.conversations.open({ users: slackId(user) });
        channel = (open.channel as { id?: string } | undefined)?.id ?? channel;
      }
      await client.chat.postMessage({ channel, text: msg.text, blocks: msg.blocks as never, unfurl_links: false });
      return true;
    } catch (e) {
      const code = slackErrorCode(e);
      // The person is gone or cannot get DMs from apps: nothing to retry.
      if (code === 'user_not_found' || code === 'cannot_dm_bot' || code === 'user_disabled' || code === 'account_inactive') {
        logger.info({ user, code }, 'direct message not deliverable');
        return false;
      }
      return rethrowSlack(e);
    }
  }

  return {
    id: 'slack',
    explain: lastingHint,
    directory: {
      async profile(user: UserKey): Promise<UserProfile> {
        if (!user.startsWith('slack:')) return { user, exists: false, missing: 'unknown', platformAdmin: false };
        try {
          const p = await getProfile(client, kv, slackId(user), deps.installation);
          return {
            user,
            exists: p.exists,
            ...(p.exists ? {} : { missing: p.deleted ? ('deactivated' as const) : ('unknown' as const) }),
            ...(p.locale ? { locale: p.locale } : {}),
            ...(p.tz ? { tz: p.tz } : {}),
            ...(p.name ? { name: p.name } : {}),
            platformAdmin: p.isAdmin,
          };
        } catch (e) {
          return rethrowSlack(e);
        }
      },
    },
    cards: {
      async post(conversation: ConversationRef, view: ChecklistView): Promise<MessageRef> {
        try {
          const res = await client.chat.postMessage({
            channel: conversation.channel,
            text: checklistFallback(view),
            blocks: wireBlocks(checklistBlocks(view)),
            unfurl_links: false,
          });
          return { platform: 'slack', channel: (res.channel as string) ?? conversation.channel, ts: res.ts as string };
        } catch (e) {
          return rethrowSlack(e);
        }
      },
      async update(ref: MessageRef, view: ChecklistView, opts: { checking?: boolean } = {}): Promise<void> {
        const blocks = checklistBlocks(view);
        if (opts.checking) blocks.splice(2, 0, { type: 'context', elements: [{ type: 'mrkdwn', text: `⏳ ${escText(t(view.locale, 'card.checking'))}` }] });
        try {
          await client.chat.update({ channel: ref.channel, ts: ref.ts, text: checklistFallback(view), blocks: wireBlocks(blocks) });
        } catch (e) {
          rethrowCardUpdate(e);
        }
      },
      async retire(ref: MessageRef, locale: Locale): Promise<void> {
        const retired = textMessage(`_${escText(t(locale, 'card.retired'))}_`);
        try {
          await client.chat.update({ channel: ref.channel, ts: ref.ts, text: retired.text, blocks: retired.blocks });
        } catch (e) {
          rethrowSlack(e);
        }
      },
    },
    publisher: {
      async postDigest(conversation: ConversationRef, view: DigestView, card?: MessageRef, opts?: { once?: boolean }): Promise<PostedDigest> {
        const link = await permalink(card);
        const msg = digestBlocks(view, link);
        let res: webApi.ChatPostMessageResponse;
        try {
          const m = view.model;
          // A scheduled digest says which rollout and slot it is (a preview is not any slot's digest).
          const metadata = m.slot && !m.preview ? { metadata: { event_type: DIGEST_EVENT_TYPE, event_payload: { rollout: m.rolloutId, slot: m.slot } } } : {};
          // Sent once (never retried by the client) when the scheduler will look for it after an unclear answer.
          res = await (opts?.once ? once : client).chat.postMessage({
            channel: conversation.channel,
            text: msg.text,
            blocks: wireBlocks(msg.blocks),
            unfurl_links: false,
            ...metadata,
          });
        } catch (e) {
          return rethrowSlack(e);
        }
        // From here on the digest is out: nothing below may throw (the scheduler would post it again).
        const ref: MessageRef = { platform: 'slack', channel: (res.channel as string) ?? conversation.channel, ts: res.ts as string };
        const own = await permalink(ref);
        return { ref, ...(own ? { permalink: own } : {}) };
      },
      async findDigest(conversation: ConversationRef, digest: { rolloutId: string; slot: string }, since: Date): Promise<DigestLookup> {
        // Our own posts only: another app could put the same metadata on its messages.
        const me = deps.installation ? await deps.installation() : undefined;
        const ours = (m: HistoryMessage) => !me || (me.botId ? m.bot_id === me.botId : m.user === me.botUserId);
        let cursor: string | undefined;
        for (let page = 0; page < HISTORY_MAX_PAGES; page++) {
          let res: webApi.ConversationsHistoryResponse;
          try {
            res = await client.conversations.history({
              channel: conversation.channel,
              oldest: (since.getTime() / 1000).toFixed(6),
              inclusive: true,
              include_all_metadata: true,
              limit: HISTORY_PAGE,
              ...(cursor ? { cursor } : {}),
            });
          } catch (e) {
            const code = slackErrorCode(e);
            if (code && CANNOT_READ.has(code)) {
              const needed = (e as { data?: { needed?: string } }).data?.needed;
              if (code === 'missing_scope') {
                logger.warn(
                  { channel: conversation.channel, rolloutId: digest.rolloutId, slot: digest.slot, needed, add: HISTORY_SCOPES },
                  `cannot tell whether a digest was posted: the Slack app lacks a scope; add ${HISTORY_SCOPES.join(' and ')} to the app (manifests/slack) and reinstall it`,
                );
              } else {
                logger.warn(
                  { channel: conversation.channel, rolloutId: digest.rolloutId, slot: digest.slot, code },
                  'cannot tell whether a digest was posted: the channel history cannot be read',
                );
              }
              return { status: 'unknown', reason: code };
            }
            return rethrowSlack(e);
          }
          for (const m of (res.messages ?? []) as HistoryMessage[]) {
            const meta = m.metadata;
            if (!m.ts || meta?.event_type !== DIGEST_EVENT_TYPE || !ours(m)) continue;
            if (meta.event_payload?.rollout !== digest.rolloutId || meta.event_payload?.slot !== digest.slot) continue;
            const ref: MessageRef = { platform: 'slack', channel: conversation.channel, ts: m.ts };
            const own = await permalink(ref);
            return { status: 'found', digest: { ref, ...(own ? { permalink: own } : {}) } };
          }
          cursor = res.has_more ? res.response_metadata?.next_cursor || undefined : undefined;
          if (!cursor) return { status: 'absent' };
        }
        logger.warn(
          { channel: conversation.channel, rolloutId: digest.rolloutId, slot: digest.slot, pages: HISTORY_MAX_PAGES },
          'cannot tell whether a digest was posted: too many messages since its slot',
        );
        return { status: 'unknown', reason: 'too_many_messages' };
      },
      async postCheckReport(conversation: ConversationRef, view: CheckReportView): Promise<void> {
        const report = checkReportBlocks(view);
        try {
          await client.chat.postMessage({ channel: conversation.channel, text: report.text, blocks: wireBlocks(report.blocks), unfurl_links: false });
        } catch (e) {
          rethrowSlack(e);
        }
      },
    },
    notifier: {
      async send(user: UserKey, message: DirectMessage): Promise<boolean> {
        if (!user.startsWith('slack:')) return false;
        switch (message.kind) {
          case 'reminder': {
            const links: Record<string, string | undefined> = {};
            for (const item of message.view.items) {
              if (!(item.rolloutId in links)) links[item.rolloutId] = item.card ? await permalink(item.card) : undefined;
            }
            return dm(user, reminderBlocks(message.view, links), true);
          }
          case 'notice':
            return dm(user, richMessage(message.lines));
          case 'check_report':
            return dm(user, checkReportBlocks(message.view));
        }
      },
    },
  };
}
