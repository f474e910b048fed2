import type { CheckRecord, CheckStatus, Locale, StepState } from '../core/checklist/model';
import type { Template } from '../core/checklist/template';
import { renderRich, t, tr } from '../i18n';
import type { Rich } from './rich';
import { CHECK_ICON } from './checklist';

export interface CheckReportLine {
  step: string;
  title: string;
  status: CheckStatus;
  icon: string;
  statusLabel: string;
  summary: Rich;
  /** Set when the step's state changed because of this run: "now verified" / "now failing". */
  transition?: string;
}

export interface CheckReportView {
  locale: Locale;
  title: string;
  /** "3 pass · 1 fail · 2 manual" */
  tally: string;
  lines: CheckReportLine[];
  /** Set when some steps could not be checked: which ones (their lines give the endpoint and reason). */
  unchecked?: string;
  /** The unchecked note (if any), then the standing footer. */
  footer: Rich;
}

const ORDER: CheckStatus[] = ['fail', 'error', 'warn', 'pass', 'manual', 'not_applicable'];

/**
 * The short report after `/bwprep check`: failures first, then the steps that could not be checked (their
 * summary names the endpoint and the reason, and the footer lists them), warnings, passes and manual steps.
 */
export function buildCheckReportView(
  template: Template,
  results: { stepId: string; record: CheckRecord }[],
  transitions: { stepId: string; from: string; to: string }[],
  locale: Locale,
  opts: { single?: boolean } = {},
): CheckReportView {
  const moved = new Map(transitions.map((x) => [x.stepId, x.to as StepState]));
  const lines = results
    .map(({ stepId, record }): CheckReportLine => {
      const step = template.steps.find((s) => s.id === stepId);
      const to = moved.get(stepId);
      return {
        step: stepId,
        title: step?.title[locale] ?? stepId,
        status: record.status,
        icon: CHECK_ICON[record.status],
        statusLabel: t(locale, `check_status.${record.status}`),
        summary: renderRich(locale, record.summary),
        ...(to ? { transition: t(locale, 'check_report.now', { state: t(locale, `state.${to}`).toLowerCase() }) } : {}),
      };
    })
    .sort(
      (a, b) =>
        ORDER.indexOf(a.status) - ORDER.indexOf(b.status) ||
        template.steps.findIndex((s) => s.id === a.step) - template.steps.findIndex((s) => s.id === b.step),
    );
  const errors = lines.filter((l) => l.status === 'error').map((l) => l.step);
  const unchecked = errors.length ? t(locale, 'check_report.unchecked', { count: errors.length, steps: errors.join(', ') }) : undefined;
  const counts = ORDER.map((s) => [s, lines.filter((l) => l.status === s).length] as const).filter(([, n]) => n > 0);
  return {
    locale,
    title: opts.single && lines[0] ? t(locale, 'check_report.title_step', { step: lines[0].step }) : t(locale, 'check_report.title'),
    tally: counts.map(([s, n]) => `${n} ${t(locale, `check_status.${s}`).toLowerCase()}`).join(' · '),
    lines,
    ...(unchecked ? { unchecked } : {}),
    footer: unchecked ? [`${unchecked} `, ...tr(locale, 'check_report.footer')] : tr(locale, 'check_report.footer'),
  };
}
