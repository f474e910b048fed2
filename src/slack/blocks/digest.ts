import type { DigestView } from '../../views/digest';
import type { ReminderView } from '../../views/reminder';
import { ACTIONS } from '../../views/actions';
import { clip, SLACK_LIMITS } from './limits';
import { esc, escText, mrkdwn } from './mrkdwn';
import type { ActionsElement, KnownBlock } from './types';

/** The daily digest: title, markers (preview, late, checks failed), figures, sections, a link to the card. */
export function digestBlocks(view: DigestView, cardPermalink?: string): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: clip(view.title, SLACK_LIMITS.headerText), emoji: true } }];
  if (view.notices.length) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(view.notices.map(mrkdwn).join('\n'), SLACK_LIMITS.contextText) }] });
  }
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(view.lines.map(mrkdwn).join('\n'), SLACK_LIMITS.sectionText) } });
  for (const s of view.sections) {
    const body = s.items.map((i) => `• ${mrkdwn(i.text)}`).join('\n');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*${escText(s.title)}*\n${body}`, SLACK_LIMITS.sectionText) } });
  }
  if (cardPermalink) {
    blocks.push({
      type: 'actions',
      block_id: 'digest:links',
      elements: [
        {
          type: 'button',
          action_id: `${ACTIONS.openCard}:digest`,
          url: cardPermalink,
          text: { type: 'plain_text', text: clip(view.openCardLabel, SLACK_LIMITS.buttonText) },
        },
      ],
    });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(mrkdwn(view.footer), SLACK_LIMITS.contextText) }] });
  return { text: clip(esc(view.fallbackText), SLACK_LIMITS.fallbackText), blocks: blocks.slice(0, SLACK_LIMITS.messageBlocks) };
}

/** A reminder DM: one section per step with Done / Snooze a day / Open the card. */
export function reminderBlocks(view: ReminderView, permalinks: Record<string, string | undefined> = {}): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(`*${escText(view.title)}*`, SLACK_LIMITS.sectionText) } }];
  // Each item takes two blocks; keep room for the title and the footer.
  for (const item of view.items.slice(0, Math.floor((SLACK_LIMITS.messageBlocks - 2) / 2))) {
    const text = item.channelLabel ? `${mrkdwn(item.text)}\n_${escText(item.channelLabel)}_` : mrkdwn(item.text);
    blocks.push({ type: 'section', block_id: `reminder:${item.buttons.done.value}`, text: { type: 'mrkdwn', text: clip(text, SLACK_LIMITS.sectionText) } });
    const elements: ActionsElement[] = [
      {
        type: 'button',
        action_id: item.buttons.done.actionId,
        value: item.buttons.done.value,
        style: 'primary',
        text: { type: 'plain_text', text: clip(item.buttons.done.label, SLACK_LIMITS.buttonText) },
      },
      {
        type: 'button',
        action_id: item.buttons.snooze.actionId,
        value: item.buttons.snooze.value,
        text: { type: 'plain_text', text: clip(item.buttons.snooze.label, SLACK_LIMITS.buttonText) },
      },
    ];
    const link = permalinks[item.rolloutId];
    if (link) {
      elements.push({
        type: 'button',
        action_id: `${ACTIONS.openCard}:${item.stepId}`,
        url: link,
        text: { type: 'plain_text', text: clip(item.buttons.open.label, SLACK_LIMITS.buttonText) },
      });
    }
    blocks.push({ type: 'actions', block_id: `reminder-actions:${item.buttons.done.value}`, elements });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(escText(view.footer), SLACK_LIMITS.contextText) }] });
  return { text: clip(esc(view.fallbackText), SLACK_LIMITS.fallbackText), blocks };
}
