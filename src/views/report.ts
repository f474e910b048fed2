import type { AuditEntry, CheckRun, Locale, Rollout } from '../core/checklist/model';
import { readiness } from '../core/checklist/readiness';
import type { Template } from '../core/checklist/template';
import { formatDate, formatDateTime, formatHours, plainUser, render, t } from '../i18n';
import { userTextPlain } from './rich';

/**
 * The readiness report (`/bwprep export csv|md|json`): every step with owner, state, due date, last check and
 * its evidence — an audit pack a manager can attach to a change ticket.
 */
export interface ReportRow {
  step: string;
  phase: number;
  title: string;
  hours: number | null;
  state: string;
  stateLabel: string;
  owner: string | null;
  due: string | null;
  doneBy: string | null;
  doneAt: string | null;
  note: string | null;
  skipReason: string | null;
  check: {
    status: string;
    statusLabel: string;
    summary: string;
    at: string;
    evidence: unknown;
  } | null;
  helpUrl: string;
}

export interface Report {
  rollout: string;
  channel: string;
  generatedAt: string;
  locale: Locale;
  hosting: string;
  goLive: string | null;
  readiness: ReturnType<typeof readiness>;
  steps: ReportRow[];
  /** The most recent audit entries, newest last. */
  audit: AuditEntry[];
  /** The recent check runs with their evidence (bounded history), oldest first. */
  checks: CheckRun[];
}

export function buildReport(template: Template, rollout: Rollout, now: Date, locale: Locale, audit: AuditEntry[] = [], checks: CheckRun[] = []): Report {
  return {
    rollout: rollout.id,
    channel: rollout.conversation.name ?? rollout.conversation.channel,
    generatedAt: now.toISOString(),
    locale,
    hosting: rollout.settings.hosting,
    goLive: rollout.settings.goLive ?? null,
    readiness: readiness(template, rollout),
    steps: template.steps.map((s) => {
      const rec = rollout.steps[s.id];
      const state = rec?.state ?? 'open';
      return {
        step: s.id,
        phase: s.phase,
        title: s.title[locale],
        hours: s.hours,
        state,
        stateLabel: rec?.skipReason && state === 'not_applicable' ? t(locale, 'state.skipped') : t(locale, `state.${state}`),
        owner: rec?.owner ?? null,
        due: rec?.due ?? null,
        doneBy: rec?.doneBy ?? null,
        doneAt: rec?.doneAt ?? null,
        // A person mentioned in a note shows as @id: a mention means nothing inside a file.
        note: rec?.note ? userTextPlain(rec.note) : null,
        skipReason: rec?.skipReason ? userTextPlain(rec.skipReason) : null,
        check: rec?.lastCheck
          ? {
              status: rec.lastCheck.status,
              statusLabel: t(locale, `check_status.${rec.lastCheck.status}`),
              summary: render(locale, rec.lastCheck.summary),
              at: rec.lastCheck.at,
              evidence: rec.lastCheck.evidence,
            }
          : null,
        helpUrl: s.helpUrl,
      };
    }),
    audit,
    checks,
  };
}

export function reportJson(r: Report): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  // Spreadsheet formula injection: a cell starting with = + - @ is prefixed so it stays text.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export function reportCsv(r: Report, formatUser: (k: string) => string = plainUser): string {
  const L = r.locale;
  const header = [
    'step',
    'phase',
    'title',
    'hours',
    'state',
    'owner',
    'due',
    'done_by',
    'done_at',
    'note',
    'skip_reason',
    'check_status',
    'check_summary',
    'checked_at',
    'evidence',
    'guide',
  ].map((h) => t(L, `report.col.${h}`));
  const rows = r.steps.map((s) =>
    [
      s.step,
      s.phase,
      s.title,
      s.hours,
      s.stateLabel,
      s.owner ? formatUser(s.owner) : '',
      s.due,
      s.doneBy ? formatUser(s.doneBy) : '',
      s.doneAt,
      s.note,
      s.skipReason,
      s.check?.statusLabel,
      s.check?.summary,
      s.check?.at,
      s.check?.evidence,
      s.helpUrl,
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[header.map(csvCell).join(','), ...rows].join('\r\n')}\r\n`;
}

/**
 * Text in a Markdown table cell, escaped once for Markdown (CommonMark backslash escapes): `|` would end the
 * cell, `<…>` would be read as HTML, `&name;` as an entity, `*_`[]` as formatting. Stored text is plain.
 */
const mdCell = (s: string) =>
  s
    .replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`)
    .replace(/&(?=#?\w+;)/g, '\\&')
    .replace(/\n/g, ' ');

export function reportMarkdown(r: Report, timeZone: string, formatUser: (k: string) => string = plainUser): string {
  const L = r.locale;
  const rd = r.readiness;
  const lines = [
    `# ${t(L, 'report.title', { channel: r.channel })}`,
    '',
    t(L, 'report.generated', { when: formatDateTime(L, r.generatedAt, timeZone) }),
    '',
    `- ${t(L, 'report.readiness', { done: rd.complete, applicable: rd.applicable, stepsPct: rd.stepsPct, hoursPct: rd.hoursPct })}`,
    `- ${t(L, 'report.hours_left', { left: formatHours(L, rd.hoursLeft), total: formatHours(L, rd.hoursTotal) })}`,
    `- ${t(L, 'report.hosting', { hosting: t(L, `hosting.${r.hosting}`) })}`,
    ...(r.goLive ? [`- ${t(L, 'report.go_live', { date: formatDate(L, r.goLive, 'long') })}`] : []),
    '',
    `| ${['step', 'title', 'state', 'owner', 'due', 'note', 'check_status', 'check_summary'].map((h) => t(L, `report.col.${h}`)).join(' | ')} |`,
    '|---|---|---|---|---|---|---|---|',
    ...r.steps.map(
      (s) =>
        `| ${[
          s.step,
          `[${mdCell(s.title)}](${s.helpUrl})`,
          s.stateLabel,
          s.owner ? formatUser(s.owner) : '—',
          s.due ? formatDate(L, s.due) : '—',
          // The note left when it was marked done, or why it was skipped: the person's own words, verbatim.
          mdCell(s.note ?? (s.skipReason ? `${t(L, 'report.col.skip_reason')}: ${s.skipReason}` : '')),
          s.check?.statusLabel ?? '—',
          mdCell(s.check?.summary ?? ''),
        ].join(' | ')} |`,
    ),
    '',
  ];
  // Evidence: each step's latest check as the check history has it (the step's own record otherwise).
  const evidence = r.steps.filter((s) => s.check);
  if (evidence.length) {
    lines.push(`## ${t(L, 'report.evidence')}`, '');
    for (const s of evidence) {
      const c = s.check!;
      lines.push(
        `### ${s.step} ${s.title}`,
        '',
        `${c.statusLabel}: ${c.summary} (${formatDateTime(L, c.at, timeZone)})`,
        '',
        '```json',
        JSON.stringify(c.evidence, null, 2),
        '```',
        '',
      );
    }
  }
  if (r.checks.length) {
    lines.push(`## ${t(L, 'report.check_history')}`, '');
    for (const run of [...r.checks].reverse()) {
      const tally = run.results.map((x) => `${x.stepId} ${t(L, `check_status.${x.status}`).toLowerCase()}`).join(', ');
      lines.push(`- ${formatDateTime(L, run.at, timeZone)} · ${formatUser(run.actor)} (${run.surface}) · ${tally}`);
    }
    lines.push('');
  }
  if (r.audit.length) {
    lines.push(`## ${t(L, 'report.audit')}`, '');
    for (const a of r.audit) {
      lines.push(
        `- ${formatDateTime(L, a.at, timeZone)} · ${formatUser(a.actor)} (${a.surface}) · ${a.action}${a.stepId ? ` ${a.stepId}` : ''}${a.to ? ` → ${a.to}` : ''}`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
