import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Settings } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  capacityBeforeGoLive,
  fitsBeforeGoLive,
  planDueDates,
  planPatch,
  previousWorkingDay,
  replanDueDates,
  workingDaysBetween,
} from '../../src/core/digest/planning';
import { openStore } from '../../src/store';
import { FakeClock, makeRollout, TEMPLATE } from './fixtures';

const MON_FRI = [1, 2, 3, 4, 5];

describe('working days', () => {
  it('previous working day skips the weekend', () => {
    expect(previousWorkingDay('2026-11-30', MON_FRI)).toBe('2026-11-27'); // Monday → Friday
    expect(previousWorkingDay('2026-11-26', MON_FRI)).toBe('2026-11-25');
    expect(previousWorkingDay('2026-11-26', [])).toBeUndefined();
  });

  it('counts working days from today up to go-live (exclusive)', () => {
    expect(workingDaysBetween('2026-11-25', '2026-12-01', MON_FRI)).toBe(4); // Wed Thu Fri Mon
  });
});

describe('fitsBeforeGoLive', () => {
  it('4 working days × 4 h = 16 h', () => {
    expect(capacityBeforeGoLive(7.5, '2026-11-25', '2026-12-01', MON_FRI)).toEqual({ workingDays: 4, capacityHours: 16, fits: true });
    expect(fitsBeforeGoLive(7.5, '2026-11-25', '2026-12-01', MON_FRI)).toBe(true);
    expect(fitsBeforeGoLive(16.25, '2026-11-25', '2026-12-01', MON_FRI)).toBe(false);
  });

  it('on or after go-live nothing fits but zero', () => {
    expect(fitsBeforeGoLive(0.5, '2026-12-01', '2026-12-01', MON_FRI)).toBe(false);
    expect(fitsBeforeGoLive(0, '2026-12-02', '2026-12-01', MON_FRI)).toBe(true);
  });
});

describe('planDueDates: backwards from go-live by phase and hours', () => {
  const selfHosted = makeRollout({ hosting: 'self-hosted' });

  it('4 h a day: the whole self-hosted checklist (7.5 h) fits in the two working days before go-live', () => {
    const plan = planDueDates(TEMPLATE, selfHosted.steps, '2026-12-15', MON_FRI);
    expect(plan['6']).toBe('2026-12-14'); // the Monday before a Tuesday go-live
    expect(plan['5a']).toBe('2026-12-14');
    expect(plan['4e']).toBe('2026-12-14');
    expect(plan['3a']).toBe('2026-12-11'); // phase 4 (3.25 h) spills into Friday
    expect(plan['1a']).toBe('2026-12-11');
  });

  it('1 h a day: each phase ends where the next one starts, weekends skipped', () => {
    const plan = planDueDates(TEMPLATE, selfHosted.steps, '2026-12-15', MON_FRI, { hoursPerDay: 1 });
    expect(plan).toEqual({
      '1a': '2026-12-03',
      '2a': '2026-12-04',
      '2b': '2026-12-04',
      '3a': '2026-12-07',
      '3b': '2026-12-07',
      '3c': '2026-12-07',
      '4a': '2026-12-10', // phase 4 (3.25 h) runs Mon 7 – Thu 10
      '4b': '2026-12-10',
      '4c': '2026-12-10',
      '4d': '2026-12-10',
      '4e': '2026-12-10',
      '5a': '2026-12-14', // phase 5 (2 h): Fri 11 and Mon 14
      '5b': '2026-12-14',
      '6': '2026-12-14',
    });
  });

  it('steps that do not apply (cloud) get no date', () => {
    const cloud = makeRollout({ hosting: 'cloud-eu' });
    const plan = planDueDates(TEMPLATE, cloud.steps, '2026-12-15', MON_FRI, { hoursPerDay: 1 });
    expect(Object.keys(plan).sort()).toEqual(['1a', '2a', '2b', '4a', '4b', '4c', '4d', '4e', '5b', '6']);
  });

  it('never plans before today: a plan that does not fit is squeezed onto today', () => {
    const plan = planDueDates(TEMPLATE, selfHosted.steps, '2026-12-15', MON_FRI, { hoursPerDay: 1, today: '2026-12-09' });
    expect(plan['1a']).toBe('2026-12-09');
    expect(plan['3a']).toBe('2026-12-09');
    expect(plan['4a']).toBe('2026-12-10');
    expect(plan['6']).toBe('2026-12-14');
  });

  it('no go-live, no plan', () => {
    expect(planDueDates(TEMPLATE, selfHosted.steps, undefined, MON_FRI)).toEqual({});
  });
});

describe('planPatch: a manual due date wins', () => {
  it('plans only steps without a manual date, and marks nothing manual', () => {
    const r = makeRollout({
      settings: { goLive: '2026-12-15' },
      steps: { '4d': { due: '2026-12-01', dueSource: 'manual' }, '2a': { due: '2026-12-02' } },
    });
    const patch = planPatch(TEMPLATE, r, { hoursPerDay: 1 });
    const ids = patch.map((c) => c.stepId);
    expect(ids).not.toContain('4d');
    expect(ids).not.toContain('2a'); // a date without a source predates planning: manual
    expect(patch.find((c) => c.stepId === '4e')).toEqual({ stepId: '4e', to: '2026-12-10' });
  });

  it('go-live cleared: planned dates go, manual ones stay', () => {
    const r = makeRollout({ steps: { '4d': { due: '2026-12-01', dueSource: 'manual' }, '4e': { due: '2026-12-10', dueSource: 'planned' } } });
    expect(planPatch(TEMPLATE, r)).toEqual([{ stepId: '4e', from: '2026-12-10' }]);
  });

  it('fill mode keeps a planned date that has passed (it shows as overdue instead of sliding)', () => {
    const r = makeRollout({ settings: { goLive: '2026-12-15' }, steps: { '1a': { due: '2026-12-01', dueSource: 'planned' } } });
    const fill = planPatch(TEMPLATE, r, { mode: 'fill', today: '2026-12-09' });
    expect(fill.map((c) => c.stepId)).not.toContain('1a');
    expect(planPatch(TEMPLATE, r, { mode: 'full', today: '2026-12-09' }).find((c) => c.stepId === '1a')).toEqual({
      stepId: '1a',
      from: '2026-12-01',
      to: '2026-12-11',
    });
  });
});

describe('replanDueDates on the SQLite store', () => {
  it('writes planned dates with dueSource planned and one step.due_set audit entry each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bwprep-plan-'));
    const store = await openStore(`sqlite://${join(dir, 'bwprep.sqlite')}`);
    try {
      const r = makeRollout({ settings: { goLive: '2026-12-15' }, steps: { '4d': { due: '2026-12-01', dueSource: 'manual' } } });
      await store.rollouts.create(r, []);
      const clock = new FakeClock('2026-11-25T10:00:00Z');
      const actor = { user: 'bwprep:scheduler', surface: 'scheduler' as const };
      const { rollout, changes } = await replanDueDates(store.rollouts, TEMPLATE, r.id, clock, actor);
      expect(changes).toHaveLength(13);
      expect(rollout.steps['4d']).toMatchObject({ due: '2026-12-01', dueSource: 'manual' });
      expect(rollout.steps['1a']).toMatchObject({ due: '2026-12-11', dueSource: 'planned' });
      const audit = await store.audit.list(r.id);
      expect(audit.filter((a) => a.action === 'step.due_set')).toHaveLength(13);
      expect(audit.find((a) => a.stepId === '1a')).toMatchObject({ to: '2026-12-11', detail: { source: 'planned' } });
      // Idempotent: a second run changes nothing.
      expect((await replanDueDates(store.rollouts, TEMPLATE, r.id, clock, actor)).changes).toEqual([]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Mutation survivors in planning.ts (test/MUTATION.md): a day budget of zero, re-planning through the store
 * (options passed on, dates removed, audit `from`, nothing written when nothing changes) and planning that
 * must not depend on the server's own time zone.
 */
describe('mutation survivors: planning edges', () => {
  const withStore = async (fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<void>) => {
    const store = await openStore('sqlite://:memory:');
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };
  const actor = { user: 'bwprep:scheduler', surface: 'scheduler' as const };

  it('no budget (0 h a day) or no working days: no planned dates at all', () => {
    // Only step 6 (unestimated, 0 h) applies, so planning would not need any budget for it.
    expect(planDueDates(TEMPLATE, { '6': { state: 'open' } }, '2026-12-15', MON_FRI, { hoursPerDay: 0 })).toEqual({});
    expect(Object.keys(planDueDates(TEMPLATE, makeRollout().steps, '2026-12-15', []))).toEqual([]);
  });

  it('replanDueDates passes hours per day and mode on, and squeezes onto the rollout’s today', async () => {
    await withStore(async (store) => {
      // 1a's planned date has passed: `fill` keeps it (it shows as overdue).
      const r = makeRollout({ settings: { goLive: '2026-12-15' }, steps: { '1a': { due: '2026-12-01', dueSource: 'planned' } } });
      await store.rollouts.create(r, []);
      const clock = new FakeClock('2026-12-09T10:00:00Z'); // Wednesday 9 December in Amsterdam
      const { rollout } = await replanDueDates(store.rollouts, TEMPLATE, r.id, clock, actor, { hoursPerDay: 1, mode: 'fill' });
      expect(rollout.steps['1a']).toMatchObject({ due: '2026-12-01', dueSource: 'planned' });
      expect(rollout.steps['3a']).toMatchObject({ due: '2026-12-09', dueSource: 'planned' }); // 1 h a day: 7 Dec, squeezed onto today
      expect(rollout.steps['4a']).toMatchObject({ due: '2026-12-10', dueSource: 'planned' });
    });
  });

  it('go-live cleared: planned dates are removed, audited with their old date, and a second run writes nothing', async () => {
    await withStore(async (store) => {
      const r = makeRollout({ steps: { '4d': { due: '2026-12-01', dueSource: 'manual' }, '4e': { due: '2026-12-10', dueSource: 'planned' } } });
      await store.rollouts.create(r, []);
      const clock = new FakeClock('2026-11-25T10:00:00Z');
      const first = await replanDueDates(store.rollouts, TEMPLATE, r.id, clock, actor);
      expect(first.changes).toEqual([{ stepId: '4e', from: '2026-12-10' }]);
      expect(first.rollout.steps['4e']).not.toHaveProperty('due');
      expect(first.rollout.steps['4e']).not.toHaveProperty('dueSource');
      expect(first.rollout.steps['4d']).toMatchObject({ due: '2026-12-01', dueSource: 'manual' });
      expect((await store.rollouts.get(r.id))!.steps['4e']).not.toHaveProperty('due');
      const audit = (await store.audit.list(r.id)).filter((a) => a.action === 'step.due_set');
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ stepId: '4e', from: '2026-12-10', detail: { source: 'planned' } });
      expect(audit[0]).not.toHaveProperty('to');

      // Nothing left to change: no write at all (the version stays, no audit entry).
      const second = await replanDueDates(store.rollouts, TEMPLATE, r.id, clock, actor);
      expect(second.changes).toEqual([]);
      expect(second.rollout.version).toBe(first.rollout.version);
      expect((await store.rollouts.get(r.id))!.version).toBe(first.rollout.version);
      expect(await store.audit.list(r.id)).toHaveLength(1);
    });
  });

  describe('independent of the server’s time zone', () => {
    let saved: typeof Settings.defaultZone;
    beforeEach(() => {
      saved = Settings.defaultZone;
      // Samoa skipped Friday 30 December 2011 (from UTC−10 to UTC+14): a server there has no such local day.
      Settings.defaultZone = 'Pacific/Apia';
    });
    afterEach(() => {
      Settings.defaultZone = saved;
    });

    it('counts and plans on calendar days, whatever zone the server runs in', () => {
      const every = [1, 2, 3, 4, 5, 6, 7];
      expect(previousWorkingDay('2011-12-31', every)).toBe('2011-12-30');
      expect(workingDaysBetween('2011-12-29', '2012-01-01', every)).toBe(3);
      expect(planDueDates(TEMPLATE, { '1a': { state: 'open' }, '2a': { state: 'open' } }, '2011-12-31', every, { hoursPerDay: 0.5 })).toEqual({
        '2a': '2011-12-30',
        '1a': '2011-12-29',
      });
    });
  });
});

describe('decimal estimates that fill a day exactly', () => {
  // 0.3 h + (0.3 h + 3.4 h) is the whole 4 h of Monday 14 December, but in floating point 4.4e-16 h stay free;
  // the earlier phase must still go to the working day before (found by mutation testing).
  const base = TEMPLATE.steps[0]!;
  const template = {
    ...TEMPLATE,
    steps: [
      { ...base, id: 'p1', phase: 1, hours: 1 },
      { ...base, id: 'p2a', phase: 2, hours: 0.3 },
      { ...base, id: 'p2b', phase: 2, hours: 3.4 },
      { ...base, id: 'p3', phase: 3, hours: 0.3 },
    ],
  };
  const open = { state: 'open' as const };

  it('puts the earlier phase on the previous working day, not on the full one', () => {
    expect(planDueDates(template, { p1: open, p2a: open, p2b: open, p3: open }, '2026-12-15', MON_FRI, { hoursPerDay: 4 })).toEqual({
      p3: '2026-12-14',
      p2a: '2026-12-14',
      p2b: '2026-12-14',
      p1: '2026-12-11',
    });
  });
});
