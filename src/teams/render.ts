/**
 * Interim text renderer for Teams messages (Teams renders a subset of Markdown in message text:
 * `**bold**`, `` `code` ``, `- ` lists). The shared usage strings still spell Slack's `/bwprep <sub>`;
 * in Teams a command is `@bwprep <sub>` in a channel or group chat and plain `<sub>` in a personal chat,
 * so the prefix is rewritten here until the views carry structured command parts.
 */
import type { Activity } from 'botbuilder';
import type { HelpView } from '../views/text';

export interface RenderContext {
  /** A personal (1:1) chat: commands need no mention. */
  personal: boolean;
}

/** `/bwprep status` → `@bwprep status` (channel, group chat) or `status` (personal chat). */
export function teamsCommandSpelling(text: string, ctx: RenderContext): string {
  return text.replace(/\/bwprep(\s+|(?=`))/g, ctx.personal ? '' : '@bwprep$1');
}

/** Characters Teams Markdown would read as formatting in free text (user input echoed back). */
function escapeMarkdown(s: string): string {
  return s.replace(/([\\*_~`[\]<>#])/g, '\\$1');
}

export function renderHelp(view: HelpView, ctx: RenderContext): Partial<Activity> {
  const lines = view.lines.map((l) => `- ${teamsCommandSpelling(l, ctx)}`);
  return {
    type: 'message',
    textFormat: 'markdown',
    text: [`**${escapeMarkdown(view.title)}**`, escapeMarkdown(view.intro), lines.join('\n')].join('\n\n'),
  };
}

/** One short message, optionally followed by the usage line of the command that failed. */
export function renderNotice(text: string, usage?: string, ctx: RenderContext = { personal: false }): Partial<Activity> {
  return {
    type: 'message',
    textFormat: 'markdown',
    text: usage ? `${escapeMarkdown(text)}\n\n${teamsCommandSpelling(usage, ctx)}` : escapeMarkdown(text),
  };
}
