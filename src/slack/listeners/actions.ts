import type { BlockAction, ButtonAction, RespondFn, SlackActionMiddlewareArgs, UsersSelectAction, webApi } from '@slack/bolt';
import { BwprepError } from '../../core/errors';
import { ACTIONS, type ActionId, decodeStepRef } from '../../views/actions';
import type { SlackDeps } from '../app';
import { slackRequester } from '../requester';
import { publishHome } from './events';
import { doWork, replyTo, workSlot } from './after-ack';
import { lazyChild } from '../../logging/logger';

/** The clicks bwprep acts on: card buttons, the owner picker, reminder buttons, App Home buttons. */
const STEP_ACTIONS: ActionId[] = [ACTIONS.markDone, ACTIONS.reopenStep, ACTIONS.assignOwner, ACTIONS.runCheck, ACTIONS.snoozeStep];

/** What the click handler uses of Bolt's middleware arguments for a `block_actions` request. */
export type ActionArgs = Pick<SlackActionMiddlewareArgs<BlockAction>, 'ack' | 'body' | 'respond' | 'action'> & { client: webApi.WebClient };

/**
 * Card buttons and pickers: ack, decode which rollout and step (button value `step@rollout`, or the picker's
 * block id plus the channel), one call into the application layer. Clicks from the App Home answer by DM and
 * refresh the home tab. Handles every `block_actions` request; src/slack/app.ts calls it from its one global
 * middleware (see `slackApp`), not through a Bolt listener per action id.
 */
export function actionHandler(deps: SlackDeps): (args: ActionArgs) => Promise<void> {
  const stepActions = new Set<string>(STEP_ACTIONS);
  return async ({ ack, body, client, respond, action: clicked }) => {
    // Link buttons (the step guide, "open the card") still send an action, and so may a card of an older
    // release or a malformed payload: acknowledge every action id not handled here, so Slack shows no error
    // and the request is not held for Bolt's 3-second timeout (found by test/fuzz/slack-http.fuzz.test.ts).
    if (!stepActions.has(clicked.action_id)) {
      await ack();
      return;
    }
    await ack();
    // The work after the ack runs through the bounded work queue: under overload, "busy, try again".
    // Holds only what it needs (not the payload): with the work thread it outlives the listener.
    const tell = replyTo(respond, body.response_url, client, body.user.id);
    const release = await workSlot(deps, tell);
    if (!release) return;
    await doWork(deps, { kind: 'action', body }, tell, release, () => actionWork(deps, { body, client, respond }, release));
  };
}

/**
 * The work of one card click after its ack: who clicked, which rollout and step, one call into the
 * application layer. `settled` is called once the slot may go back: before the card update for a click on
 * a channel card (bounded by the living card's coalescing), at the end for an App Home click (its Home
 * publish lists every rollout). Runs in the thread that acked, or in the Slack work thread.
 */
export async function actionWork(
  deps: SlackDeps,
  { body, client, respond }: { body: BlockAction; client: webApi.WebClient; respond: RespondFn },
  settled: () => void,
): Promise<void> {
  const actionId = body.actions[0]?.action_id as ActionId;
  const fromHome = body.container?.type === 'view';
  const teamId = body.team?.id ?? body.user.team_id ?? '';
  const logger = lazyChild(deps.logger, { action: actionId, user: body.user.id, team: teamId });
  const { requester } = await slackRequester(deps, {
    client,
    ...(!fromHome && body.response_url ? { respond } : {}),
    ...(body.channel?.id ? { channel: body.channel.id } : {}),
    clickInChannel: !fromHome && Boolean(body.channel?.id),
    userId: body.user.id,
    teamId,
    logger,
  });
  if (!fromHome) requester.settled = settled;
  const action = body.actions[0] as ButtonAction | UsersSelectAction | undefined;
  const target = decodeTarget(body, teamId);
  if (!target) {
    await deps.interactions.fail(requester, undefined, new BwprepError('bad_usage', { key: 'error.bad_payload' }), { action: actionId });
    return;
  }
  const owner = actionId === ACTIONS.assignOwner ? (action as UsersSelectAction | undefined)?.selected_user : undefined;
  if (actionId === ACTIONS.assignOwner && !owner) return;
  await deps.interactions.cardAction(requester, { action: actionId, ...target, ...(owner ? { owner: `slack:${owner}` } : {}) });
  if (fromHome) await publishHome(deps, client, body.user.id, teamId).catch((err) => logger.warn({ err }, 'could not refresh the App Home'));
}

/** The rollout and step a click is about: from the button value, or (pickers) the block id plus the channel. */
function decodeTarget(body: BlockAction, teamId: string): { rolloutId: string; stepId: string } | undefined {
  const action = body.actions[0] as ButtonAction | UsersSelectAction | undefined;
  const ref = decodeStepRef((action as ButtonAction | undefined)?.value);
  if (ref) return ref;
  if (typeof action?.block_id === 'string' && action.block_id.startsWith('step:') && body.channel?.id) {
    return { stepId: action.block_id.slice('step:'.length), rolloutId: `slack:${teamId}:${body.channel.id}` };
  }
  return undefined;
}
