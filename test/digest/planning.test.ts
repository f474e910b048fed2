import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
    expect(planPatch(TEMPLATE, r, { mode: 'full', today: '2026-12-09' }).find((c) => c.stepId === '1a')).toEqual({ stepId: '1a', from: '2026-12-01', to: '2026-12-11' });
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
