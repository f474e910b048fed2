import { type CheckStatus, conversationsOf, type Locale, type Rollout, type StepState, type UserKey } from '../core/checklist/model';
import { readiness, type Readiness } from '../core/checklist/readiness';
import type { Template } from '../core/checklist/template';
import { localDate } from '../core/time';
import { formatDate, formatDateTime, formatHours, renderRich, t, tr as rich } from '../i18n';
import { joinRich, type Rich, rich as concat, userText } from './rich';

export const STATE_ICON: Record<StepState, string> = {
  open: '⬜',
  done: '☑️',
  verified: '✅',
  failing: '❌',
  not_applicable: '➖',
};

export const CHECK_ICON: Record<CheckStatus, string> = {
  pass: '✅',
  fail: '❌',
  warn: '⚠️',
  manual: '✋',
  error: '❗',
  not_applicable: '➖',
};

export interface StepView {
  id: string;
  phase: number;
  state: StepState;
  icon: string;
  stateLabel: string;
  title: string;
  description: string;
  helpUrl: string;
  owner?: UserKey;
  due?: string;
  dueLabel: string;
  overdue: boolean;
  hoursLabel: string;
  /** Not applicable (by hosting or skipped). */
  excluded: boolean;
  /** Extra facts: excluded reason, skip reason, the note left when it was marked done (user text, verbatim). */
  details: Rich[];
  lastCheck?: { status: CheckStatus; icon: string; label: string; summary: Rich; when: string };
  /** For automatable steps never checked: "not checked yet". */
  neverChecked?: string;
  /** What the card offers for this step (everyone sees the same card; permission is checked on click). */
  actions: { done: boolean; reopen: boolean; check: boolean; assign: boolean };
  /** Who claimed it: "done by @bob" (shown also while the check fails: a claim is flagged, never erased). */
  doneBy?: UserKey;
  doneByLine?: Rich;
}

export interface PhaseView {
  n: number;
  title: string;
  steps: StepView[];
}

export interface ChecklistView {
  locale: Locale;
  rolloutId: string;
  title: string;
  subtitle: string;
  readiness: Readiness;
  readinessLine: Rich;
  /** "Also in: #rollout (Slack), Bitwarden (Teams)" when the rollout is linked to other conversations. */
  linkedLine?: Rich;
  phases: PhaseView[];
  footer: Rich;
  labels: { done: string; reopen: string; check: string; assignPlaceholder: string; owner: string; help: string; unassigned: string };
}

function today(rollout: Rollout, now: Date): string {
  return localDate(now, rollout.settings.timezone);
}

export function buildChecklistView(template: Template, rollout: Rollout, now: Date, locale: Locale = rollout.settings.locale): ChecklistView {
  const tr = (k: string, v?: Record<string, string | number>) => t(locale, k, v);
  const r = readiness(template, rollout);
  const day = today(rollout, now);
  const phases: PhaseView[] = template.phases.map((p) => ({ n: p.id, title: tr('card.phase', { n: p.id, title: p.title[locale] }), steps: [] }));
  for (const s of template.steps) {
    const rec = rollout.steps[s.id];
    if (!rec) continue;
    const excluded = rec.state === 'not_applicable';
    const overdue = !excluded && rec.state !== 'done' && rec.state !== 'verified' && !!rec.due && rec.due < day;
    const details: Rich[] = [];
    if (rec.hostingExcluded) details.push(rich(locale, 'card.excluded_hosting', { hosting: tr(`hosting.${rollout.settings.hosting}`) }));
    else if (rec.skipReason) details.push(rich(locale, 'card.skipped_reason', { reason: userText(rec.skipReason) }));
    if (rec.note) details.push(['“', ...userText(rec.note), '”']);
    const view: StepView = {
      id: s.id,
      phase: s.phase,
      state: rec.state,
      icon: overdue ? '⏰' : STATE_ICON[rec.state],
      stateLabel: rec.skipReason && rec.state === 'not_applicable' ? tr('state.skipped') : tr(`state.${rec.state}`),
      title: s.title[locale],
      description: s.description[locale],
      helpUrl: s.helpUrl,
      ...(rec.owner ? { owner: rec.owner } : {}),
      ...(rec.due ? { due: rec.due } : {}),
      dueLabel: rec.due ? tr(overdue ? 'card.overdue' : 'card.due', { date: formatDate(locale, rec.due) }) : tr('card.no_due'),
      overdue,
      hoursLabel: s.hours === null ? tr('card.not_estimated') : formatHours(locale, s.hours),
      excluded,
      details,
      ...(rec.doneBy && (rec.state === 'done' || rec.state === 'failing')
        ? { doneBy: rec.doneBy, doneByLine: rich(locale, 'card.done_by', { by: rec.doneBy }) }
        : {}),
      actions: {
        done: !excluded && rec.state !== 'done' && rec.state !== 'verified',
        reopen: !rec.hostingExcluded && rec.state !== 'open',
        check: !excluded && s.check !== 'manual',
        assign: !rec.hostingExcluded,
      },
    };
    if (!rec.lastCheck && view.actions.check) view.neverChecked = tr('card.never_checked');
    if (rec.lastCheck) {
      view.lastCheck = {
        status: rec.lastCheck.status,
        icon: CHECK_ICON[rec.lastCheck.status],
        label: tr(`check_status.${rec.lastCheck.status}`),
        summary: renderRich(locale, rec.lastCheck.summary),
        when: formatDateTime(locale, rec.lastCheck.at, rollout.settings.timezone),
      };
    }
    phases.find((p) => p.n === s.phase)?.steps.push(view);
  }
  let readinessLine = rich(locale, 'card.readiness', {
    done: r.complete,
    applicable: r.applicable,
    stepsPct: r.stepsPct,
    hoursLeft: formatHours(locale, r.hoursLeft),
    hoursTotal: formatHours(locale, r.hoursTotal),
  });
  if (r.unestimatedOpen) readinessLine = concat(readinessLine, ` (+ ${tr('card.readiness_unestimated', { count: r.unestimatedOpen })})`);
  const others = conversationsOf(rollout).map(({ conversation: c }) => c);
  const linkedLine =
    others.length > 1
      ? rich(locale, 'card.linked', {
          conversations: joinRich(
            others.map((c) => [{ conversation: c }, ` (${tr(`platform.${c.platform}`)})`]),
            ', ',
          ),
        })
      : undefined;
  return {
    locale,
    rolloutId: rollout.id,
    ...(linkedLine ? { linkedLine } : {}),
    title: `${tr('card.title')}${rollout.conversation.name ? ` · #${rollout.conversation.name}` : ''}`,
    subtitle: tr('card.hosting_line', { hosting: tr(`hosting.${rollout.settings.hosting}`), language: tr(`locale_name.${rollout.settings.locale}`) }),
    readiness: r,
    readinessLine,
    phases: phases.filter((p) => p.steps.length),
    footer: rich(locale, 'card.footer', { when: formatDateTime(locale, now.toISOString(), rollout.settings.timezone) }),
    labels: {
      done: tr('card.btn_done'),
      reopen: tr('card.btn_reopen'),
      check: tr('card.btn_check'),
      assignPlaceholder: tr('card.btn_assign_placeholder'),
      owner: tr('card.owner'),
      help: tr('card.help_link'),
      unassigned: tr('card.unassigned'),
    },
  };
}
