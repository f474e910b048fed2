import type { App, RespondFn, SlashCommand, webApi } from '@slack/bolt';
import { executeCommand } from '../../commands/execute';
import { type Command, parseCommand } from '../../commands/parse';
import type { Actor, Locale, Rollout } from '../../core/checklist/model';
import { BwprepError } from '../../core/errors';
import { render, t } from '../../i18n';
import { buildHelpView, buildMineView } from '../../views/text';
import { slackUser } from '../blocks/limits';
import { helpBlocks, mineBlocks, textMessage } from '../blocks/messages';
import { getProfile, replyLocale, resolveSlackMention, type SlackProfile, slackActor } from '../context';
import { describeError } from '../errors';
import type { SlackDeps } from '../app';
import { workSlot } from './after-ack';

/** What a check/digest/setup/export handler gets: everything already resolved by the command listener. */
export interface DelegateContext {
  client: webApi.WebClient;
  command: SlashCommand;
  cmd: Extract<Command, { name: 'check' | 'digest' | 'setup' | 'export' }>;
  rollout: Rollout;
  actor: Actor;
  profile: SlackProfile;
  /** The user's language for ephemeral replies. */
  locale: Locale;
  respond: RespondFn;
  ephemeral(text: string): Promise<void>;
}

export type Delegate = (ctx: DelegateContext) => Promise<void>;

export function registerCommand(app: App, deps: SlackDeps): void {
  app.command('/bwprep', async ({ command, ack, client, respond }) => {
    // Ack at once (Slack's 3-second window); everything else happens after and is answered via response_url.
    await ack();
    const end = deps.metrics.handlerSeconds.startTimer({ kind: 'command' });
    let locale: Locale = deps.defaults.locale;
    let name = 'unknown';
    const ephemeral = async (text: string) => {
      await respond({ response_type: 'ephemeral', ...textMessage(text) });
    };
    const release = await workSlot(deps, ephemeral);
    if (!release) return;
    try {
      const profile = await getProfile(client, deps.store.kv, command.user_id);
      locale = profile.locale ?? locale;
      const actor = slackActor(command.user_id, profile);
      const rollout = await deps.service.ensureRollout(
        { platform: 'slack', workspace: command.team_id, channel: command.channel_id, ...(command.channel_name ? { name: command.channel_name } : {}) },
        actor,
      );
      locale = replyLocale(profile, rollout, deps.defaults.locale);
      const cmd = parseCommand(command.text ?? '', { resolveUser: resolveSlackMention });
      name = cmd.name;
      if (cmd.name === 'assign') await ensureSlackUser(client, deps, cmd.user);
      const reply = await executeCommand(deps.service, rollout, cmd, actor);
      switch (reply.kind) {
        case 'card':
          release(); // card posts are bounded by their per-card coalescing, not by a work slot
          await postCardOrExplain(deps, client, reply.rollout, actor);
          break;
        case 'help':
          // The rollout's language: help is about the channel's checklist.
          await respond({ response_type: 'ephemeral', ...helpBlocks(buildHelpView(reply.rollout.settings.locale)) });
          break;
        case 'mine':
          await respond({ response_type: 'ephemeral', ...mineBlocks(buildMineView(deps.service.template, reply.rollout, actor.user, locale)) });
          break;
        case 'notice': {
          // A language switch answers in the new language.
          const noticeLocale = cmd.name === 'lang' ? reply.rollout.settings.locale : locale;
          release();
          const cardOk = !reply.changed || (await deps.cards.refreshAfterChange(client, reply.rollout.id));
          await ephemeral(`✅ ${render(noticeLocale, reply.notice, slackUser)}${cardOk ? '' : `\n${t(noticeLocale, 'error.card_not_updated')}`}`);
          break;
        }
        case 'delegate': {
          const handler = deps.delegates[reply.command.name];
          if (!handler) throw new BwprepError('unknown_command', { key: 'error.not_available', vars: { command: reply.command.name } });
          await handler({ client, command, cmd: reply.command, rollout: reply.rollout, actor, profile, locale, respond, ephemeral });
          break;
        }
      }
      deps.metrics.commands.inc({ platform: 'slack', command: name, outcome: 'ok' });
    } catch (e) {
      deps.metrics.commands.inc({ platform: 'slack', command: name, outcome: 'error' });
      const log = deps.logger.child({ command: name, team: command.team_id, channel: command.channel_id, user: command.user_id });
      const usage = name !== 'unknown' ? { key: `usage.${name}` } : undefined;
      await ephemeral(describeError(e, locale, log, deps.metrics, usage)).catch((err) => log.warn({ err }, 'could not send the error reply'));
    } finally {
      release();
      end();
    }
  });
}

/** `assign 2a <@U…>`: the mention must be a real, active user of this workspace. */
async function ensureSlackUser(client: webApi.WebClient, deps: SlackDeps, user: string): Promise<void> {
  const id = user.slice('slack:'.length);
  const profile = await getProfile(client, deps.store.kv, id);
  if (!profile.exists) throw new BwprepError('bad_user', { key: 'error.bad_user', vars: { value: `<@${id}>` } }, { usage: { key: 'usage.assign' } });
}

/** Posts the living card; a channel the bot cannot post in gets an explanation instead of a silent failure. */
export async function postCardOrExplain(deps: SlackDeps, client: webApi.WebClient, rollout: Rollout, actor: Actor): Promise<void> {
  try {
    await deps.cards.post(client, rollout.id, actor);
  } catch (e) {
    const code = (e as { data?: { error?: string } }).data?.error;
    if (code === 'not_in_channel' || code === 'channel_not_found' || code === 'is_archived') {
      throw new BwprepError('forbidden', { key: `error.slack.${code}` });
    }
    throw e;
  }
}
