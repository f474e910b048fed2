import type { Locale, Rollout, UserKey } from '../core/checklist/model';
import type { Template } from '../core/checklist/template';
import { t, tr } from '../i18n';
import type { Rich } from './rich';
import { buildChecklistView, type StepView } from './checklist';

export interface HomeRollout {
  rolloutId: string;
  /** The rollout's conversation (a channel mention on Slack). */
  conversation: { platform: string; channel: string; name?: string };
  readinessLine: Rich;
  role: string;
  steps: StepView[];
}

export interface HomeView {
  locale: Locale;
  title: string;
  intro: Rich;
  myStepsTitle: string;
  noSteps: string;
  rolloutsTitle: string;
  noRollouts: string;
  rollouts: HomeRollout[];
  labels: { done: string; reopen: string; help: string };
}

/**
 * The App Home: the user's steps across every rollout they own steps in, and every rollout they take part
 * in (owner of a step, rollout admin, or creator). Steps they own come first, overdue before the rest.
 */
export function buildHomeView(
  template: Template,
  rollouts: Rollout[],
  user: UserKey,
  now: Date,
  locale: Locale,
  globalAdmins: readonly string[] = [],
): HomeView {
  const mine: HomeRollout[] = [];
  for (const r of rollouts) {
    const owns = Object.values(r.steps).some((s) => s.owner === user);
    const admin = r.settings.admins.includes(user) || globalAdmins.includes(user);
    if (!owns && !admin && r.createdBy !== user) continue;
    const view = buildChecklistView(template, r, now, locale);
    const steps = view.phases
      .flatMap((p) => p.steps)
      .filter((s) => s.owner === user)
      .sort((a, b) => Number(b.overdue) - Number(a.overdue));
    mine.push({
      rolloutId: r.id,
      conversation: { platform: r.conversation.platform, channel: r.conversation.channel, ...(r.conversation.name ? { name: r.conversation.name } : {}) },
      readinessLine: view.readinessLine,
      role: t(locale, admin ? 'home.role_admin' : 'home.role_owner'),
      steps,
    });
  }
  mine.sort((a, b) => b.steps.length - a.steps.length);
  return {
    locale,
    title: t(locale, 'home.title'),
    intro: tr(locale, 'home.intro'),
    myStepsTitle: t(locale, 'home.my_steps'),
    noSteps: t(locale, 'home.no_steps'),
    rolloutsTitle: t(locale, 'home.rollouts'),
    noRollouts: t(locale, 'home.no_rollouts'),
    rollouts: mine,
    labels: { done: t(locale, 'card.btn_done'), reopen: t(locale, 'card.btn_reopen'), help: t(locale, 'card.help_link') },
  };
}
