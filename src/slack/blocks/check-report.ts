import type { CheckReportView } from '../../views/check-report';
import { clip, esc, SLACK_LIMITS } from './limits';
import type { KnownBlock } from './types';

/** The check report: a title with the tally, one line per step (failures first), and the footer. */
export function checkReportBlocks(view: CheckReportView): { text: string; blocks: KnownBlock[] } {
  const lines = view.lines.map((l) => `${l.icon} *${l.step}* ${esc(l.title)}: ${esc(l.summary)}${l.transition ? ` _(${esc(l.transition)})_` : ''}`);
  // Sections hold 3,000 characters: split the lines over as many sections as needed.
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
  return {
    text: `${view.title}: ${view.tally}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*${esc(view.title)}* · ${view.tally}`, SLACK_LIMITS.sectionText) } },
      ...sections.map((text): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } })),
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(view.footer, SLACK_LIMITS.contextText) }] },
    ],
  };
}
