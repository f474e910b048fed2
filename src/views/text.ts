import type { Locale, Rollout, UserKey } from '../core/checklist/model';
import type { Template } from '../core/checklist/template';
import { formatDate, t, tr } from '../i18n';
import type { Rich } from './rich';
import { STATE_ICON } from './checklist';

/** Every command's usage line, in the order `help` lists them. */
const HELP_ORDER = [
  'status',
  'mine',
  'assign',
  'unassign',
  'done',
  'reopen',
  'skip',
  'due',
  'check',
  'digest',
  'setup',
  'export',
  'link',
  'unlink',
  'lang',
  'help',
] as const;

export interface HelpView {
  title: string;
  intro: Rich;
  lines: Rich[];
}

export function buildHelpView(locale: Locale): HelpView {
  return {
    title: t(locale, 'help.title'),
    intro: tr(locale, 'help.intro'),
    lines: HELP_ORDER.map((c) => tr(locale, `usage.${c}`)),
  };
}

export interface MineView {
  title: string;
  empty?: string;
  lines: { step: string; text: Rich; description: string }[];
}

export function buildMineView(template: Template, rollout: Rollout, user: UserKey, locale: Locale): MineView {
  const lines = template.steps
    .filter((s) => rollout.steps[s.id]?.owner === user)
    .map((s) => {
      const rec = rollout.steps[s.id]!;
      return {
        step: s.id,
        description: s.description[locale],
        text: tr(locale, 'mine.line', {
          icon: STATE_ICON[rec.state],
          step: s.id,
          title: s.title[locale],
          state: t(locale, `state.${rec.state}`),
          due: rec.due ? t(locale, 'card.due', { date: formatDate(locale, rec.due) }) : t(locale, 'card.no_due'),
        }),
      };
    });
  return { title: t(locale, 'mine.title'), ...(lines.length ? {} : { empty: t(locale, 'mine.none') }), lines };
}
