import type { RespondFn, SlackCommandMiddlewareArgs, SlashCommand, webApi } from '@slack/bolt';
import { resolveSlackMention } from '../context';
import type { SlackDeps } from '../app';
import { slackRequester } from '../requester';
import { directCommand } from './direct';
import { slackTextToPlain } from '../text';
import { doWork, ephemeralReply, workSlot } from './after-ack';
import { lazyChild } from '../../logging/logger';

/** What the command handler uses of Bolt's middleware arguments for a slash command. */
export type CommandArgs = Pick<SlackCommandMiddlewareArgs, 'ack' | 'command' | 'respond'> & { client: webApi.WebClient };

/** The one slash command bwprep's manifests declare. */
export const SLASH_COMMAND = '/bwprep';

/**
 * `/bwprep …`: ack at once (Slack's 3-second window), then hand the command to the application layer,
 * which answers through response_url. The work after the ack runs in the Slack work thread when there is
 * one (`deps.offload`, src/work-thread/), else here through the bounded work queue. src/slack/app.ts calls
 * it from its one global middleware for `SLASH_COMMAND` (see `slackApp`).
 */
export function commandHandler(deps: SlackDeps): (args: CommandArgs) => Promise<void> {
  return async ({ command, ack, client, respond }) => {
    await ack();
    // The work after the ack runs through the bounded work queue: under overload, "busy, try again".
    // Built outside this scope so that it does not hold the command payload (see replyTo).
    const tell = ephemeralReply(respond);
    const release = await workSlot(deps, tell);
    if (!release) return;
    await doWork(deps, { kind: 'command', command }, tell, release, () => commandWork(deps, { command, client, respond }, release));
  };
}

/**
 * The work of one `/bwprep` command after its ack: who asked, then one call into the application layer.
 * `settled` is called once the person has their answer (before the card update, which the living card's
 * coalescing bounds). Runs in the thread that acked, or in the Slack work thread.
 */
export async function commandWork(
  deps: SlackDeps,
  { command, client, respond }: { command: SlashCommand; client: webApi.WebClient; respond: RespondFn },
  settled: () => void,
): Promise<void> {
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
  requester.settled = settled;
  // A direct message is no rollout's home: `/bwprep` there works like the Messages tab (help, mine, and
  // commands that name the rollout's channel); it never starts a rollout in a DM.
  if (command.channel_id.startsWith('D')) {
    await directCommand(deps, requester, command.text ?? '', command.team_id);
    return;
  }
  const conversation = {
    platform: 'slack' as const,
    workspace: command.team_id,
    channel: command.channel_id,
    ...(command.channel_name ? { name: command.channel_name } : {}),
  };
  // Slack escapes &, <, > in the text: decoded once here, before parsing; stored plain (src/slack/text.ts).
  await deps.interactions.command(conversation, requester, slackTextToPlain(command.text ?? ''), resolveSlackMention);
}
