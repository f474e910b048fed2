/**
 * Teams renderers of the shared view models: the living checklist and the digest as Adaptive Cards (schema 1.5, the
 * highest Teams supports on every client), everything else as Teams message Markdown (`**bold**`, `_it_`,
 * `` `code` ``, `[label](url)`, `- ` lists). Commands are spelled `@bwprep <sub>` in a channel or group chat
 * and bare in a personal chat. Pure functions: view model in, activity out.
 */
import type { Activity, Attachment } from 'botbuilder';
import { t } from '../i18n';
import type { NoticeTone } from '../interactions/ports';
import { ACTIONS, encodeStepRef } from '../views/actions';
import type { CheckReportView } from '../views/check-report';
import type { ChecklistView, StepView } from '../views/checklist';
import type { DigestView } from '../views/digest';
import type { ReminderView } from '../views/reminder';
import type { Rich } from '../views/rich';
import type { HelpView, MineView } from '../views/text';

export interface RenderContext {
  /** A personal (1:1) chat: commands need no mention. */
  personal: boolean;
  /** How a person shows (their name from the directory); default their id. */
  userName?: (key: string) => string | undefined;
}

/** Characters Teams Markdown would read as formatting in free text. */
export function escapeMarkdown(s: string): string {
  return s.replace(/([\\*_~`[\]<>#|])/g, '\\$1');
}

/** Structured text → Teams Markdown (message text and Adaptive Card TextBlocks share this subset). */
export function teamsMarkdown(r: Rich, ctx: RenderContext): string {
  let s = '';
  for (const x of r) {
    if (typeof x === 'string') s += escapeMarkdown(x);
    else if ('strong' in x) s += `**${teamsMarkdown(x.strong, ctx)}**`;
    else if ('em' in x) s += `_${teamsMarkdown(x.em, ctx)}_`;
    else if ('code' in x) s += `\`${x.code.replace(/`/g, 'ˋ')}\``;
    else if ('command' in x) s += `\`${(ctx.personal ? x.command : `@bwprep ${x.command}`).trim().replace(/`/g, 'ˋ')}\``;
    else if ('user' in x) s += escapeMarkdown(ctx.userName?.(x.user) ?? x.user.replace(/^[a-z]+:/, ''));
    else if ('conversation' in x) s += escapeMarkdown(x.conversation.name ? `#${x.conversation.name}` : x.conversation.channel);
    else if ('link' in x) s += `[${teamsMarkdown(x.label, ctx)}](${x.link.replace(/[()]/g, encodeURIComponent)})`;
  }
  return s;
}

const TONE_ICON: Record<NoticeTone, string> = { ok: '✅', info: 'ℹ️', warn: '⚠️', refused: '⚠️', wait: '⏳', snooze: '💤', fail: '❌' };

const message = (text: string): Partial<Activity> => ({ type: 'message', textFormat: 'markdown', text });

/** A notice: the tone's icon, then each line. */
export function renderNotice(tone: NoticeTone, lines: Rich[], ctx: RenderContext): Partial<Activity> {
  return message(lines.map((l, i) => (i ? teamsMarkdown(l, ctx) : `${TONE_ICON[tone]} ${teamsMarkdown(l, ctx)}`)).join('\n\n'));
}

/** The same notice as plain text (an invoke answer Teams shows only to the person who clicked). */
export function noticeText(tone: NoticeTone, lines: Rich[], ctx: RenderContext): string {
  return renderNotice(tone, lines, ctx).text ?? '';
}

export function renderHelp(view: HelpView, ctx: RenderContext): Partial<Activity> {
  return message(
    [`**${escapeMarkdown(view.title)}**`, view.lines.map((l) => `- ${teamsMarkdown(l, ctx)}`).join('\n'), teamsMarkdown(view.intro, ctx)].join('\n\n'),
  );
}

export function renderMine(view: MineView, ctx: RenderContext): Partial<Activity> {
  const body = view.empty
    ? escapeMarkdown(view.empty)
    : view.lines.map((l) => `- ${teamsMarkdown(l.text, ctx)}  \n  _${escapeMarkdown(l.description)}_`).join('\n');
  return message(`**${escapeMarkdown(view.title)}**\n\n${body}`);
}

export function renderCheckReport(view: CheckReportView, ctx: RenderContext): Partial<Activity> {
  const lines = view.lines.map(
    (l) =>
      `- ${l.icon} **${escapeMarkdown(l.step)}** ${escapeMarkdown(l.title)}: ${teamsMarkdown(l.summary, ctx)}${l.transition ? ` _(${escapeMarkdown(l.transition)})_` : ''}`,
  );
  return message([`**${escapeMarkdown(view.title)}** · ${escapeMarkdown(view.tally)}`, lines.join('\n'), teamsMarkdown(view.footer, ctx)].join('\n\n'));
}

/**
 * The id of the scheduled digest's first card element: `bwprep-digest|<rolloutId>|<slot>`. Microsoft Graph
 * returns a bot's Adaptive Card as the attachment's serialized JSON (chatMessageAttachment.content,
 * learn.microsoft.com/graph/teams-messaging-overview), so the scheduler's lookup (graph.ts) finds this id
 * in the channel after a crash between claim and record. A preview carries none: it is no slot's digest.
 */
export const digestMarker = (rolloutId: string, slot: string): string => `bwprep-digest|${rolloutId}|${slot}`;

/**
 * The digest as an Adaptive Card: title, notices, summary lines, one block per section, footer. A scheduled
 * digest (a slot, not a preview) carries {@link digestMarker} as the title's id; `summary` is what Teams
 * shows in a notification.
 */
export function renderDigest(view: DigestView, ctx: RenderContext): Partial<Activity> {
  const m = view.model;
  const marker = m.slot && !m.preview ? { id: digestMarker(m.rolloutId, m.slot) } : {};
  const body: Element[] = [text(`**${escapeMarkdown(view.title)}**`, { size: 'Medium', ...marker })];
  for (const n of view.notices) body.push(text(teamsMarkdown(n, ctx), { color: 'Attention' }));
  body.push(text(view.lines.map((l) => teamsMarkdown(l, ctx)).join('\n\n'), { spacing: 'Small' }));
  for (const s of view.sections) {
    body.push(text(`**${escapeMarkdown(s.title)}**`, { separator: true }));
    body.push(text(s.items.map((i) => `- ${teamsMarkdown(i.text, ctx)}`).join('\n'), { spacing: 'Small' }));
  }
  body.push(text(teamsMarkdown(view.footer, ctx), { isSubtle: true, separator: true }));
  return { type: 'message', summary: view.fallbackText, attachments: [adaptiveCard(body, { msteams: { width: 'Full' } })] };
}

export function renderReminder(view: ReminderView, ctx: RenderContext): Partial<Activity> {
  const items = view.items.map((i) => `- ${teamsMarkdown(i.text, ctx)}${i.channelLabel ? ` _(${escapeMarkdown(i.channelLabel)})_` : ''}`);
  return message([`**${escapeMarkdown(view.title)}**`, items.join('\n'), escapeMarkdown(view.footer)].join('\n\n'));
}

// ---- the living checklist as an Adaptive Card ---------------------------------------------------------

export const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';

/** The Graph dataset Teams' people picker searches (the people of the current conversation). */
const PEOPLE_DATASET = 'graph.microsoft.com/users?scope=currentContext';

export interface CardOptions extends RenderContext {
  /** The conversation's members (from the roster), offered as static choices beside the dynamic search. */
  people?: { key: string; name: string }[];
  /** Show "checking…" under the readiness line (a check run in progress). */
  checking?: boolean;
}

type Element = Record<string, unknown>;

const text = (value: string, extra: Element = {}): Element => ({ type: 'TextBlock', text: value, wrap: true, ...extra });

function stepElements(view: ChecklistView, s: StepView, o: CardOptions): Element[] {
  const ref = encodeStepRef(view.rolloutId, s.id);
  const owner = s.owner ? escapeMarkdown(o.userName?.(s.owner) ?? s.owner.replace(/^[a-z]+:/, '')) : `_${escapeMarkdown(view.labels.unassigned)}_`;
  const facts = s.excluded
    ? [escapeMarkdown(s.stateLabel), ...s.details.map((d) => teamsMarkdown(d, o))]
    : [escapeMarkdown(s.stateLabel), owner, escapeMarkdown(s.dueLabel), escapeMarkdown(s.hoursLabel)];
  if (s.doneByLine) facts.push(teamsMarkdown(s.doneByLine, o));
  const body: Element[] = [
    text(`${s.icon} **${escapeMarkdown(s.id)}** ${escapeMarkdown(s.title)}`, { weight: 'Bolder' }),
    text(facts.join(' · '), { spacing: 'None', isSubtle: true }),
  ];
  if (!s.excluded && s.details.length) body.push(text(s.details.map((d) => teamsMarkdown(d, o)).join(' · '), { spacing: 'None' }));
  if (s.lastCheck)
    body.push(text(`${s.lastCheck.icon} ${teamsMarkdown(s.lastCheck.summary, o)} _(${escapeMarkdown(s.lastCheck.when)})_`, { spacing: 'None', size: 'Small' }));
  else if (s.neverChecked) body.push(text(`🔍 _${escapeMarkdown(s.neverChecked)}_`, { spacing: 'None', size: 'Small' }));
  const actions: Element[] = [];
  const exec = (verb: string, title: string, style?: string): Element => ({ type: 'Action.Execute', verb, title, data: { ref }, ...(style ? { style } : {}) });
  if (s.actions.done) actions.push(exec(ACTIONS.markDone, view.labels.done, 'positive'));
  if (s.actions.reopen) actions.push(exec(ACTIONS.reopenStep, view.labels.reopen));
  if (s.actions.check) actions.push(exec(ACTIONS.runCheck, view.labels.check));
  actions.push({ type: 'Action.OpenUrl', title: `📖 ${view.labels.help}`, url: s.helpUrl });
  if (s.actions.assign) {
    const choices = (o.people ?? []).map((p) => ({ title: p.name, value: p.key }));
    // Microsoft's parser rejects a choice set without choices; the owner then stands in as the only one.
    if (!choices.length && s.owner) choices.push({ title: o.userName?.(s.owner) ?? s.owner.replace(/^[a-z]+:/, ''), value: s.owner });
    if (!choices.length) choices.push({ title: view.labels.unassigned, value: '' });
    body.push({
      type: 'ColumnSet',
      columns: [
        {
          type: 'Column',
          width: 'stretch',
          items: [
            {
              type: 'Input.ChoiceSet',
              id: `owner:${s.id}`,
              placeholder: view.labels.assignPlaceholder,
              style: 'filtered',
              choices,
              'choices.data': { type: 'Data.Query', dataset: PEOPLE_DATASET },
              ...(s.owner ? { value: s.owner } : {}),
            },
          ],
        },
        {
          type: 'Column',
          width: 'auto',
          items: [
            {
              type: 'ActionSet',
              actions: [{ type: 'Action.Execute', verb: ACTIONS.assignOwner, title: view.labels.owner, data: { ref }, associatedInputs: 'auto' }],
            },
          ],
        },
      ],
    });
  }
  body.push({ type: 'ActionSet', actions });
  return [{ type: 'Container', separator: true, items: body }];
}

/** The living checklist card (Adaptive Card 1.5): readiness, each step with its buttons and owner picker. */
export function checklistCard(view: ChecklistView, o: CardOptions): Attachment {
  const body: Element[] = [
    text(escapeMarkdown(view.title), { size: 'Large', weight: 'Bolder' }),
    text(teamsMarkdown(view.readinessLine, o)),
    text(escapeMarkdown(view.subtitle), { isSubtle: true, spacing: 'None' }),
  ];
  if (view.linkedLine) body.push(text(teamsMarkdown(view.linkedLine, o), { isSubtle: true, spacing: 'None' }));
  if (o.checking) body.push(text(`⏳ ${escapeMarkdown(t(view.locale, 'card.checking'))}`, { weight: 'Bolder' }));
  for (const phase of view.phases) {
    body.push(text(`**${escapeMarkdown(phase.title)}**`, { spacing: 'Large' }));
    for (const s of phase.steps) body.push(...stepElements(view, s, o));
  }
  body.push(text(teamsMarkdown(view.footer, o), { isSubtle: true, size: 'Small' }));
  return adaptiveCard(body, { msteams: { width: 'Full' } });
}

/** An Adaptive Card attachment (schema 1.5, the highest every Teams client renders) with `body` and extras. */
export function adaptiveCard(body: Element[], extra: Record<string, unknown> = {}): Attachment {
  return {
    contentType: ADAPTIVE_CARD,
    content: { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.5', ...extra, body },
  };
}

/** A card replaced by a newer one: one line. */
export function retiredCard(locale: ChecklistView['locale']): Attachment {
  return adaptiveCard([text(`_${escapeMarkdown(t(locale, 'card.retired'))}_`, { isSubtle: true })]);
}
