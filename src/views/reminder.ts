import type { Locale, MessageRef, Rollout } from '../core/checklist/model';
import type { Template } from '../core/checklist/template';
import type { ReminderDue, ReminderKind } from '../core/digest/reminders';
import { formatDate, t, tr as rich, type Vars } from '../i18n';
import type { Rich } from './rich';
import { ACTIONS, encodeStepRef } from './actions';

/**
 * A reminder DM as a platform-free view model: one line per step, each with three buttons (mark done,
 * snooze a day, open the card). Button ids are the shared ACTIONS; values are `step@rollout`.
 */

export interface ReminderButton {
  actionId: string;
  label: string;
  /** `encodeStepRef(rolloutId, stepId)` */
  value: string;
}

export interface ReminderItem {
  rolloutId: string;
  stepId: string;
  kind: ReminderKind;
  title: string;
  dueLabel: string;
  /** **4d** Review member roles · 2 days overdue (due 23 November 2026) */
  text: Rich;
  /** The channel the rollout lives in, when known (owners may have steps in several rollouts). */
  channelLabel?: string;
  /** The rollout's living card, for an "open the card" link. */
  card?: MessageRef;
  buttons: { done: ReminderButton; snooze: ReminderButton; open: ReminderButton };
}

export interface ReminderView {
  locale: Locale;
  user: string;
  title: string;
  items: ReminderItem[];
  footer: string;
  /** Notification text. */
  fallbackText: string;
}

export function buildReminderView(
  template: Template,
  due: ReminderDue,
  rollouts: readonly Pick<Rollout, 'id' | 'conversation' | 'settings' | 'card'>[],
  locale?: Locale,
): ReminderView {
  const byId = new Map(rollouts.map((r) => [r.id, r]));
  const loc: Locale = locale ?? byId.get(due.steps[0]?.rolloutId ?? '')?.settings.locale ?? 'en';
  const tr = (k: string, v?: Vars) => t(loc, k, v);
  const several = new Set(due.steps.map((s) => s.rolloutId)).size > 1;
  const items = due.steps.map((s): ReminderItem => {
    const title = template.steps.find((x) => x.id === s.stepId)?.title[loc] ?? s.stepId;
    const date = formatDate(loc, s.due, 'long');
    const dueLabel =
      s.kind === 'overdue'
        ? tr('reminder.overdue', { count: s.daysOverdue, date })
        : s.kind === 'today'
          ? tr('reminder.due_today')
          : tr('reminder.due_tomorrow', { date });
    const value = encodeStepRef(s.rolloutId, s.stepId);
    const channel = byId.get(s.rolloutId)?.conversation.name;
    const card = byId.get(s.rolloutId)?.card;
    return {
      rolloutId: s.rolloutId,
      stepId: s.stepId,
      kind: s.kind,
      title,
      dueLabel,
      text: rich(loc, 'reminder.line', { step: s.stepId, title, due: dueLabel }),
      ...(several && channel ? { channelLabel: tr('reminder.in_channel', { channel }) } : {}),
      ...(card ? { card } : {}),
      buttons: {
        done: { actionId: ACTIONS.markDone, label: tr('reminder.btn_done'), value },
        snooze: { actionId: ACTIONS.snoozeStep, label: tr('reminder.btn_snooze'), value },
        open: { actionId: ACTIONS.openCard, label: tr('reminder.btn_open'), value },
      },
    };
  });
  const title = tr('reminder.title', { count: items.length });
  return { locale: loc, user: due.user, title, items, footer: tr('reminder.footer'), fallbackText: title };
}
