import { snoozeDate } from '../../core/digest/reminders';
import { BwprepError } from '../../core/errors';
import { render, t } from '../../i18n';
import type { SlackDeps } from '../app';
import { slackUser } from '../blocks/limits';
import { slackActor } from '../context';
import type { StepAction } from './actions';
import type { Delegate } from './command';

/** `/bwprep digest`: runs the checks and posts a digest now, marked as a preview. */
export function digestDelegate(deps: SlackDeps): Delegate {
  return async ({ rollout, actor, locale, ephemeral }) => {
    if (!deps.scheduler) throw new BwprepError('unknown_command', { key: 'error.not_available', vars: { command: 'digest' } });
    await ephemeral(`⏳ ${t(locale, 'digest.preview_started')}`);
    await deps.scheduler.previewDigest(rollout.id, actor);
  };
}

/** "Snooze a day" on a reminder: no reminder for this step until the day after tomorrow. */
export const snoozeAction: StepAction = async ({ rollout, stepId, body, profile, locale, tell }, deps) => {
  const until = snoozeDate(deps.clock.now(), rollout);
  const result = await deps.service.snooze(rollout.id, stepId, until, slackActor(body.user.id, profile));
  // The card does not show snoozes, so only the owner hears about it.
  await tell(`💤 ${render(locale, result.notice, slackUser)}`);
};
