import { describe, expect, it } from 'vitest';
import type { DigestState, Rollout } from '../../src/core/checklist/model';
import { buildDigestModel, HISTORY_DAYS, nextDigestState } from '../../src/core/digest/model';
import { buildDigestView, digestText, type DigestView } from '../../src/views/digest';
import { AT, check, makeRollout, TEMPLATE } from './fixtures';
import { mrkdwn } from '../../src/slack/blocks/mrkdwn';

/** Wednesday 25 November 2026, 09:00 in Amsterdam. */
const NOW = new Date('2026-11-25T08:00:00Z');
const ALICE = 'slack:U0ALICE';
const BOB = 'slack:U0BOB';
const CAROL = 'slack:U0CAROL';

/**
 * The check summaries are Messages rendered late in the reader's language. The real check keys come with the
 * verification module; these fixtures use catalogue keys that exist today, to see that rendering happens.
 */
const SUMMARY = { key: 'notice.assigned', vars: { step: '4c', owner: CAROL } };

/** Self-hosted, mid-rollout: every kind of change since yesterday's digest. */
function midRollout(locale: 'nl' | 'en'): Rollout {
  const r = makeRollout({
    locale,
    settings: { goLive: '2026-12-01' },
    steps: {
      '1a': { state: 'verified', owner: ALICE, lastCheck: check('pass', 'notice.saved') },
      '2a': { state: 'verified', owner: ALICE, lastCheck: check('pass', 'notice.saved') },
      '2b': { state: 'done', owner: BOB, doneBy: BOB },
      '3a': { state: 'not_applicable', skipReason: 'licence already uploaded' },
      '3b': { owner: BOB, due: '2026-11-23' },
      '3c': { due: '2026-11-24' },
      '4a': { owner: ALICE },
      '4b': { owner: ALICE, due: '2026-11-26' },
      '4c': { state: 'failing', owner: CAROL, lastCheck: { status: 'fail', summary: SUMMARY, evidence: {}, at: AT } },
      '4d': { state: 'done', owner: CAROL },
      '5b': { owner: BOB, lastCheck: check('fail', 'error.conflict') },
      '6': { owner: ALICE },
    },
  });
  const lastStates: DigestState['lastStates'] = {};
  for (const id of Object.keys(r.steps)) lastStates[id] = r.steps[id]!.state;
  Object.assign(lastStates, { '2a': 'done', '2b': 'open', '3a': 'open', '4a': 'done', '4c': 'verified' });
  r.digest = {
    lastSlot: '2026-11-24T09:00',
    lastPostedAt: '2026-11-24T08:00:05.000Z',
    lastStates,
    history: [
      { date: '2026-11-19', stepsPct: 0, hoursPct: 0 },
      { date: '2026-11-20', stepsPct: 8, hoursPct: 7 },
      { date: '2026-11-23', stepsPct: 15, hoursPct: 14 },
      { date: '2026-11-24', stepsPct: 23, hoursPct: 21 },
    ],
  };
  return r;
}

/** The digest view with its structured text rendered as Slack mrkdwn, as a Slack reader gets it. */
function view(r: Rollout, opts: Partial<Parameters<typeof buildDigestModel>[2]> = {}) {
  const model = buildDigestModel(TEMPLATE, r, { now: NOW, slot: '2026-11-25T09:00', ...opts });
  const v: DigestView = buildDigestView(TEMPLATE, model);
  return {
    ...v,
    raw: v,
    notices: v.notices.map(mrkdwn),
    lines: v.lines.map(mrkdwn),
    footer: mrkdwn(v.footer),
    sections: v.sections.map((s) => ({ ...s, items: s.items.map((i) => ({ ...i, text: mrkdwn(i.text) })) })),
  };
}

const section = (v: ReturnType<typeof view>, id: string) => v.sections.find((s) => s.id === id);

describe('digest model: the numbers', () => {
  const m = buildDigestModel(TEMPLATE, midRollout('nl'), { now: NOW });

  it('readiness by steps and by hours, hours left', () => {
    // 13 applicable (3a skipped), 4 complete; 7.25 h estimated, 2 h done.
    expect(m.readiness).toMatchObject({
      applicable: 13,
      complete: 4,
      stepsPct: 31,
      hoursTotal: 7.25,
      hoursDone: 2,
      hoursLeft: 5.25,
      hoursPct: 28,
      unestimatedOpen: 1,
    });
  });

  it('what changed since the last digest', () => {
    expect(m.changes).toEqual({ done: ['2b'], verified: ['2a'], reopened: ['4a'], drifted: ['4c'], skipped: ['3a'] });
  });

  it('failing checks, overdue with owners, unassigned', () => {
    expect(m.failing.map((f) => [f.stepId, f.state, f.owner])).toEqual([
      ['4c', 'failing', CAROL],
      ['5b', 'open', BOB],
    ]);
    expect(m.overdue).toEqual([
      { stepId: '3b', due: '2026-11-23', daysOverdue: 2, owner: BOB },
      { stepId: '3c', due: '2026-11-24', daysOverdue: 1 },
    ]);
    expect(m.unassigned).toEqual(['3c', '4e', '5a']);
  });

  it('days to go-live and whether the hours fit (Wed → Tue: 4 working days × 4 h)', () => {
    expect(m.goLive).toEqual({ date: '2026-12-01', daysLeft: 6, hoursLeft: 5.25, workingDays: 4, capacityHours: 16, fits: true });
  });

  it('trend: the last days of history and today, five points', () => {
    expect(m.trend.map((d) => d.stepsPct)).toEqual([0, 8, 15, 23, 31]);
  });
});

describe('digest view in Dutch', () => {
  const v = view(midRollout('nl'));
  const text = digestText(v.raw, { user: (u) => `<@${u.split(':')[1]}>` });

  it('title and readiness with a decimal comma', () => {
    expect(v.title).toBe('Dagelijks gereedheidsoverzicht · 25 november 2026');
    expect(v.lines[0]).toBe('*Gereedheid:* 31% van de stappen (4 van 13) · 28% van de uren · nog 5,25 uur (+ 1 stap niet geschat)');
  });

  it('go-live, fit and trend', () => {
    expect(v.lines).toContain('*Livegang:* 1 december 2026, nog 6 dagen');
    expect(v.lines).toContain('✅ Nog 5,25 uur werk past in 16 uur (4 werkdagen)');
    expect(v.lines).toContain('*Trend:* 0% → 8% → 15% → 23% → 31%');
  });

  it('changes since the last digest, in Bitwarden’s Dutch terms', () => {
    const items = section(v, 'changes')!.items.map((i) => i.text);
    expect(section(v, 'changes')!.title).toBe('Sinds het vorige overzicht');
    expect(items).toEqual([
      '☑️ Afgerond: 2b',
      '✅ Geverifieerd: 2a',
      '↩️ Heropend: 4a',
      '❌ Teruggevallen (de controle mislukt nu): 4c',
      '➖ Overgeslagen: 3a',
    ]);
  });

  it('failing checks with their one-line reason, rendered in Dutch with the owner as a mention', () => {
    const failing = section(v, 'failing')!;
    expect(failing.title).toBe('Mislukte controles');
    expect(failing.items[0]).toMatchObject({ stepId: '4c', owner: CAROL });
    const title = TEMPLATE.steps.find((st) => st.id === '4c')!.title.nl;
    expect(failing.items[0]!.text).toBe(`❌ *4c* ${title}: <@U0CAROL> is nu eigenaar van stap 4c.`);
    expect(failing.items[1]!.text).toContain('Iemand anders wijzigde de checklist');
  });

  it('overdue steps with owners ("te laat", deadline) and unassigned steps', () => {
    const overdue = section(v, 'overdue')!;
    expect(overdue.title).toBe('Te laat');
    expect(overdue.items[0]).toMatchObject({ stepId: '3b', owner: BOB });
    expect(overdue.items[0]!.text).toMatch(/^⏰ \*3b\* .+ · 2 dagen te laat \(deadline 23 november 2026\) · <@U0BOB>$/);
    expect(overdue.items[1]!.text).toMatch(/· 1 dag te laat \(deadline 24 november 2026\) · geen eigenaar$/);
    expect(section(v, 'unassigned')).toEqual({ id: 'unassigned', title: 'Nog geen eigenaar', items: [{ text: '3c, 4e, 5a' }] });
  });

  it('is short: a title, a few lines, four small sections and a link to the details', () => {
    expect(v.notices).toEqual([]);
    expect(text.split('\n').length).toBeLessThanOrEqual(25);
    expect(v.footer).toContain('/bwprep export');
    expect(v.openCardLabel).toBe('Open de checklist');
    expect(v.fallbackText).toBe('Bitwarden-uitrol: gereedheid 31% · 2 te laat · 2 mislukt');
  });
});

describe('digest view in English', () => {
  const v = view(midRollout('en'));

  it('the same numbers, English wording and decimal point', () => {
    expect(v.title).toBe('Daily readiness digest · 25 November 2026');
    expect(v.lines[0]).toBe('*Readiness:* 31% of steps (4 of 13) · 28% of hours · 5.25 h left (+ 1 step not estimated)');
    expect(v.lines).toContain('*Go-live:* 1 December 2026, 6 days to go');
    expect(v.lines).toContain('✅ 5.25 h left fits in 16 h (4 working days)');
    expect(section(v, 'changes')!.items.map((i) => i.text)).toContain('❌ Drifted (the check fails now): 4c');
    expect(section(v, 'overdue')!.items[0]!.text).toMatch(/· 2 days overdue \(due 23 November 2026\) · <@U0BOB>$/);
    expect(section(v, 'overdue')!.items[1]!.text).toMatch(/· 1 day overdue \(due 24 November 2026\) · no owner$/);
    expect(section(v, 'unassigned')!.title).toBe('No owner yet');
  });
});

describe('digest view: markers and edge cases', () => {
  /** Cloud, 1a and 2a done: 4.5 h of 5.5 h left, go-live tomorrow. */
  function tight(locale: 'nl' | 'en'): Rollout {
    return makeRollout({ locale, hosting: 'cloud-eu', settings: { goLive: '2026-11-26' }, steps: { '1a': { state: 'done' }, '2a': { state: 'verified' } } });
  }

  it('remaining hours that do not fit before go-live (4,5 uur in 1 werkdag)', () => {
    const nl = view(tight('nl'));
    expect(nl.lines[0]).toContain('nog 4,5 uur');
    expect(nl.lines).toContain('*Livegang:* 26 november 2026, nog 1 dag');
    expect(nl.lines).toContain('⚠️ Nog 4,5 uur werk past niet in 4 uur (1 werkdag)');
    expect(view(tight('en')).lines).toContain('⚠️ 4.5 h left does not fit in 4 h (1 working day)');
  });

  it('first digest: no comparison yet; no go-live date: says how to set one', () => {
    const r = makeRollout({ locale: 'nl' });
    const v = view(r);
    expect(section(v, 'changes')!.items).toEqual([{ text: 'Dit is het eerste overzicht. Wijzigingen zie je vanaf het volgende.' }]);
    expect(v.lines).toContain('Nog geen datum voor de livegang: stel die in met `/bwprep setup`.');
    expect(v.lines.some((l) => l.startsWith('*Trend:*'))).toBe(false);
  });

  it('go-live today and passed', () => {
    expect(view(makeRollout({ locale: 'en', settings: { goLive: '2026-11-25' } })).lines).toContain('*Go-live:* today, 25 November 2026');
    expect(view(makeRollout({ locale: 'nl', settings: { goLive: '2026-11-20' } })).lines).toContain('*Livegang:* 20 november 2026, 5 dagen geleden');
  });

  it('no changes since the last digest', () => {
    const r = makeRollout({ locale: 'en' });
    r.digest = { lastSlot: '2026-11-24T09:00', lastStates: Object.fromEntries(Object.entries(r.steps).map(([k, s]) => [k, s.state])), history: [] };
    expect(section(view(r), 'changes')!.items).toEqual([{ text: 'No changes.' }]);
  });

  it('preview, late and "checks could not run" markers', () => {
    const r = midRollout('nl');
    const preview = view(r, { preview: true });
    expect(preview.preview).toBe(true);
    expect(preview.notices[0]).toMatch(/^👁️ Voorbeeld/);
    const late = view(r, { late: true });
    expect(late.notices).toEqual(['🕘 Later geplaatst: bwprep was offline op het geplande tijdstip (09:00).']);
    const failed = view(r, { checkRunFailed: { key: 'error.conflict' } });
    expect(failed.notices[0]).toBe(
      '⚠️ De controles konden niet draaien: Iemand anders wijzigde de checklist op hetzelfde moment. Probeer het nog eens. De cijfers komen van de laatste geslaagde controle.',
    );
    const en = view(midRollout('en'), { checkRunFailed: { key: 'digest.checks_failed_unknown' }, late: true });
    expect(en.notices).toEqual([
      '🕘 Posted late: bwprep was offline at the scheduled time (09:00).',
      '⚠️ The checks could not run: something went wrong on our side. The figures are from the last successful check.',
    ]);
  });

  it('a preview is never marked late', () => {
    expect(view(midRollout('en'), { preview: true, late: true }).late).toBe(false);
  });
});

describe('nextDigestState', () => {
  it('records the slot, snapshots step states and updates today in the history', () => {
    const r = midRollout('en');
    const model = buildDigestModel(TEMPLATE, r, { now: NOW, slot: '2026-11-25T09:00' });
    const next = nextDigestState(r.digest, model, r, NOW);
    expect(next.lastSlot).toBe('2026-11-25T09:00');
    expect(next.lastPostedAt).toBe(NOW.toISOString());
    expect(next.lastStates).toMatchObject({ '2a': 'verified', '4a': 'open', '4c': 'failing' });
    expect(next.history.at(-1)).toEqual({ date: '2026-11-25', stepsPct: 31, hoursPct: 28 });
    // Posting again the same day replaces today's point instead of adding one.
    const again = nextDigestState(next, { ...model, readiness: { ...model.readiness, stepsPct: 38 } }, r, NOW);
    expect(again.history.filter((d) => d.date === '2026-11-25')).toEqual([{ date: '2026-11-25', stepsPct: 38, hoursPct: 28 }]);
  });

  it(`keeps at most ${HISTORY_DAYS} days`, () => {
    const r = midRollout('en');
    r.digest.history = Array.from({ length: 40 }, (_, i) => ({ date: `2026-10-${String((i % 31) + 1).padStart(2, '0')}`, stepsPct: i, hoursPct: i }));
    const next = nextDigestState(r.digest, buildDigestModel(TEMPLATE, r, { now: NOW }), r, NOW);
    expect(next.history).toHaveLength(HISTORY_DAYS);
    expect(next.history.at(-1)!.date).toBe('2026-11-25');
  });
});
