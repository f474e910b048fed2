import type { RespondFn, webApi } from '@slack/bolt';
import type { Actor, Locale } from '../core/checklist/model';
import type { Interactions } from '../interactions';
import type { NoticeTone, Reply, Requester } from '../interactions/ports';
import type { Logger } from '../logging/logger';
import { checkReportBlocks } from './blocks/check-report';
import { helpBlocks, mineBlocks, richMessage } from './blocks/messages';
import { setupModal } from './blocks/setup';
import { getProfile, type SlackProfile, slackActor } from './context';
import { classifySlackError, rethrowSlack } from './errors';
import type { KeyValueStore } from '../core/ports';
import type { SlackInstallation } from './installation';

type WebClient = webApi.WebClient;

const TONE_ICON: Record<NoticeTone, string> = { ok: '✅', info: 'ℹ️', warn: '⚠️', refused: '⚠️', wait: '⏳', snooze: '💤', fail: '❌' };

/** A notice as one Slack message: the tone's icon before the first line. */
function noticeMessage(reply: Extract<Reply, { kind: 'notice' }>) {
  const [first = [], ...rest] = reply.lines;
  return richMessage([[`${TONE_ICON[reply.tone]} `, ...first], ...rest]);
}

/** Upload refusals after which the requester gets the file in their DM with the app instead. */
const PRIVATE_COPY_CODES = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'restricted_action', 'restricted_action_read_only_channel']);

/** Where the replies of one Slack request go. */
export interface SlackReplyTarget {
  client: WebClient;
  /** Ephemeral replies through the request's response_url (commands, clicks on a channel card). */
  respond?: RespondFn;
  /** The channel of the request, for files and ephemerals without a response_url. */
  channel?: string;
  /** Slack's trigger for opening a modal (commands). */
  triggerId?: string;
  /** A click on a channel card: reports go to the clicker as an ephemeral message in the channel. */
  clickInChannel?: boolean;
  /** Without a response_url: answer as an ephemeral message in this channel (falling back to a DM). */
  ephemeralIn?: string;
  userId: string;
  logger: Logger;
}

/**
 * Maps every reply kind to Slack's wire: ephemeral messages through response_url where there is one,
 * else a DM from the app; `setup` opens the modal with the request's trigger; `file` uploads to the channel.
 */
function slackReply(target: SlackReplyTarget): (reply: Reply) => Promise<void> {
  const { client, respond, userId } = target;
  const send = async (msg: { text: string; blocks: unknown[] }) => {
    try {
      if (respond) {
        await respond({ response_type: 'ephemeral', replace_original: false, text: msg.text, blocks: msg.blocks as never });
        return;
      }
      if (target.ephemeralIn) {
        try {
          await client.chat.postEphemeral({ channel: target.ephemeralIn, user: userId, text: msg.text, blocks: msg.blocks as never });
          return;
        } catch (err) {
          target.logger.info({ err }, 'ephemeral refused; answering by DM');
        }
      }
      await client.chat.postMessage({ channel: userId, text: msg.text, blocks: msg.blocks as never });
    } catch (e) {
      rethrowSlack(e);
    }
  };
  return async (reply) => {
    switch (reply.kind) {
      case 'notice':
        return send(noticeMessage(reply));
      case 'help':
        return send(helpBlocks(reply.view));
      case 'mine':
        return send(mineBlocks(reply.view));
      case 'check_report': {
        const report = checkReportBlocks(reply.view);
        if (target.clickInChannel && target.channel) {
          try {
            await client.chat.postEphemeral({ channel: target.channel, user: userId, text: report.text, blocks: report.blocks as never });
            return;
          } catch (err) {
            target.logger.info({ err }, 'ephemeral report refused; answering through response_url');
          }
        }
        return send(report);
      }
      case 'setup':
        try {
          await client.views.open({
            trigger_id: target.triggerId ?? '',
            view: setupModal(reply.form.rolloutId, reply.form.settings, reply.form.locale, {
              timezone: reply.form.timezone,
              encryptionAvailable: reply.form.encryptionAvailable,
            }),
          });
        } catch (e) {
          rethrowSlack(e);
        }
        return;
      case 'file': {
        const upload = (channel: string) =>
          client.filesUploadV2({
            channel_id: channel,
            content: reply.file.content,
            filename: reply.file.filename,
            title: reply.file.filename,
            initial_comment: reply.file.comment,
          });
        const openIm = async () => {
          const open = await client.conversations.open({ users: userId });
          return (open.channel as { id?: string } | undefined)?.id ?? userId;
        };
        try {
          // Outside a channel (the Messages tab) the file goes to the requester's DM with the app.
          await upload(target.channel ?? (await openIm()));
          return;
        } catch (e) {
          if (!target.channel) rethrowSlack(e);
          const err = classifySlackError(e);
          if (!err || !PRIVATE_COPY_CODES.has(err.code)) throw err ?? e;
          // bwprep cannot put files here (a DM between two people, a private channel it is not in, an
          // archived one): the requester gets the file in their DM with the app, and is told so.
          try {
            await upload(await openIm());
          } catch (e2) {
            target.logger.warn({ code: err.code, dm: classifySlackError(e2)?.code ?? String(e2) }, 'export: neither the conversation nor a DM took the file');
            throw err;
          }
          target.logger.warn({ code: err.code, channel: target.channel }, 'export: the conversation refused the file; sent it to the requester by DM');
          if (reply.file.sentPrivately) await send(noticeMessage({ kind: 'notice', tone: 'info', lines: [reply.file.sentPrivately] }));
          return;
        }
      }
    }
  };
}

/** The person behind a Slack request, with their profile (language, time zone, admin rights). */
export async function slackRequester(
  deps: { interactions: Interactions; kv: KeyValueStore; installation?: () => Promise<SlackInstallation> },
  target: SlackReplyTarget & { teamId: string },
): Promise<{ requester: Requester; profile: SlackProfile | undefined }> {
  let profile: SlackProfile | undefined;
  try {
    profile = await getProfile(target.client, deps.kv, target.userId, deps.installation);
  } catch (err) {
    // Without a profile the request still works: the rollout's language, no platform admin rights.
    target.logger.warn({ err, user: target.userId }, 'users.info failed; going on without the profile');
  }
  const actor: Actor = slackActor(target.userId, profile);
  const locale: Locale | undefined = profile?.locale;
  const requester: Requester = {
    actor,
    scope: { platform: 'slack', workspace: target.teamId },
    ...(locale ? { locale } : {}),
    ...(profile?.tz ? { tz: profile.tz } : {}),
    reply: slackReply(target),
  };
  return { requester, profile };
}
