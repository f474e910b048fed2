import type { HelpView, MineView } from '../../views/text';
import { clip, SLACK_LIMITS } from './limits';
import { esc, escText, mrkdwn } from './mrkdwn';
import type { Rich } from '../../views/rich';
import type { KnownBlock } from './types';

/** Lines as mrkdwn sections, as many as needed to keep each under Slack's 3,000 characters. */
export function sectionsOf(lines: string[]): KnownBlock[] {
  const sections: string[] = [];
  let current = '';
  for (const line of lines) {
    const piece = clip(line, SLACK_LIMITS.sectionText);
    if (current && current.length + piece.length + 1 > SLACK_LIMITS.sectionText) {
      sections.push(current);
      current = '';
    }
    current = current ? `${current}\n${piece}` : piece;
  }
  if (current) sections.push(current);
  return sections.map((text): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } }));
}

/** A short message (notice, error with usage) as text + one section. `text` is mrkdwn already. */
export function textMessage(text: string): { text: string; blocks: KnownBlock[] } {
  return { text: clip(text, SLACK_LIMITS.fallbackText), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, SLACK_LIMITS.sectionText) } }] };
}

export function helpBlocks(view: HelpView): { text: string; blocks: KnownBlock[] } {
  return {
    text: esc(view.title),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*${escText(view.title)}*`, SLACK_LIMITS.sectionText) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(view.lines.map((l) => `• ${mrkdwn(l)}`).join('\n'), SLACK_LIMITS.sectionText) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(mrkdwn(view.intro), SLACK_LIMITS.contextText) }] },
    ],
  };
}

export function mineBlocks(view: MineView): { text: string; blocks: KnownBlock[] } {
  // Owners see what each step asks of them, in our own words, under its line.
  const lines = view.empty ? [escText(view.empty)] : view.lines.map((l) => `${mrkdwn(l.text)}\n>${escText(l.description)}`);
  return {
    text: esc(view.title),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(`*${escText(view.title)}*`, SLACK_LIMITS.sectionText) } }, ...sectionsOf(lines)],
  };
}

/** Rich lines (a notice with its usage line) as one message. */
export function richMessage(lines: Rich[]): { text: string; blocks: KnownBlock[] } {
  return textMessage(lines.map(mrkdwn).join('\n'));
}
