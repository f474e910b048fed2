import type { CheckReportView } from '../../views/check-report';
import { clip, SLACK_LIMITS } from './limits';
import { escText, mrkdwn } from './mrkdwn';
import { sectionsOf } from './messages';
import type { KnownBlock } from './types';

/** The check report: a title with the tally, one line per step (failures first), and the footer. */
export function checkReportBlocks(view: CheckReportView): { text: string; blocks: KnownBlock[] } {
  const lines = view.lines.map(
    (l) => `${l.icon} *${escText(l.step)}* ${escText(l.title)}: ${mrkdwn(l.summary)}${l.transition ? ` _(${escText(l.transition)})_` : ''}`,
  );
  return {
    text: `${view.title}: ${view.tally}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*${escText(view.title)}* · ${escText(view.tally)}`, SLACK_LIMITS.sectionText) } },
      ...sectionsOf(lines),
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(mrkdwn(view.footer), SLACK_LIMITS.contextText) }] },
    ],
  };
}
