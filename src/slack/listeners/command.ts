import type { App } from '@slack/bolt';
import { resolveSlackMention } from '../context';
import type { SlackDeps } from '../app';
import { slackRequester } from '../requester';
import { directCommand } from './direct';
import { slackTextToPlain } from '../text';
import { workSlot } from './after-ack';
import { lazyChild } from '../../logging/logger';

/**
 * `/bwprep …`: ack at once (Slack's 3-second window), then hand the command to the application layer,
 * which answers through response_url.
 */
export function registerCommand(app: App, deps: SlackDeps): void {
  app.command('/bwprep', async ({ command, ack, client, respond }) => {
    await ack();
    // The work after the ack runs through the bounded work queue: under overload, "busy, try again".
    const release = await workSlot(deps, (text) => respond({ response_type: 'ephemeral', text }));
    if (!release) return;
    try {
      await run();
    } finally {
      release();
    }
    async function run(): Promise<void> {
    const logger = lazyChild(deps.logger, { team: command.team_id, channel: command.channel_id, user: command.user_id });
    const { requester } = await slackRequester(deps, {
      client,
      respond,
      channel: command.channel_id,
      triggerId: command.trigger_id,
      userId: command.user_id,
      teamId: command.team_id,
      logger,
    });
    requester.settled = release;
    // A direct message is no rollout's home: `/bwprep` there works like the Messages tab (help, mine, and
    // commands that name the rollout's channel); it never starts a rollout in a DM.
    if (command.channel_id.startsWith('D')) {
      await directCommand(deps, requester, command.text ?? '', command.team_id);
      return;
    }
    const conversation = { platform: 'slack' as const, workspace: command.team_id, channel: command.channel_id, ...(command.channel_name ? { name: command.channel_name } : {}) };
    // Slack escapes &, <, > in the text: decoded once here, before parsing; stored plain (src/slack/text.ts).
    await deps.interactions.command(conversation, requester, slackTextToPlain(command.text ?? ''), resolveSlackMention);
    }
  });
}
