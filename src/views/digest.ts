import type { Locale, MessageRef, UserKey } from '../core/checklist/model';
import type { Template } from '../core/checklist/template';
import { changeCount, type DigestChanges, type DigestModel } from '../core/digest/model';
import { formatDate, formatHours, renderRich, type RichVars, t, tr as rich, type Vars } from '../i18n';
import { plainText, type PlainOptions, type Rich, rich as concat } from './rich';

/**
 * The daily digest as localized text, platform-free (DESIGN §6). Short on purpose: a manager reads it in
 * 30 seconds; the checklist card and `/bwprep export` hold the details.
 */

export type DigestSectionId = 'changes' | 'failing' | 'overdue' | 'unassigned';

export interface DigestItem {
  text: Rich;
  stepId?: string;
  /** The step owner, for platforms that want to add a mention or avatar themselves. */
  owner?: UserKey;
}

export interface DigestSection {
  id: DigestSectionId;
  title: string;
  items: DigestItem[];
}

export interface DigestView {
  locale: Locale;
  rolloutId: string;
  title: string;
  /** Markers above the figures: preview, posted late, checks could not run. */
  notices: Rich[];
  /** Readiness, go-live and fit, trend. */
  lines: Rich[];
  sections: DigestSection[];
  footer: Rich;
  openCardLabel: string;
  /** The living checklist card to link to, when there is one. */
  card?: MessageRef;
  /** One line for notifications and plain-text fallbacks. */
  fallbackText: string;
  preview: boolean;
  late: boolean;
  model: DigestModel;
}

export interface DigestViewOptions {
  locale?: Locale;
}

const CHANGE_KINDS: (keyof DigestChanges)[] = ['done', 'verified', 'reopened', 'drifted', 'skipped'];

/** "62% → 70% → 78%" (steps readiness per day, oldest first). */
function trendText(model: Pick<DigestModel, 'trend'>): string {
  return model.trend.map((d) => `${d.stepsPct}%`).join(' → ');
}

export function buildDigestView(template: Template, model: DigestModel, opts: DigestViewOptions = {}): DigestView {
  const locale = opts.locale ?? model.locale;
  const tr = (k: string, v?: Vars) => t(locale, k, v);
  const rt = (k: string, v?: RichVars) => rich(locale, k, v);
  const title = (id: string) => template.steps.find((s) => s.id === id)?.title[locale] ?? id;
  const r = model.readiness;

  const notices: Rich[] = [];
  if (model.preview) notices.push(rt('digest.preview'));
  if (model.late) notices.push(rt('digest.late', { time: model.slot?.slice(11) ?? '' }));
  // "The figures are from the last successful check" only when there was one; else say none has run yet.
  if (model.checkRunFailed)
    notices.push(rt(model.neverChecked ? 'digest.checks_never_ran' : 'digest.checks_failed', { reason: renderRich(locale, model.checkRunFailed) }));

  const lines: Rich[] = [];
  let readinessLine = rt('digest.readiness', {
    stepsPct: r.stepsPct,
    done: r.complete,
    applicable: r.applicable,
    hoursPct: r.hoursPct,
    hoursLeft: formatHours(locale, r.hoursLeft),
  });
  if (r.unestimatedOpen) readinessLine = concat(readinessLine, ' ', rt('digest.unestimated', { count: r.unestimatedOpen }));
  lines.push(readinessLine);

  const g = model.goLive;
  if (g) {
    const date = formatDate(locale, g.date, 'long');
    if (g.daysLeft > 0) lines.push(rt('digest.golive.future', { date, count: g.daysLeft }));
    else if (g.daysLeft === 0) lines.push(rt('digest.golive.today', { date }));
    else lines.push(rt('digest.golive.passed', { date, count: -g.daysLeft }));
    if (g.daysLeft > 0 && g.hoursLeft > 0) {
      lines.push(
        rt(g.fits ? 'digest.golive.fits' : 'digest.golive.no_fit', {
          hoursLeft: formatHours(locale, g.hoursLeft),
          capacity: formatHours(locale, g.capacityHours),
          count: g.workingDays,
        }),
      );
    }
  } else {
    lines.push(rt('digest.golive.none'));
  }
  if (model.trend.length > 1) lines.push(rt('digest.trend', { trend: trendText(model) }));

  const sections: DigestSection[] = [];
  if (model.changes) {
    const c = model.changes;
    const items = CHANGE_KINDS.filter((k) => c[k].length).map((k) => ({ text: rt(`digest.changes.${k}`, { steps: c[k].join(', ') }) }));
    sections.push({ id: 'changes', title: tr('digest.section.changes'), items: changeCount(c) ? items : [{ text: rt('digest.changes.none') }] });
  } else if (!model.preview) {
    sections.push({ id: 'changes', title: tr('digest.section.changes'), items: [{ text: rt('digest.changes.first') }] });
  }
  if (model.failing.length) {
    sections.push({
      id: 'failing',
      title: tr('digest.section.failing'),
      items: model.failing.map((f) => ({
        stepId: f.stepId,
        ...(f.owner ? { owner: f.owner } : {}),
        text: f.summary
          ? rt('digest.failing_item', { step: f.stepId, title: title(f.stepId), reason: renderRich(locale, f.summary) })
          : rt('digest.failing_item_plain', { step: f.stepId, title: title(f.stepId) }),
      })),
    });
  }
  if (model.overdue.length) {
    sections.push({
      id: 'overdue',
      title: tr('digest.section.overdue'),
      items: model.overdue.map((o) => ({
        stepId: o.stepId,
        ...(o.owner ? { owner: o.owner } : {}),
        text: rt('digest.overdue_item', {
          step: o.stepId,
          title: title(o.stepId),
          count: o.daysOverdue,
          date: formatDate(locale, o.due, 'long'),
          owner: o.owner ? { user: o.owner } : tr('digest.no_owner'),
        }),
      })),
    });
  }
  if (model.unassigned.length) {
    sections.push({ id: 'unassigned', title: tr('digest.section.unassigned'), items: [{ text: [model.unassigned.join(', ')] }] });
  }

  return {
    locale,
    rolloutId: model.rolloutId,
    title: tr('digest.title', { date: formatDate(locale, model.today, 'long') }),
    notices,
    lines,
    sections,
    footer: rt('digest.footer'),
    openCardLabel: tr('digest.open_card'),
    ...(model.card ? { card: model.card } : {}),
    fallbackText: tr('digest.fallback', { stepsPct: r.stepsPct, overdue: model.overdue.length, failing: model.failing.length }),
    preview: model.preview,
    late: model.late,
    model,
  };
}

/** The whole digest as plain text (console, CLI, logs, and tests that read it as a manager would). */
export function digestText(view: DigestView, o: PlainOptions = {}): string {
  const p = (r: Rich) => plainText(r, o);
  const out = [view.title, ...view.notices.map(p), ...view.lines.map(p)];
  for (const s of view.sections) out.push('', s.title, ...s.items.map((i) => `• ${p(i.text)}`));
  out.push('', p(view.footer));
  return out.join('\n');
}
