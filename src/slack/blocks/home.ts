import { ACTIONS, encodeStepRef } from '../../views/actions';
import type { HomeView } from '../../views/home';
import type { Rich } from '../../views/rich';
import { clip, SLACK_LIMITS } from './limits';
import { escText, mrkdwn } from './mrkdwn';
import type { KnownBlock, View } from './types';

/** App Home tab (≤ 100 blocks): my steps with buttons, then the rollouts with their readiness. */
export function homeView(view: HomeView & { notices?: Rich[] }): View {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(view.title, SLACK_LIMITS.headerText), emoji: true } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(mrkdwn(view.intro), SLACK_LIMITS.contextText) }] },
  ];
  // Rollout admins: conversations bwprep cannot post in (digest paused), with what to do. At most five.
  for (const [i, n] of (view.notices ?? []).slice(0, 5).entries()) {
    blocks.push({ type: 'section', block_id: `home:notice:${i}`, text: { type: 'mrkdwn', text: clip(`⚠️ ${mrkdwn(n)}`, SLACK_LIMITS.sectionText) } });
  }
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${escText(view.myStepsTitle)}*` } });
  // Reserve room for the rollouts list (2 blocks each + title) and a divider.
  const reserve = 3 + Math.min(view.rollouts.length, 20) * 1;
  const budget = SLACK_LIMITS.homeBlocks - blocks.length - reserve;
  let used = 0;
  let hidden = 0;
  const withSteps = view.rollouts.filter((r) => r.steps.length);
  for (const r of withSteps) {
    for (const s of r.steps) {
      if (used + 1 > budget) {
        hidden++;
        continue;
      }
      const ref = encodeStepRef(r.rolloutId, s.id);
      const lines = [
        `${s.icon} *${escText(s.id)}* ${escText(s.title)} · ${mrkdwn([{ conversation: r.conversation }])}`,
        escText([s.stateLabel, s.dueLabel, s.hoursLabel].join(' · ')),
        `_${escText(s.description)}_`,
      ];
      const block: KnownBlock = { type: 'section', block_id: `home:${ref}`, text: { type: 'mrkdwn', text: clip(lines.join('\n'), SLACK_LIMITS.sectionText) } };
      if (s.actions.done) {
        block.accessory = {
          type: 'button',
          action_id: ACTIONS.markDone,
          value: ref,
          style: 'primary',
          text: { type: 'plain_text', text: clip(view.labels.done, SLACK_LIMITS.buttonText) },
        };
      } else if (s.actions.reopen) {
        block.accessory = {
          type: 'button',
          action_id: ACTIONS.reopenStep,
          value: ref,
          text: { type: 'plain_text', text: clip(view.labels.reopen, SLACK_LIMITS.buttonText) },
        };
      }
      blocks.push(block);
      used++;
    }
  }
  if (!withSteps.length) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(escText(view.noSteps), SLACK_LIMITS.contextText) }] });
  if (hidden) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `+${hidden}` }] });
  blocks.push({ type: 'divider' });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${escText(view.rolloutsTitle)}*` } });
  if (!view.rollouts.length) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(escText(view.noRollouts), SLACK_LIMITS.contextText) }] });
  }
  for (const r of view.rollouts.slice(0, SLACK_LIMITS.homeBlocks - blocks.length)) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(`${mrkdwn([{ conversation: r.conversation }])} · _${escText(r.role)}_\n${mrkdwn(r.readinessLine)}`, SLACK_LIMITS.sectionText),
      },
    });
  }
  return { type: 'home', blocks: blocks.slice(0, SLACK_LIMITS.homeBlocks) };
}
