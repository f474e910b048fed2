import type { CheckReportView } from '../../views/check-report';
import { clip, esc, SLACK_LIMITS } from './limits';
import { sectionsOf } from './messages';
import type { KnownBlock } from './types';

/** The check report: a title with the tally, one line per step (failures first), and the footer. */
export function checkReportBlocks(view: CheckReportView): { text: string; blocks: KnownBlock[] } {
  const lines = view.lines.map((l) => `${l.icon} *${l.step}* ${esc(l.title)}: ${esc(l.summary)}${l.transition ? ` _(${esc(l.transition)})_` : ''}`);
  return {
    text: `${view.title}: ${view.tally}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*${esc(view.title)}* · ${view.tally}`, SLACK_LIMITS.sectionText) } },
      ...sectionsOf(lines),
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(view.footer, SLACK_LIMITS.contextText) }] },
    ],
  };
}
