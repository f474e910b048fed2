import type { KnownBlock } from './types';
import { ACTIONS, encodeStepRef } from '../../views/actions';
import type { ChecklistView, StepView } from '../../views/checklist';
import { clip, SLACK_LIMITS } from './limits';
import { esc, escText, mrkdwn, slackUser } from './mrkdwn';
import { plainText } from '../../views/rich';

/** The living checklist card as Block Kit: ≤ 50 blocks, every text inside Slack's limits. */
export function checklistBlocks(view: ChecklistView): KnownBlock[] {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(view.title, SLACK_LIMITS.headerText), emoji: true } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(mrkdwn(view.readinessLine), SLACK_LIMITS.sectionText) },
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(escText(view.subtitle), SLACK_LIMITS.contextText) }] },
  ];
  if (view.linkedLine) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(mrkdwn(view.linkedLine), SLACK_LIMITS.contextText) }] });
  for (const phase of view.phases) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(`*${escText(phase.title)}*`, SLACK_LIMITS.contextText) }] });
    for (const step of phase.steps) blocks.push(...stepBlocks(view, step));
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(mrkdwn(view.footer), SLACK_LIMITS.contextText) }] });
  return blocks;
}

function stepText(view: ChecklistView, s: StepView): string {
  const owner = s.owner ? slackUser(s.owner) : `_${escText(view.labels.unassigned)}_`;
  const head = `${s.icon} *${escText(s.id)}* ${escText(s.title)}`;
  const facts = s.excluded ? [escText(s.stateLabel), ...s.details.map(mrkdwn)] : [escText(s.stateLabel), owner, escText(s.dueLabel), escText(s.hoursLabel)];
  // A claim stays visible, also when the check now fails (the claim is flagged, never erased).
  if (s.doneByLine) facts.push(mrkdwn(s.doneByLine));
  const lines = [head, facts.join(' · ')];
  if (!s.excluded && s.details.length) lines.push(s.details.map(mrkdwn).join(' · '));
  if (s.lastCheck) lines.push(`${s.lastCheck.icon} ${mrkdwn(s.lastCheck.summary)} _(${escText(s.lastCheck.when)})_`);
  else if (s.neverChecked) lines.push(`🔍 _${escText(s.neverChecked)}_`);
  return clip(lines.join('\n'), SLACK_LIMITS.sectionText);
}

function stepBlocks(view: ChecklistView, s: StepView): KnownBlock[] {
  const ref = encodeStepRef(view.rolloutId, s.id);
  const section: KnownBlock = {
    type: 'section',
    block_id: `step:${s.id}`,
    text: { type: 'mrkdwn', text: stepText(view, s) },
  };
  if (s.actions.assign) {
    section.accessory = {
      type: 'users_select',
      action_id: ACTIONS.assignOwner,
      placeholder: { type: 'plain_text', text: clip(view.labels.assignPlaceholder, SLACK_LIMITS.buttonText) },
      ...(s.owner?.startsWith('slack:') ? { initial_user: s.owner.slice(6) } : {}),
    };
  }
  if (s.excluded && !s.actions.reopen) return [section];
  const elements: NonNullable<Extract<KnownBlock, { type: 'actions' }>['elements']> = [];
  if (s.actions.done) {
    elements.push({
      type: 'button',
      action_id: ACTIONS.markDone,
      value: ref,
      style: 'primary',
      text: { type: 'plain_text', text: clip(view.labels.done, SLACK_LIMITS.buttonText) },
    });
  }
  if (s.actions.reopen) {
    elements.push({
      type: 'button',
      action_id: ACTIONS.reopenStep,
      value: ref,
      text: { type: 'plain_text', text: clip(view.labels.reopen, SLACK_LIMITS.buttonText) },
    });
  }
  if (s.actions.check) {
    elements.push({
      type: 'button',
      action_id: ACTIONS.runCheck,
      value: ref,
      text: { type: 'plain_text', text: clip(view.labels.check, SLACK_LIMITS.buttonText) },
    });
  }
  elements.push({
    type: 'button',
    action_id: `${ACTIONS.openHelp}:${s.id}`,
    url: s.helpUrl,
    text: { type: 'plain_text', text: clip(`📖 ${view.labels.help}`, SLACK_LIMITS.buttonText), emoji: true },
  });
  return [section, { type: 'actions', block_id: `actions:${s.id}`, elements }];
}

/** Plain-text fallback for notifications and screen readers. */
export function checklistFallback(view: ChecklistView): string {
  // The top-level `text` is read as mrkdwn too: escaped once, like every other text we send.
  return clip(esc(`${view.title}: ${plainText(view.readinessLine, { command: (c) => `/bwprep ${c}` })}`), SLACK_LIMITS.fallbackText);
}
