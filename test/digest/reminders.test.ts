import { describe, expect, it } from 'vitest';
import { mrkdwn } from '../../src/slack/blocks/mrkdwn';
import { reminderKey, remindersDue, snoozeDate } from '../../src/core/digest/reminders';
import { buildReminderView } from '../../src/views/reminder';
import { makeRollout, TEMPLATE } from './fixtures';

const ALICE = 'slack:U0ALICE'; // Amsterdam
const BOB = 'slack:U0BOB'; // New York
const CAROL = 'slack:U0CAROL'; // time zone unknown: the rollout's
const TZ: Record<string, string> = { [ALICE]: 'Europe/Amsterdam', [BOB]: 'America/New_York' };
const userTz = (u: string) => TZ[u];
const none = new Set<string>();

function rollout(locale: 'nl' | 'en' = 'nl') {
  return makeRollout({
    locale,
    steps: {
      '1a': { owner: ALICE, due: '2026-11-26' }, // tomorrow
      '2a': { owner: ALICE, due: '2026-11-20' }, // overdue
      '2b': { owner: ALICE, due: '2026-11-26', state: 'verified' },
      '3a': { owner: ALICE, due: '2026-11-24', state: 'not_applicable', skipReason: 'n/a' },
      '3b': { owner: BOB, due: '2026-11-25', state: 'failing' }, // today
      '3c': { owner: BOB, due: '2026-11-24', snoozedUntil: '2026-11-25' }, // snoozed through today
      '4a': { owner: CAROL, due: '2026-11-27' }, // not yet
      '4b': { owner: CAROL, due: '2026-11-23', state: 'done' },
      '4c': { due: '2026-11-20' }, // nobody to remind
    },
  });
}

const at = (iso: string) => new Date(iso);

describe('remindersDue', () => {
  it('at the start of Alice’s day (09:30 Amsterdam): her overdue and due-tomorrow steps, most urgent first', () => {
    const due = remindersDue(TEMPLATE, [rollout()], at('2026-11-25T08:30:00Z'), userTz, none);
    expect(due).toHaveLength(1);
    expect(due[0]).toMatchObject({ user: ALICE, timezone: 'Europe/Amsterdam', date: '2026-11-25', key: `reminder:${ALICE}:2026-11-25` });
    expect(due[0]!.steps.map((s) => [s.stepId, s.kind, s.daysOverdue])).toEqual([
      ['2a', 'overdue', 5],
      ['1a', 'tomorrow', 0],
    ]);
  });

  it('never reminds about verified, not-applicable, done, unowned or snoozed steps', () => {
    const all = remindersDue(TEMPLATE, [rollout()], at('2026-11-25T15:00:00Z'), userTz, none).flatMap((d) => d.steps.map((s) => s.stepId));
    for (const id of ['2b', '3a', '4b', '4c', '3c', '4a']) expect(all).not.toContain(id);
  });

  it('each owner at their own working-day start: Bob in New York waits until 09:00 there', () => {
    expect(remindersDue(TEMPLATE, [rollout()], at('2026-11-25T13:59:00Z'), userTz, none).map((d) => d.user)).not.toContain(BOB);
    const later = remindersDue(TEMPLATE, [rollout()], at('2026-11-25T14:00:00Z'), userTz, none);
    expect(later.find((d) => d.user === BOB)).toMatchObject({ timezone: 'America/New_York', date: '2026-11-25', steps: [{ stepId: '3b', kind: 'today' }] });
  });

  it('not before 09:00, not after 18:00, not at the weekend (owner-local)', () => {
    expect(remindersDue(TEMPLATE, [rollout()], at('2026-11-25T07:59:00Z'), userTz, none)).toEqual([]);
    expect(remindersDue(TEMPLATE, [rollout()], at('2026-11-25T17:00:00Z'), userTz, none).map((d) => d.user)).not.toContain(ALICE);
    const saturday = makeRollout({ steps: { '1a': { owner: ALICE, due: '2026-11-20' } } });
    expect(remindersDue(TEMPLATE, [saturday], at('2026-11-28T10:00:00Z'), userTz, none)).toEqual([]);
  });

  it('at most once a day: a key in the sent log is not due again that day, but is the next day', () => {
    const sent = new Set([reminderKey(ALICE, '2026-11-25')]);
    expect(remindersDue(TEMPLATE, [rollout()], at('2026-11-25T10:00:00Z'), userTz, sent).map((d) => d.user)).not.toContain(ALICE);
    expect(remindersDue(TEMPLATE, [rollout()], at('2026-11-26T10:00:00Z'), userTz, sent).map((d) => d.user)).toContain(ALICE);
  });

  it('a snooze lasts through its date (inclusive): "snooze a day" pressed today sets tomorrow', () => {
    const r = rollout();
    expect(snoozeDate(at('2026-11-25T08:30:00Z'), r)).toBe('2026-11-26');
    const nextDay = remindersDue(TEMPLATE, [r], at('2026-11-26T15:00:00Z'), userTz, none).find((d) => d.user === BOB);
    expect(nextDay!.steps.map((s) => s.stepId)).toContain('3c');
  });

  it('an owner without a known time zone gets the rollout’s; the key uses the owner’s local date', () => {
    const r = makeRollout({ steps: { '1a': { owner: CAROL, due: '2026-11-20' }, '2a': { owner: 'slack:U0KIWI', due: '2026-11-20' } } });
    const tz = (u: string) => (u === 'slack:U0KIWI' ? 'Pacific/Auckland' : undefined);
    // 20:30 UTC Wednesday = 09:30 Thursday in Auckland; 21:30 in Amsterdam (after Carol's day).
    const due = remindersDue(TEMPLATE, [r], at('2026-11-25T20:30:00Z'), tz, none);
    expect(due.map((d) => d.key)).toEqual(['reminder:slack:U0KIWI:2026-11-26']);
    expect(remindersDue(TEMPLATE, [r], at('2026-11-26T08:30:00Z'), tz, none).map((d) => [d.user, d.timezone])).toContainEqual([CAROL, 'Europe/Amsterdam']);
  });

  it('one reminder per owner across rollouts', () => {
    const a = makeRollout({ id: 'slack:T1:CA', steps: { '1a': { owner: ALICE, due: '2026-11-20' } } });
    const b = makeRollout({ id: 'slack:T1:CB', steps: { '4d': { owner: ALICE, due: '2026-11-26' } } });
    const due = remindersDue(TEMPLATE, [a, b], at('2026-11-25T08:30:00Z'), userTz, none);
    expect(due).toHaveLength(1);
    expect(due[0]!.steps.map((s) => `${s.stepId}@${s.rolloutId}`)).toEqual(['1a@slack:T1:CA', '4d@slack:T1:CB']);
  });
});

describe('reminder view', () => {
  it('Dutch: title, due labels and the three buttons', () => {
    const r = rollout('nl');
    const [due] = remindersDue(TEMPLATE, [r], at('2026-11-25T08:30:00Z'), userTz, none);
    const v = buildReminderView(TEMPLATE, due!, [r]);
    expect(v.title).toBe('Herinnering: 2 stappen van de Bitwarden-uitrol wachten op je');
    expect(v.items.map((i) => i.dueLabel)).toEqual(['5 dagen te laat (deadline 20 november 2026)', 'deadline morgen, 26 november 2026']);
    expect(mrkdwn(v.items[0]!.text)).toBe(`*2a* ${TEMPLATE.steps.find((s) => s.id === '2a')!.title.nl} · 5 dagen te laat (deadline 20 november 2026)`);
    expect(v.items[0]!.buttons).toEqual({
      done: { actionId: 'mark_done', label: 'Afronden', value: `2a@${r.id}` },
      snooze: { actionId: 'snooze_step', label: 'Een dag uitstellen', value: `2a@${r.id}` },
      open: { actionId: 'open_card', label: 'Open de checklist', value: `2a@${r.id}` },
    });
    expect(v.footer).toContain('hoogstens één herinnering per dag');
  });

  it('English, one step due today', () => {
    const r = rollout('en');
    const due = remindersDue(TEMPLATE, [r], at('2026-11-25T14:30:00Z'), userTz, new Set([reminderKey(ALICE, '2026-11-25')]));
    const v = buildReminderView(TEMPLATE, due[0]!, [r]);
    expect(v.title).toBe('Reminder: 1 Bitwarden rollout step needs you');
    expect(v.items[0]).toMatchObject({ stepId: '3b', kind: 'today', dueLabel: 'due today' });
    expect(v.items[0]!.buttons.snooze.label).toBe('Snooze a day');
    expect(v.items[0]!.buttons.done.label).toBe('Mark done');
  });
});

/** Mutation survivors in reminders.ts (test/MUTATION.md): step and owner order, the last-resort zone. */
describe('mutation survivors: reminder order and the fallback zone', () => {
  it('steps of the same kind are ordered by due date, oldest first, not by template order', () => {
    const r = makeRollout({
      steps: {
        '1a': { owner: ALICE, due: '2026-11-26' }, // tomorrow
        '2a': { owner: ALICE, due: '2026-11-24' }, // overdue 1 day
        '2b': { owner: ALICE, due: '2026-11-20' }, // overdue 5 days
        '3b': { owner: ALICE, due: '2026-11-25' }, // today
      },
    });
    const [due] = remindersDue(TEMPLATE, [r], at('2026-11-25T08:30:00Z'), userTz, none);
    expect(due!.steps.map((s) => [s.stepId, s.kind])).toEqual([
      ['2b', 'overdue'],
      ['2a', 'overdue'],
      ['3b', 'today'],
      ['1a', 'tomorrow'],
    ]);
  });

  it('reminders come out ordered by owner, whatever order their steps are in', () => {
    // Bob's step comes first in the template; 14:30 UTC is inside both Alice's and Bob's working day.
    const r = makeRollout({ steps: { '1a': { owner: BOB, due: '2026-11-20' }, '2a': { owner: ALICE, due: '2026-11-20' } } });
    expect(remindersDue(TEMPLATE, [r], at('2026-11-25T14:30:00Z'), userTz, none).map((d) => d.user)).toEqual([ALICE, BOB]);
  });

  it('a rollout record without a time zone: the owner’s working day is taken in UTC', () => {
    const r = makeRollout({ steps: { '1a': { owner: CAROL, due: '2026-11-20' } } });
    delete (r.settings as Partial<typeof r.settings>).timezone;
    // 08:30 UTC: before 09:00 in UTC (in Amsterdam it would already be 09:30).
    expect(remindersDue(TEMPLATE, [r], at('2026-11-25T08:30:00Z'), userTz, none)).toEqual([]);
    expect(remindersDue(TEMPLATE, [r], at('2026-11-25T09:30:00Z'), userTz, none)).toMatchObject([
      { user: CAROL, timezone: 'UTC', date: '2026-11-25', key: `reminder:${CAROL}:2026-11-25`, steps: [{ stepId: '1a', kind: 'overdue' }] },
    ]);
  });
});
