import type { webApi } from '@slack/bolt';
import type { ConversationRef, Locale, MessageRef, UserKey } from '../core/checklist/model';
import type { PostedDigest } from '../core/digest/ports';
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
 * Slack's implementation of the application layer's ports: the living card as a Block Kit message
 * (chat.postMessage / chat.update), channel posts, DMs from the app, and people from users.info. Every
 * Slack error leaves here classified (src/slack/errors.ts).
 */
export function slackPlatform(deps: { client: WebClient; kv: KeyValueStore; logger: Logger; installation?: () => Promise<SlackInstallation | undefined> }): ChatPlatform {
  const { client, kv, logger } = deps;

  async function permalink(ref: MessageRef | undefined): Promise<string | undefined> {
    if (!ref || ref.platform !== 'slack') return undefined;
    try {
      const res = await client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts });
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
          const res = await client.chat.postMessage({ channel: conversation.channel, text: checklistFallback(view), blocks: wireBlocks(checklistBlocks(view)), unfurl_links: false });
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
      async postDigest(conversation: ConversationRef, view: DigestView, card?: MessageRef): Promise<PostedDigest> {
        const link = await permalink(card);
        const msg = digestBlocks(view, link);
        let res: webApi.ChatPostMessageResponse;
        try {
          res = await client.chat.postMessage({ channel: conversation.channel, text: msg.text, blocks: wireBlocks(msg.blocks), unfurl_links: false });
        } catch (e) {
          return rethrowSlack(e);
        }
        // From here on the digest is out: nothing below may throw (the scheduler would post it again).
        const ref: MessageRef = { platform: 'slack', channel: (res.channel as string) ?? conversation.channel, ts: res.ts as string };
        const own = await permalink(ref);
        return { ref, ...(own ? { permalink: own } : {}) };
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
