import stringWidth from 'string-width';
import type { Locale, Message, UserKey } from '../core/checklist/model';
import { formatDate, renderRich, t, tr } from '../i18n';
import type { NoticeTone } from '../interactions/ports';
import type { CheckReportView } from '../views/check-report';
import { type ChecklistView, STATE_ICON, type StepView } from '../views/checklist';
import { type DigestView, digestText } from '../views/digest';
import type { ReminderView } from '../views/reminder';
import { plainText, type Rich } from '../views/rich';
import type { HelpView, MineView } from '../views/text';

/**
 * The third renderer of the shared view models (beside Block Kit and Adaptive Cards): plain text for a
 * terminal, aligned in columns, no Slack mrkdwn. Everything here is pure: view model in, string out.
 */

export interface TextOptions {
  /** Terminal width to fit, in cells (default 80). */
  width?: number;
  /** How a UserKey is shown (default: `cli:alice` → `@alice`, other platforms as their key). */
  formatUser?: (key: UserKey) => string;
}

export const DEFAULT_WIDTH = 80;
const INDENT = '  ';
const GAP = '  ';

/** `cli:alice` → `@alice`; a Slack or Teams key stays as it is, so it is clear whose it is. */
export function consoleUser(key: UserKey): string {
  return key.startsWith('cli:') ? `@${key.slice(4)}` : key;
}

/**
 * Structured text → terminal text: no markup to strip, so a user's `*412*` stays `*412*`. Commands show
 * bare (in the terminal they are typed without a prefix), people as `@name`.
 */
export function plain(text: string | Rich, user: (key: UserKey) => string = consoleUser): string {
  return typeof text === 'string' ? text : plainText(text, { user });
}

// ---- display width -------------------------------------------------------------------------------

// string-width measures what a terminal draws: East Asian wide characters and emoji (with their
// variation selectors and ZWJ sequences) as two cells, combining marks as none, from the current Unicode
// tables — a hand-kept list of code point ranges went stale with every Unicode release.
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Terminal cells a string takes (string-width: emoji and CJK two, combining marks none). */
export function displayWidth(s: string): number {
  return stringWidth(s);
}

/** Cuts to at most `max` cells at a grapheme boundary, with an ellipsis when cut. */
export function truncate(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  if (max <= 0) return '';
  let out = '';
  let w = 0;
  for (const { segment } of graphemes.segment(s)) {
    const cw = stringWidth(segment);
    if (w + cw > max - 1) break;
    out += segment;
    w += cw;
  }
  return `${out.trimEnd()}…`;
}

/** Splits a word wider than `max` cells into pieces that fit (nothing is dropped). */
function split(word: string, max: number): string[] {
  const out: string[] = [];
  let piece = '';
  for (const { segment } of graphemes.segment(word)) {
    if (piece && displayWidth(piece) + stringWidth(segment) > max) {
      out.push(piece);
      piece = '';
    }
    piece += segment;
  }
  if (piece) out.push(piece);
  return out;
}

function padEnd(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

/** Word-wraps to lines of at most `width` cells; a word longer than a line is split, never cut. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && displayWidth(line) + 1 + displayWidth(word) <= width) {
      line += ` ${word}`;
      continue;
    }
    if (line) lines.push(line);
    const pieces = displayWidth(word) > width ? split(word, width) : [word];
    lines.push(...pieces.slice(0, -1));
    line = pieces[pieces.length - 1] ?? '';
  }
  if (line || !lines.length) lines.push(line);
  return lines;
}

/** Wraps `text` with `first` before its first line and `rest` before the others. */
export function hang(text: string, width: number, first: string, rest: string = ' '.repeat(displayWidth(first))): string[] {
  return wrap(text, width - displayWidth(first)).map((l, i) => (i ? rest : first) + l);
}

/** Wraps and indents every line. */
function block(text: string, width: number, indent: string): string[] {
  return wrap(text, width - indent.length).map((l) => indent + l);
}

// ---- checklist -------------------------------------------------------------------------------------

interface Row {
  icon: string;
  id: string;
  title: string;
  owner: string;
  due: string;
  state: string;
  check: string;
  details: string[];
}

function row(view: ChecklistView, s: StepView, user: (k: UserKey) => string): Row {
  const details: (string | Rich)[] = [];
  if (s.overdue) details.push(s.dueLabel);
  details.push(...s.details);
  if (s.doneByLine) details.push(s.doneByLine);
  if (s.lastCheck)
    details.push(`${t(view.locale, 'card.last_check', { when: s.lastCheck.when, status: s.lastCheck.label })} — ${plain(s.lastCheck.summary, user)}`);
  return {
    icon: s.icon,
    id: s.id,
    title: s.title,
    // A step that does not apply needs no owner or date; the reason is in the details.
    owner: s.excluded ? '' : s.owner ? user(s.owner) : t(view.locale, 'console.unassigned'),
    due: s.excluded || !s.due ? '' : formatDate(view.locale, s.due),
    state: s.stateLabel,
    check: s.lastCheck ? `${s.lastCheck.icon} ${s.lastCheck.label}` : s.neverChecked ? '–' : '',
    details: details.map((d) => plain(d, user)),
  };
}

/** A 20-cell progress bar: `[#####---------------]`. */
function bar(pct: number): string {
  const filled = Math.max(0, Math.min(20, Math.round(pct / 5)));
  return `[${'#'.repeat(filled)}${'-'.repeat(20 - filled)}]`;
}

type Column = 'owner' | 'due' | 'state' | 'check';
/** Dropped in this order on a narrow terminal: the check result is also in the details, the state in the icon. */
const DROP_ORDER: Column[] = ['check', 'state'];
const CAP: Record<Column, number> = { owner: 16, due: 12, state: 19, check: 18 };
/** A title gets at least this many cells before a column is dropped (most titles fit). */
const TITLE_TARGET = 36;

/**
 * The checklist as an aligned table with column headers: header, readiness, then each phase with one line
 * per step and its facts below. Fits `width` cells (measured with string-width). On a narrow terminal the
 * check and state columns give way (a legend explains the state icons); a title that still does not fit is
 * cut in the table and shown in full on the line below it — nothing is lost.
 */
export function renderChecklistText(view: ChecklistView, opts: TextOptions = {}): string {
  const width = Math.max(60, opts.width ?? DEFAULT_WIDTH);
  const user = opts.formatUser ?? consoleUser;
  const L = view.locale;
  const rows = view.phases.map((p) => ({ title: p.title, rows: p.steps.map((s) => row(view, s, user)) }));
  const all = rows.flatMap((p) => p.rows);
  const header = {
    id: t(L, 'console.col.step'),
    title: t(L, 'console.col.title'),
    owner: t(L, 'console.col.owner'),
    due: t(L, 'console.col.due'),
    state: t(L, 'console.col.state'),
    check: t(L, 'console.col.check'),
  };

  // Column widths: as wide as the widest value (and the header), within caps; the title takes what is left.
  const colWidth = (c: Column) => {
    const values = all.map((r) => displayWidth(r[c]));
    return Math.max(...values) === 0 ? 0 : Math.min(CAP[c], Math.max(displayWidth(header[c]), ...values));
  };
  const shown = new Map<Column, number>((['owner', 'due', 'state', 'check'] as const).map((c) => [c, colWidth(c)] as const).filter(([, w]) => w > 0));
  const lead = INDENT.length + Math.max(displayWidth(header.id), 2 + 1 + Math.max(...all.map((r) => displayWidth(r.id))));
  const room = () => width - lead - GAP.length - [...shown.values()].reduce((n, w) => n + w + GAP.length, 0);
  const longest = Math.max(displayWidth(header.title), ...all.map((r) => displayWidth(r.title)));
  for (const c of DROP_ORDER) if (room() < Math.min(longest, TITLE_TARGET) && shown.has(c)) shown.delete(c);
  const titleWidth = Math.max(12, Math.min(longest, room()));
  const detailIndent = ' '.repeat(lead + GAP.length);

  const line = (first: string, title: string, cells: Partial<Record<Column, string>>) =>
    [padEnd(first, lead), padEnd(title, titleWidth), ...[...shown].map(([c, w]) => padEnd(truncate(cells[c] ?? '', w), w))].join(GAP).trimEnd();

  const out: string[] = [];
  const titleLines = wrap(plain(view.title), width);
  out.push(...titleLines, '='.repeat(Math.max(...titleLines.map(displayWidth))));
  out.push(...wrap(plain(view.subtitle), width));
  out.push(...wrap(plain(view.readinessLine), width));
  if (view.linkedLine) out.push(...wrap(plain(view.linkedLine), width));
  out.push(`${bar(view.readiness.stepsPct)} ${view.readiness.stepsPct}%`);
  if (!shown.has('state')) out.push(...pack(legend(L), width, ' · '));
  out.push('', line(`${INDENT}${header.id}`, header.title, header));
  for (const phase of rows) {
    out.push('', ...wrap(plain(phase.title), width));
    for (const r of phase.rows) {
      const title = truncate(r.title, titleWidth);
      out.push(line(`${INDENT}${padEnd(r.icon, 2)} ${r.id}`, title, r));
      const details = [...r.details];
      // A cut title or owner is shown in full under the row.
      if (title !== r.title) details.unshift(r.title);
      const ownerWidth = shown.get('owner');
      if (ownerWidth !== undefined && displayWidth(r.owner) > ownerWidth) details.push(t(L, 'console.owner_full', { owner: r.owner }));
      for (const d of details) out.push(...block(d, width, detailIndent));
    }
  }
  out.push('', ...wrap(plain(view.footer), width));
  return out.join('\n');
}

/** What the state icons mean, for a table without the state column. */
function legend(locale: Locale): string[] {
  const states = (['open', 'done', 'verified', 'failing', 'not_applicable'] as const).map((s) => `${STATE_ICON[s]} ${t(locale, `state.${s}`)}`);
  return [...states, `⏰ ${t(locale, 'console.overdue')}`];
}

/** Joins items with `sep` into lines of at most `width` cells, never breaking inside an item. */
function pack(items: string[], width: number, sep: string): string[] {
  const lines: string[] = [];
  for (const item of items) {
    const last = lines[lines.length - 1];
    if (last !== undefined && displayWidth(last) + displayWidth(sep) + displayWidth(item) <= width) lines[lines.length - 1] = last + sep + item;
    else lines.push(item);
  }
  return lines;
}

// ---- help, mine, notices, reports ----------------------------------------------------------------

/** The command list: title, one usage line per command, and the intro as a closing hint. */
export function renderHelpText(view: HelpView, extraLines: (string | Rich)[] = [], width = DEFAULT_WIDTH): string {
  const lines = [...view.lines, ...extraLines].map((l) => plain(l));
  return [plain(view.title), '', ...lines.flatMap((l) => hang(l, width, INDENT, `${INDENT}    `)), '', ...wrap(plain(view.intro), width)].join('\n');
}

/** The steps someone owns, or the hint that they own none. */
export function renderMineText(view: MineView, width = DEFAULT_WIDTH): string {
  const body = view.empty ? block(view.empty, width, INDENT) : view.lines.flatMap((l) => hang(plain(l.text), width, INDENT, `${INDENT}   `));
  return [plain(view.title), ...body].join('\n');
}

/** Icons of the notice tones in a terminal (Slack uses its own emoji). */
const TONE_ICON: Record<NoticeTone, string> = { ok: '✔', info: 'ℹ', warn: '⚠', refused: '⚠', wait: '⏳', snooze: '💤', fail: '✖' };

/** A notice: the tone's icon before the first line, the other lines indented under it. */
export function renderNoticeLines(
  tone: NoticeTone,
  lines: readonly (string | Rich)[],
  opts: { width?: number; formatUser?: (key: UserKey) => string } = {},
): string {
  const width = opts.width ?? DEFAULT_WIDTH;
  const user = opts.formatUser ?? consoleUser;
  const [first = '', ...rest] = lines.map((l) => plain(l, user));
  return [...hang(first, width, `${TONE_ICON[tone]} `, INDENT), ...rest.flatMap((l) => hang(l, width, INDENT))].join('\n');
}

export type NoticeKind = 'ok' | 'info' | 'error';

/**
 * A one-off message (a command's result, or an error with its usage line), rendered in the reader's
 * language: `✔ Step 2a is marked done.` / `⚠ There is no step "9z"…\n  Usage: done <step> [note]…`.
 */
export function renderNoticeText(
  locale: Locale,
  message: Message,
  opts: { kind?: NoticeKind; usage?: Message; formatUser?: (key: UserKey) => string; width?: number } = {},
): string {
  const tone: NoticeTone = opts.kind === 'error' ? 'warn' : (opts.kind ?? 'ok');
  const lines: Rich[] = [renderRich(locale, message)];
  if (opts.usage) lines.push([...tr(locale, 'error.usage_prefix'), ' ', ...renderRich(locale, opts.usage)]);
  return renderNoticeLines(tone, lines, opts);
}

/** The check report: title and tally, one line per step (failures first), the footer. */
export function renderCheckReportText(view: CheckReportView, opts: TextOptions = {}): string {
  const width = opts.width ?? DEFAULT_WIDTH;
  const user = opts.formatUser ?? consoleUser;
  const idWidth = Math.max(2, ...view.lines.map((l) => displayWidth(l.step)));
  const out = wrap(`${view.title} · ${view.tally}`, width);
  for (const l of view.lines) {
    const text = `${l.title}: ${plain(l.summary, user)}${l.transition ? ` (${l.transition})` : ''}`;
    out.push(...hang(text, width, `${INDENT}${padEnd(l.icon, 2)} ${padEnd(l.step, idWidth)} `));
  }
  out.push(...wrap(plain(view.footer, user), width));
  return out.join('\n');
}

/** The daily digest as a terminal shows it (a preview in the console). */
export function renderDigestText(view: DigestView, opts: TextOptions = {}): string {
  const width = opts.width ?? DEFAULT_WIDTH;
  const text = digestText(view, { user: opts.formatUser ?? consoleUser });
  return text
    .split('\n')
    .flatMap((l) => (l.startsWith('• ') ? hang(l.slice(2), width, '• ', INDENT) : l ? wrap(l, width) : ['']))
    .join('\n');
}

/** Owner reminders: title, one line per step, footer. */
export function renderReminderText(view: ReminderView, opts: TextOptions = {}): string {
  const width = opts.width ?? DEFAULT_WIDTH;
  const user = opts.formatUser ?? consoleUser;
  return [...wrap(view.title, width), ...view.items.flatMap((i) => hang(plain(i.text, user), width, '• ', INDENT)), ...wrap(view.footer, width)].join('\n');
}
