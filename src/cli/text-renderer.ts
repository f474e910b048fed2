import type { Locale, Message, UserKey } from '../core/checklist/model';
import { formatDate, renderRich, t, tr } from '../i18n';
import { plainText, type Rich } from '../views/rich';
import type { ChecklistView, StepView } from '../views/checklist';
import type { HelpView, MineView } from '../views/text';

/**
 * The third renderer of the shared view models (beside Block Kit and Adaptive Cards): plain text for a
 * terminal, aligned in columns, no Slack mrkdwn. Everything here is pure: view model in, string out.
 */

export interface TextOptions {
  /** Terminal width to fit (default 100). */
  width?: number;
  /** How a UserKey is shown (default: `cli:alice` → `@alice`, other platforms as their key). */
  formatUser?: (key: UserKey) => string;
}

const DEFAULT_WIDTH = 100;
const INDENT = '  ';
const GAP = '  ';
const MIN_TITLE = 20;

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

/** Code points a terminal draws two cells wide: emoji and CJK. Variation selectors and joiners take none. */
function cellWidth(cp: number): number {
  if (cp === 0xfe0f || cp === 0xfe0e || cp === 0x200d || (cp >= 0x300 && cp <= 0x36f)) return 0;
  if (
    (cp >= 0x1f000 && cp <= 0x1faff) ||
    (cp >= 0x2300 && cp <= 0x23ff) ||
    (cp >= 0x2600 && cp <= 0x27bf) ||
    (cp >= 0x2b00 && cp <= 0x2bff) ||
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xff00 && cp <= 0xff60)
  )
    return 2;
  return 1;
}

/** Terminal cells a string takes. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += cellWidth(ch.codePointAt(0) ?? 0);
  return w;
}

/** Cuts to at most `max` cells, with an ellipsis when cut. */
export function truncate(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  if (max <= 0) return '';
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = cellWidth(ch.codePointAt(0) ?? 0);
    if (w + cw > max - 1) break;
    out += ch;
    w += cw;
  }
  return `${out.trimEnd()}…`;
}

function padEnd(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

/** Word-wraps to lines of at most `width` cells (a word longer than a line is cut). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!line) line = truncate(word, width);
    else if (displayWidth(line) + 1 + displayWidth(word) <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = truncate(word, width);
    }
  }
  if (line || !lines.length) lines.push(line);
  return lines;
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
  details: (string | Rich)[];
}

function row(view: ChecklistView, s: StepView, user: (k: UserKey) => string): Row {
  const details: (string | Rich)[] = [];
  if (s.overdue) details.push(s.dueLabel);
  details.push(...s.details);
  if (s.doneByLine) details.push(s.doneByLine);
  if (s.lastCheck) details.push(`${t(view.locale, 'card.last_check', { when: s.lastCheck.when, status: s.lastCheck.label })} — ${plain(s.lastCheck.summary, user)}`);
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

/** The checklist as aligned plain text: header, readiness, then each phase with one line per step. */
export function renderChecklistText(view: ChecklistView, opts: TextOptions = {}): string {
  const width = Math.max(60, opts.width ?? DEFAULT_WIDTH);
  const user = opts.formatUser ?? consoleUser;
  const rows = view.phases.map((p) => ({ title: p.title, rows: p.steps.map((s) => row(view, s, user)) }));
  const all = rows.flatMap((p) => p.rows);

  // Column widths: as wide as the widest value, within caps; the title takes what is left.
  const col = (pick: (r: Row) => string, cap: number) => Math.min(cap, Math.max(0, ...all.map((r) => displayWidth(pick(r)))));
  const w = {
    icon: 2,
    id: col((r) => r.id, 4),
    owner: col((r) => r.owner, 16),
    due: col((r) => r.due, 12),
    state: col((r) => r.state, 19),
    check: col((r) => r.check, 18),
  };
  const fixed = displayWidth(INDENT) + w.icon + 1 + w.id + GAP.length + [w.owner, w.due, w.state, w.check].filter((x) => x > 0).length * GAP.length;
  const room = () => width - fixed - w.owner - w.due - w.state - w.check;
  // On a narrow terminal the title keeps at least MIN_TITLE cells: narrow the widest other column first.
  const min = { owner: Math.min(w.owner, 8), due: w.due, state: Math.min(w.state, 8), check: Math.min(w.check, 6) };
  for (let guard = 0; room() < MIN_TITLE && guard < 200; guard++) {
    const k = (['owner', 'state', 'check'] as const).filter((c) => w[c] > min[c]).sort((x, y) => w[y] - w[x])[0];
    if (!k) break;
    w[k]--;
  }
  const titleWidth = Math.max(MIN_TITLE, Math.min(col((r) => r.title, 80), room()));
  const detailIndent = ' '.repeat(displayWidth(INDENT) + w.icon + 1 + w.id + GAP.length);

  const out: string[] = [];
  const title = plain(view.title);
  const titleLines = wrap(title, width);
  out.push(...titleLines, '='.repeat(Math.max(...titleLines.map(displayWidth))));
  out.push(...wrap(plain(view.subtitle), width));
  out.push(...wrap(plain(view.readinessLine), width));
  if (view.linkedLine) out.push(...wrap(plain(view.linkedLine), width));
  out.push(`${bar(view.readiness.stepsPct)} ${view.readiness.stepsPct}%`);
  for (const phase of rows) {
    out.push('', ...wrap(plain(phase.title), width));
    for (const r of phase.rows) {
      const cells = [
        `${INDENT}${padEnd(r.icon, w.icon)} ${padEnd(r.id, w.id)}`,
        padEnd(truncate(r.title, titleWidth), titleWidth),
        ...[
          [r.owner, w.owner],
          [r.due, w.due],
          [r.state, w.state],
          [r.check, w.check],
        ]
          .filter(([, cw]) => (cw as number) > 0)
          .map(([v, cw]) => padEnd(truncate(v as string, cw as number), cw as number)),
      ];
      out.push(cells.join(GAP).trimEnd());
      for (const d of r.details) out.push(...block(plain(d), width, detailIndent));
    }
  }
  out.push('', ...wrap(plain(view.footer), width));
  return out.join('\n');
}

// ---- help, mine, notices ---------------------------------------------------------------------------

/** The command list: title, one usage line per command, and the intro as a closing hint. */
export function renderHelpText(view: HelpView, extraLines: (string | Rich)[] = []): string {
  const lines = [...view.lines, ...extraLines].map((l) => plain(l));
  return [plain(view.title), '', ...lines.map((l) => `${INDENT}${l}`), '', ...wrap(plain(view.intro), DEFAULT_WIDTH)].join('\n');
}

/** The steps someone owns, or the hint that they own none. */
export function renderMineText(view: MineView): string {
  const body = view.empty ? block(view.empty, DEFAULT_WIDTH, INDENT) : view.lines.map((l) => INDENT + plain(l.text));
  return [plain(view.title), ...body].join('\n');
}

export type NoticeKind = 'ok' | 'info' | 'error';
const NOTICE_ICON: Record<NoticeKind, string> = { ok: '✔', info: 'ℹ', error: '⚠' };

/**
 * A one-off message (a command's result, or an error with its usage line), rendered in the reader's
 * language: `✔ Step 2a is marked done.` / `⚠ There is no step "9z"…\n  Usage: done <step> [note]…`.
 */
export function renderNoticeText(
  locale: Locale,
  message: Message,
  opts: { kind?: NoticeKind; usage?: Message; formatUser?: (key: UserKey) => string } = {},
): string {
  const user = opts.formatUser ?? consoleUser;
  const lines = wrap(`${NOTICE_ICON[opts.kind ?? 'ok']} ${plain(renderRich(locale, message), user)}`, DEFAULT_WIDTH - 2).map((l, i) => (i ? `  ${l}` : l));
  if (opts.usage) lines.push(`  ${t(locale, 'error.usage_prefix')} ${plain(renderRich(locale, opts.usage), user)}`);
  return lines.join('\n');
}
