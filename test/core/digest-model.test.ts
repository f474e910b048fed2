import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckRun, DigestDay, DigestState, Rollout, StepRecord, StepState } from '../../src/core/checklist/model';
import { buildDigestModel, changeCount, nextDigestState, type DigestChanges } from '../../src/core/digest/model';
import { kvCheckHistory, type Store } from '../../src/core/ports';
import type { BitwardenVerifier, CheckOutcome, VerificationRequest } from '../../src/core/verification/ports';
import { VerificationService } from '../../src/core/verification/service';
import { openStore } from '../../src/store';
import { check, makeRollout, TEMPLATE } from '../digest/fixtures';
import { TestClock } from '../helpers/clock';
import { ADMIN, makeHarness, type Harness } from './harness';

/** Wednesday 25 November 2026, 09:00 in Amsterdam: "today" is 2026-11-25. */
const NOW = new Date('2026-11-25T08:00:00Z');
const TODAY = '2026-11-25';
const BOB = 'slack:U0BOB';
const CAROL = 'slack:U0CAROL';
const DAY = 86_400_000;

/** A rollout whose last digest saw `lastStates`; every other step open. */
function since(lastStates: Record<string, StepState> | undefined, steps: Record<string, Partial<StepRecord>> = {}): Rollout {
  const r = makeRollout({ steps });
  r.digest = { history: [], ...(lastStates ? { lastStates } : {}) };
  return r;
}

const changesOf = (r: Rollout) => buildDigestModel(TEMPLATE, r, { now: NOW }).changes;
const NONE: DigestChanges = { done: [], verified: [], reopened: [], drifted: [], skipped: [] };

describe('digest: what changed since the last digest, one step at a time', () => {
  // was → now: the list the manager sees the step in (none = not listed at all).
  const cases: [StepState, StepState, keyof DigestChanges | null][] = [
    ['open', 'done', 'done'],
    ['failing', 'done', 'done'],
    ['not_applicable', 'done', 'done'],
    ['verified', 'done', null], // already complete before: not "done" again
    ['open', 'verified', 'verified'],
    ['done', 'verified', 'verified'],
    ['failing', 'verified', 'verified'],
    ['done', 'open', 'reopened'],
    ['verified', 'open', 'reopened'],
    ['not_applicable', 'open', 'reopened'],
    ['done', 'failing', 'drifted'],
    ['verified', 'failing', 'drifted'],
    ['open', 'failing', null], // never complete: a failing check is no drift
    ['not_applicable', 'failing', null],
    ['open', 'not_applicable', 'skipped'],
    ['done', 'not_applicable', 'skipped'],
    ['verified', 'not_applicable', 'skipped'],
    ['open', 'open', null],
    ['done', 'done', null],
    ['verified', 'verified', null],
    ['failing', 'failing', null],
    ['not_applicable', 'not_applicable', null],
  ];
  it.each(cases)('%s → %s is listed under %s', (was, now, list) => {
    const c = changesOf(since({ '2a': was }, { '2a': { state: now } }));
    expect(c).toEqual(list ? { ...NONE, [list]: ['2a'] } : NONE);
    expect(changeCount(c!)).toBe(list ? 1 : 0);
  });

  it('a step the last digest did not know, or that is gone now, is not listed', () => {
    const r = since({ '2a': 'open', '9z': 'open' }, { '2b': { state: 'done' } });
    delete (r.steps as Record<string, StepRecord>)['2a'];
    expect(changesOf(r)).toEqual(NONE);
  });

  it('the first digest has no "changes" at all', () => {
    expect(changesOf(since(undefined, { '2a': { state: 'done' } }))).toBeUndefined();
  });

  it('a busy day: every list at once, in template order', () => {
    const r = since(
      {
        '1a': 'open',
        '2a': 'verified',
        '2b': 'open',
        '3a': 'done',
        '3b': 'open',
        '3c': 'done',
        '4a': 'open',
        '4b': 'verified',
        '4c': 'open',
        '4d': 'done',
        '5a': 'done',
        '5b': 'failing',
      },
      {
        '1a': { state: 'done' },
        '2a': { state: 'done' },
        '2b': { state: 'verified' },
        '3a': { state: 'open' },
        '3b': { state: 'not_applicable' },
        '3c': { state: 'failing' },
        '4a': { state: 'done' },
        '4b': { state: 'failing' },
        '4c': { state: 'failing' },
        '4d': { state: 'open' },
        '5a': { state: 'verified' },
        '5b': { state: 'done' },
      },
    );
    const c = changesOf(r)!;
    expect(c).toEqual({ done: ['1a', '4a', '5b'], verified: ['2b', '5a'], reopened: ['3a', '4d'], drifted: ['3c', '4b'], skipped: ['3b'] });
    expect(changeCount(c)).toBe(10);
  });
});

describe('changeCount adds every list', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
  it.each([
    [{ done: ids(1), verified: ids(2), reopened: ids(3), drifted: ids(4), skipped: ids(5) }, 15],
    [{ done: ids(5), verified: ids(4), reopened: ids(3), drifted: ids(2), skipped: ids(1) }, 15],
    [{ done: [], verified: [], reopened: [], drifted: [], skipped: ids(2) }, 2],
    [{ done: [], verified: [], reopened: [], drifted: ids(3), skipped: [] }, 3],
    [NONE, 0],
  ] as [DigestChanges, number][])('%j → %i', (c, n) => {
    expect(changeCount(c)).toBe(n);
  });
});

describe('digest: failing checks, overdue steps, unassigned steps', () => {
  const summary = { key: 'notice.saved' };
  const r = makeRollout({
    steps: {
      '1a': { state: 'open' },
      '2a': { state: 'done', due: '2026-11-20' },
      '2b': { state: 'verified', due: '2026-11-20', lastCheck: check('pass', 'notice.saved') },
      '3a': { state: 'not_applicable', due: '2026-11-01', lastCheck: check('fail', 'notice.saved') },
      '3b': { owner: BOB, due: '2026-11-23' },
      '3c': { due: '2026-11-24' },
      '4a': { owner: BOB, due: TODAY },
      '4b': { owner: BOB, due: '2026-11-26' },
      '4c': { state: 'failing', owner: CAROL, due: '2026-11-22', lastCheck: { status: 'fail', summary, evidence: {}, at: NOW.toISOString() } },
      '4d': { state: 'failing' },
      '4e': { state: 'done', owner: CAROL, lastCheck: check('warn', 'notice.saved') },
      '5a': { state: 'verified', owner: CAROL, due: '2026-11-24', lastCheck: check('pass', 'notice.saved') },
      '5b': { owner: BOB, lastCheck: check('fail', 'notice.saved') },
      '6': { owner: CAROL },
    },
  });
  const m = buildDigestModel(TEMPLATE, r, { now: NOW });

  it('failing: failing steps (with or without a check) and open steps whose check fails; skipped and passing steps not', () => {
    expect(m.failing).toEqual([
      { stepId: '4c', state: 'failing', status: 'fail', summary, owner: CAROL },
      { stepId: '4d', state: 'failing', status: 'fail' },
      { stepId: '5b', state: 'open', status: 'fail', summary: { key: 'notice.saved' }, owner: BOB },
    ]);
  });

  it('overdue: incomplete steps due before today, in template order, with days overdue and owner', () => {
    expect(m.overdue).toEqual([
      { stepId: '3b', due: '2026-11-23', daysOverdue: 2, owner: BOB },
      { stepId: '3c', due: '2026-11-24', daysOverdue: 1 },
      { stepId: '4c', due: '2026-11-22', daysOverdue: 3, owner: CAROL },
    ]);
  });

  it('unassigned: incomplete applicable steps without an owner', () => {
    expect(m.unassigned).toEqual(['1a', '3c', '4d']);
  });

  it('a step due today is not overdue; tomorrow it is, by one day', () => {
    const one = (due: string, state: StepState = 'open') =>
      buildDigestModel(TEMPLATE, makeRollout({ steps: { '1a': { state, due, owner: BOB } } }), { now: NOW }).overdue;
    expect(one(TODAY)).toEqual([]);
    expect(one('2026-11-26')).toEqual([]);
    expect(one('2026-11-24')).toEqual([{ stepId: '1a', due: '2026-11-24', daysOverdue: 1, owner: BOB }]);
    expect(one('2026-11-24', 'done')).toEqual([]);
    expect(one('2026-11-24', 'failing')).toEqual([{ stepId: '1a', due: '2026-11-24', daysOverdue: 1, owner: BOB }]);
  });

  it('nothing overdue, nobody unassigned, nothing failing when all is done and owned', () => {
    const steps: Record<string, Partial<StepRecord>> = {};
    for (const s of TEMPLATE.steps) steps[s.id] = { state: 'done', due: '2026-11-01' };
    const done = buildDigestModel(TEMPLATE, makeRollout({ steps }), { now: NOW });
    expect([done.failing, done.overdue, done.unassigned]).toEqual([[], [], []]);
  });
});

describe('digest: hours left and go-live capacity', () => {
  const goLive = (hoursPerDay?: number) =>
    buildDigestModel(TEMPLATE, makeRollout({ settings: { goLive: '2026-12-01' }, steps: { '1a': { state: 'done' }, '4e': { state: 'verified' } } }), {
      now: NOW,
      ...(hoursPerDay === undefined ? {} : { hoursPerDay }),
    }).goLive;

  it('hours left = estimated hours of the incomplete steps', () => {
    // 7.5 h estimated on the applicable steps (6 unestimated); 1a (0.5 h) and 4e (1 h) complete.
    expect(goLive()?.hoursLeft).toBe(6);
  });

  // Wed 25 Nov → Tue 1 Dec: 4 working days (Mon–Fri); 6 h left.
  it.each([
    [undefined, 16, true],
    [2, 8, true],
    [1.5, 6, true], // exactly enough
    [1, 4, false],
    [0.5, 2, false],
  ])('hoursPerDay=%s → capacity %i h, fits=%s', (h, capacityHours, fits) => {
    expect(goLive(h)).toEqual({ date: '2026-12-01', daysLeft: 6, hoursLeft: 6, workingDays: 4, capacityHours, fits });
  });
});

describe('digest: the trend', () => {
  const day = (date: string, pct: number): DigestDay => ({ date, stepsPct: pct, hoursPct: pct });
  it('the last four days before today, then today; older days, an earlier value for today and future days left out', () => {
    const r = makeRollout();
    r.digest = {
      history: [
        day('2026-11-18', 1),
        day('2026-11-19', 2),
        day('2026-11-20', 3),
        day('2026-11-21', 4),
        day('2026-11-23', 5),
        day('2026-11-24', 6),
        day(TODAY, 77),
        day('2026-11-26', 88),
      ],
    };
    expect(buildDigestModel(TEMPLATE, r, { now: NOW }).trend).toEqual([
      day('2026-11-20', 3),
      day('2026-11-21', 4),
      day('2026-11-23', 5),
      day('2026-11-24', 6),
      { date: TODAY, stepsPct: 0, hoursPct: 0 },
    ]);
  });

  it('with exactly four earlier days all are kept; with none, today alone', () => {
    const r = makeRollout();
    r.digest = { history: [day('2026-11-21', 4), day('2026-11-22', 5), day('2026-11-23', 6), day('2026-11-24', 7)] };
    expect(buildDigestModel(TEMPLATE, r, { now: NOW }).trend.map((d) => d.date)).toEqual(['2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24', TODAY]);
    expect(buildDigestModel(TEMPLATE, makeRollout(), { now: NOW }).trend).toEqual([{ date: TODAY, stepsPct: 0, hoursPct: 0 }]);
  });

  it('the lastState option wins over the rollout digest', () => {
    const r = makeRollout();
    r.digest = { history: [day('2026-11-24', 9)] };
    const lastState: DigestState = { history: [day('2026-11-23', 3)] };
    expect(buildDigestModel(TEMPLATE, r, { now: NOW, lastState }).trend.map((d) => d.date)).toEqual(['2026-11-23', TODAY]);
  });
});

describe('digest: the living card', () => {
  it('carries the rollout card when there is one', () => {
    const r = makeRollout();
    expect(buildDigestModel(TEMPLATE, r, { now: NOW })).not.toHaveProperty('card');
    r.card = { platform: 'slack', channel: 'C0ROLLOUT', ts: '1764057600.000100' };
    expect(buildDigestModel(TEMPLATE, r, { now: NOW }).card).toEqual({ platform: 'slack', channel: 'C0ROLLOUT', ts: '1764057600.000100' });
  });
});

describe('nextDigestState: history', () => {
  it('sorted oldest first, today replaced, capped at 30 days', () => {
    const dates: string[] = [];
    for (let i = 31; i >= 1; i--) dates.push(new Date(Date.parse(`${TODAY}T00:00:00Z`) - i * DAY).toISOString().slice(0, 10));
    // 31 earlier days plus an earlier value for today, out of order.
    const prevHistory = [...dates.map((d, i) => ({ date: d, stepsPct: i, hoursPct: i })), { date: TODAY, stepsPct: 99, hoursPct: 99 }].reverse();
    const r = makeRollout({ steps: { '1a': { state: 'done' } } });
    const model = buildDigestModel(TEMPLATE, r, { now: NOW });
    const next = nextDigestState({ history: prevHistory }, model, r, NOW);
    expect(next.history).toHaveLength(30);
    expect(next.history.map((d) => d.date)).toEqual([...dates.slice(-29), TODAY]);
    expect(next.history.at(-1)).toEqual({ date: TODAY, stepsPct: model.readiness.stepsPct, hoursPct: model.readiness.hoursPct });
    expect(next.history[0]).toEqual({ date: dates[2], stepsPct: 2, hoursPct: 2 });
  });
});

describe('kvCheckHistory on the SQLite store', () => {
  let store: Store;
  let clock: TestClock;
  beforeEach(async () => {
    store = await openStore('sqlite://:memory:');
    clock = new TestClock(NOW);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
  });
  const run = (at: number, tag: string): CheckRun => ({ at: new Date(at).toISOString(), actor: `slack:${tag}`, surface: 'slack', results: [] });
  const tags = (runs: CheckRun[]) => runs.map((r) => r.actor.slice(6));

  it('keeps the newest 30 runs, oldest first', async () => {
    const h = kvCheckHistory(store.kv, clock);
    for (let i = 0; i < 30; i++) await h.append('R', run(NOW.getTime() - (40 - i) * 60_000, `r${i}`));
    expect(tags(await h.list('R'))).toEqual(Array.from({ length: 30 }, (_, i) => `r${i}`));
    await h.append('R', run(NOW.getTime(), 'r30'));
    await h.append('R', run(NOW.getTime(), 'r31'));
    expect(tags(await h.list('R'))).toEqual(Array.from({ length: 30 }, (_, i) => `r${i + 2}`));
  });

  it('keeps runs of the last 30 days: exactly 30 days old stays, a millisecond older goes', async () => {
    const h = kvCheckHistory(store.kv, clock);
    const t = NOW.getTime();
    await h.append('R', run(t - 30 * DAY - 1, 'too-old'));
    expect(await h.list('R')).toEqual([]);
    await h.append('R', run(t - 30 * DAY, 'edge'));
    await h.append('R', run(t - 29 * DAY, 'day29'));
    await h.append('R', run(t - 60_000, 'recent'));
    expect(tags(await h.list('R'))).toEqual(['edge', 'day29', 'recent']);
    // A millisecond later the edge run is past the limit and goes on the next append.
    clock.advance(1);
    await h.append('R', run(t, 'now'));
    expect(tags(await h.list('R'))).toEqual(['day29', 'recent', 'now']);
    // A day later the 29-day-old run goes too.
    clock.advance(DAY);
    await h.append('R', run(t + DAY, 'tomorrow'));
    expect(tags(await h.list('R'))).toEqual(['recent', 'now', 'tomorrow']);
  });

  it('one history per rollout', async () => {
    const h = kvCheckHistory(store.kv, clock);
    await h.append('A', run(NOW.getTime(), 'a1'));
    await h.append('B', run(NOW.getTime(), 'b1'));
    await h.append('A', run(NOW.getTime(), 'a2'));
    expect(tags(await h.list('A'))).toEqual(['a1', 'a2']);
    expect(tags(await h.list('B'))).toEqual(['b1']);
    expect(await h.list('C')).toEqual([]);
    expect(tags((await store.kv.get<CheckRun[]>('checks:A')) ?? [])).toEqual(['a1', 'a2']);
  });

  it('the stored history itself lives 30 days after the last append', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    const h = kvCheckHistory(store.kv, clock);
    await h.append('R', run(NOW.getTime(), 'r'));
    vi.setSystemTime(NOW.getTime() + 29 * DAY);
    expect(tags(await h.list('R'))).toEqual(['r']);
    vi.setSystemTime(NOW.getTime() + 31 * DAY);
    expect(await h.list('R')).toEqual([]);
  });
});

describe('VerificationService: what it asks the verifier and what it records', () => {
  let harness: Harness;
  const requests: VerificationRequest[] = [];
  const outcome: CheckOutcome = { status: 'pass', summary: { key: 'notice.saved' }, evidence: {} };
  /** A stand-in for Bitwarden (the external port): answers only for the steps in `answers`. */
  const verifier = (answers: string[]): BitwardenVerifier => ({
    verify: async (req) => {
      requests.push(req);
      return Object.fromEntries(answers.map((id) => [id, outcome]));
    },
  });
  const service = (answers: string[]) =>
    new VerificationService({
      checklist: harness.service,
      verifier: verifier(answers),
      clock: harness.clock,
      defaultCredentials: { clientId: 'id', clientSecret: 'secret' },
    });
  beforeEach(() => {
    requests.length = 0;
  });
  afterEach(async () => {
    await harness.close();
  });

  it('self-hosted: the server URL goes to the verifier', async () => {
    harness = await makeHarness('sqlite', { hosting: 'self-hosted' });
    const r = await harness.rollout();
    await service(['1a']).run(r, { stepIds: ['1a'], actor: ADMIN });
    expect(requests[0]?.settings).toMatchObject({ hosting: 'self-hosted', serverUrl: 'https://vault.example.test' });
  });

  it('cloud: no server URL', async () => {
    harness = await makeHarness('sqlite', { hosting: 'cloud-eu' });
    const r = await harness.rollout();
    await service(['1a']).run(r, { stepIds: ['1a'], actor: ADMIN });
    expect(requests[0]?.settings).not.toHaveProperty('serverUrl');
  });

  it('records results only for the steps the verifier answered', async () => {
    harness = await makeHarness('sqlite', { hosting: 'cloud-eu' });
    const r = await harness.rollout();
    const s = service(['2a']);
    const res = await s.run(r, { stepIds: ['1a', '2a'], actor: ADMIN });
    expect(requests[0]?.stepIds).toEqual(['1a', '2a']);
    expect(res.results).toEqual([{ stepId: '2a', record: { ...outcome, at: harness.clock.now().toISOString() } }]);
    expect(res.rollout.steps['2a']?.lastCheck?.status).toBe('pass');
    expect(res.rollout.steps['1a']?.lastCheck).toBeUndefined();
    expect(s.isRunning(r.id)).toBe(false);
  });
});

/**
 * Mutation survivors in `buildDigestModel`'s step loop (test/MUTATION.md). The block above builds its model
 * in the `describe` body, where per-test coverage does not see it, so these build the model inside each test.
 */
describe('mutation survivors: which steps the digest lists as failing and unassigned', () => {
  /** Every step done and owned by Bob, except the ones given. */
  const model = (steps: Record<string, Partial<StepRecord>>) => {
    const all: Record<string, Partial<StepRecord>> = {};
    for (const s of TEMPLATE.steps) all[s.id] = { state: 'done', owner: BOB, ...steps[s.id] };
    for (const [id, rec] of Object.entries(steps)) if (!('owner' in rec)) delete all[id]!.owner;
    return buildDigestModel(TEMPLATE, makeRollout({ steps: all }), { now: NOW });
  };

  it('a skipped step is neither failing nor unassigned, even with a failing state or check and no owner', () => {
    const m = model({
      '2a': { state: 'not_applicable', lastCheck: check('fail', 'notice.saved') },
      '2b': { state: 'not_applicable' },
    });
    expect(m.failing).toEqual([]);
    expect(m.unassigned).toEqual([]);
  });

  it('failing by state alone, by a failed check alone, or by state with a warning check; the owner is carried', () => {
    const m = model({
      '1a': { state: 'failing' }, // no owner, never checked
      '2a': { state: 'open', owner: CAROL, lastCheck: check('fail', 'notice.saved') },
      '3a': { state: 'failing', owner: BOB, lastCheck: check('warn', 'notice.saved') },
      '3b': { state: 'done', lastCheck: check('pass', 'notice.saved') },
    });
    expect(m.failing).toEqual([
      { stepId: '1a', state: 'failing', status: 'fail' },
      { stepId: '2a', state: 'open', status: 'fail', summary: { key: 'notice.saved' }, owner: CAROL },
      { stepId: '3a', state: 'failing', status: 'warn', summary: { key: 'notice.saved' }, owner: BOB },
    ]);
  });

  it('unassigned: only incomplete steps without an owner', () => {
    const m = model({
      '1a': { state: 'failing' }, // incomplete, no owner
      '2a': { state: 'open', owner: CAROL }, // owned
      '3b': { state: 'open' }, // incomplete, no owner
      '3c': { state: 'done' }, // complete, no owner
      '4a': { state: 'verified' }, // complete, no owner
    });
    expect(m.unassigned).toEqual(['1a', '3b']);
  });
});
