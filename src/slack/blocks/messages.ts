import type { HelpView, MineView } from '../../views/text';
import { clip, esc, SLACK_LIMITS } from './limits';
import type { KnownBlock } from './types';

/** A short message (notice, error with usage) as text + one section. */
export function textMessage(text: string): { text: string; blocks: KnownBlock[] } {
  return { text: clip(text, SLACK_LIMITS.fallbackText), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, SLACK_LIMITS.sectionText) } }] };
}

export function helpBlocks(view: HelpView): { text: string; blocks: KnownBlock[] } {
  return {
    text: view.title,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*${esc(view.title)}*`, SLACK_LIMITS.sectionText) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(view.lines.map((l) => `• ${l}`).join('\n'), SLACK_LIMITS.sectionText) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(view.intro, SLACK_LIMITS.contextText) }] },
    ],
  };
}

export function mineBlocks(view: MineView): { text: string; blocks: KnownBlock[] } {
  const body = view.empty ?? view.lines.map((l) => l.text).join('\n');
  return {
    text: view.title,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*${esc(view.title)}*`, SLACK_LIMITS.sectionText) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(body, SLACK_LIMITS.sectionText) } },
    ],
  };
}
