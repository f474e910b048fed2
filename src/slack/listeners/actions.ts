import type { App, BlockAction, ButtonAction, UsersSelectAction, webApi } from '@slack/bolt';
import type { Locale, Rollout } from '../../core/checklist/model';
import type { ChangeResult } from '../../core/checklist/service';
import { BwprepError } from '../../core/errors';
import { render, t } from '../../i18n';
import { ACTIONS, decodeStepRef } from '../../views/actions';
import { slackUser } from '../blocks/limits';
import { textMessage } from '../blocks/messages';
import { getProfile, replyLocale, type SlackProfile, slackActor } from '../context';
import { describeError } from '../errors';
import type { SlackDeps } from '../app';
import { workSlot } from './after-ack';
import { publishHome } from './events';

export interface ActionContext {
  client: webApi.WebClient;
  body: BlockAction;
  rollout: Rollout;
  stepId: string;
  profile: SlackProfile;
  locale: Locale;
  /** Ephemeral to the clicking user: in the channel for cards, as a DM from the App Home. */
  tell(text: string): Promise<void>;
}

export type StepAction = (ctx: ActionContext, deps: SlackDeps) => Promise<ChangeResult | void>;

/**
 * Card buttons and pickers. Every handler acks first, then makes one service call, then updates the
 * living card (and the App Home when the click came from there). Refusals are ephemeral and change nothing.
 */
export function registerActions(app: App, deps: SlackDeps, extra: Record<string, StepAction> = {}): void {
  const handlers: Record<string, StepAction> = {
    [ACTIONS.markDone]: ({ rollout, stepId, body, profile }) => deps.service.markDone(rollout.id, stepId, slackActor(body.user.id, profile)),
    [ACTIONS.reopenStep]: ({ rollout, stepId, body, profile }) => deps.service.reopen(rollout.id, stepId, slackActor(body.user.id, profile)),
    [ACTIONS.assignOwner]: async ({ rollout, stepId, body, profile }) => {
      const action = body.actions[0] as UsersSelectAction;
      if (!action.selected_user) return undefined;
      return deps.service.assign(rollout.id, stepId, `slack:${action.selected_user}`, slackActor(body.user.id, profile));
    },
    ...extra,
  };

  for (const [actionId, handler] of Object.entries(handlers)) {
    app.action<BlockAction>(actionId, async ({ ack, body, client, respond }) => {
      await ack();
      const end = deps.metrics.handlerSeconds.startTimer({ kind: 'action' });
      const fromHome = body.container?.type === 'view';
      let locale: Locale = deps.defaults.locale;
      const tell = async (text: string) => {
        if (fromHome || !body.response_url) {
          await client.chat.postMessage({ channel: body.user.id, ...textMessage(text) });
        } else {
          await respond({ response_type: 'ephemeral', replace_original: false, ...textMessage(text) });
        }
      };
      const release = await workSlot(deps, tell);
      if (!release) return;
      try {
        const profile = await getProfile(client, deps.store.kv, body.user.id);
        locale = profile.locale ?? locale;
        const { rollout, stepId } = await resolveTarget(deps, body);
        locale = replyLocale(profile, rollout, deps.defaults.locale);
        const result = await handler({ client, body, rollout, stepId, profile, locale, tell }, deps);
        // The card refresh is bounded by its per-card coalescing; it need not hold a work slot (an App Home
        // click keeps it: publishing the Home lists every rollout).
        if (!fromHome) release();
        if (result) {
          if (!result.changed) await tell(`ℹ️ ${render(locale, result.notice, slackUser)}`);
          else if (!(await deps.cards.refreshAfterChange(client, rollout.id))) {
            await tell(`✅ ${render(locale, result.notice, slackUser)}\n${t(locale, 'error.card_not_updated')}`);
          }
        }
        if (fromHome) await publishHome(deps, client, body.user.id, body.team?.id ?? '');
        deps.metrics.actions.inc({ platform: 'slack', action: actionId, outcome: 'ok' });
      } catch (e) {
        deps.metrics.actions.inc({ platform: 'slack', action: actionId, outcome: 'error' });
        const log = deps.logger.child({ action: actionId, user: body.user.id, team: body.team?.id });
        await tell(describeError(e, locale, log, deps.metrics)).catch((err) => log.warn({ err }, 'could not send the error reply'));
        // A refused picker change must snap back to the real owner on the card.
        if (actionId === ACTIONS.assignOwner) await refreshQuietly(deps, client, body);
      } finally {
        release();
        end();
      }
    });
  }

  // Link buttons (the step guide, "open the card") still send an action; acknowledge them so Slack shows no error.
  app.action(new RegExp(`^(${ACTIONS.openHelp}|${ACTIONS.openCard})`), async ({ ack }) => {
    await ack();
  });
}

/** The rollout and step a click is about: from the button value, or (pickers) the block id plus the channel. */
async function resolveTarget(deps: SlackDeps, body: BlockAction): Promise<{ rollout: Rollout; stepId: string }> {
  const action = body.actions[0] as ButtonAction | UsersSelectAction | undefined;
  const ref = decodeStepRef((action as ButtonAction | undefined)?.value);
  const teamId = body.team?.id ?? body.user.team_id ?? '';
  let rolloutId: string | undefined;
  let stepId: string | undefined;
  if (ref) {
    rolloutId = ref.rolloutId;
    stepId = ref.stepId;
  } else if (action?.block_id?.startsWith('step:') && body.channel?.id) {
    stepId = action.block_id.slice('step:'.length);
    rolloutId = `slack:${teamId}:${body.channel.id}`;
  }
  if (!rolloutId || !stepId) throw new BwprepError('bad_usage', { key: 'error.bad_payload' });
  const rollout = await deps.service.get(rolloutId);
  // A payload can only act on rollouts of the workspace it came from.
  if (!rollout || rollout.conversation.workspace !== teamId) throw new BwprepError('bad_usage', { key: 'error.unknown_rollout' });
  deps.service.step(stepId);
  return { rollout, stepId };
}

async function refreshQuietly(deps: SlackDeps, client: webApi.WebClient, body: BlockAction): Promise<void> {
  try {
    const { rollout } = await resolveTarget(deps, body);
    await deps.cards.refresh(client, rollout.id);
  } catch (err) {
    deps.logger.debug({ err }, 'card refresh after a refused change failed');
  }
}
