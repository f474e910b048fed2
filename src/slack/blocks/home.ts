import { ACTIONS, encodeStepRef } from '../../views/actions';
import type { HomeView } from '../../views/home';
import { clip, esc, SLACK_LIMITS } from './limits';
import type { KnownBlock, View } from './types';

/** App Home tab (≤ 100 blocks): my steps with buttons, then the rollouts with their readiness. */
export function homeView(view: HomeView): View {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(view.title, SLACK_LIMITS.headerText), emoji: true } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(view.intro, SLACK_LIMITS.contextText) }] },
    { type: 'section', text: { type: 'mrkdwn', text: `*${esc(view.myStepsTitle)}*` } },
  ];
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
      const lines = [`${s.icon} *${s.id}* ${esc(s.title)} · <#${r.channel}>`, [s.stateLabel, s.dueLabel, s.hoursLabel].join(' · '), `_${esc(s.description)}_`];
      const block: KnownBlock = { type: 'section', block_id: `home:${ref}`, text: { type: 'mrkdwn', text: clip(lines.join('\n'), SLACK_LIMITS.sectionText) } };
      if (s.actions.done) {
        block.accessory = { type: 'button', action_id: ACTIONS.markDone, value: ref, style: 'primary', text: { type: 'plain_text', text: clip(view.labels.done, SLACK_LIMITS.buttonText) } };
      } else if (s.actions.reopen) {
        block.accessory = { type: 'button', action_id: ACTIONS.reopenStep, value: ref, text: { type: 'plain_text', text: clip(view.labels.reopen, SLACK_LIMITS.buttonText) } };
      }
      blocks.push(block);
      used++;
    }
  }
  if (!withSteps.length) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(view.noSteps, SLACK_LIMITS.contextText) }] });
  if (hidden) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `+${hidden}` }] });
  blocks.push({ type: 'divider' });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${esc(view.rolloutsTitle)}*` } });
  if (!view.rollouts.length) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(view.noRollouts, SLACK_LIMITS.contextText) }] });
  }
  for (const r of view.rollouts.slice(0, SLACK_LIMITS.homeBlocks - blocks.length)) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`<#${r.channel}> · _${esc(r.role)}_\n${r.readinessLine}`, SLACK_LIMITS.sectionText) },
    });
  }
  return { type: 'home', blocks: blocks.slice(0, SLACK_LIMITS.homeBlocks) };
}
