import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../src/core/checklist/model';
import { buildChecklistView, type StepView } from '../../src/views/checklist';
import { ADMIN, makeHarness, OWNER, TEMPLATE } from './harness';

async function scenario(): Promise<Rollout> {
  const h = await makeHarness('memory', { hosting: 'cloud-eu' });
  const id = (await h.rollout()).id;
  await h.service.assign(id, '2a', OWNER.user, ADMIN);
  await h.service.setDue(id, '2a', '2026-11-20', ADMIN); // overdue on the 25th
  await h.service.setDue(id, '2b', '2026-11-25', ADMIN); // due today: not overdue
  await h.service.setDue(id, '4a', '2026-11-01', ADMIN);
  await h.service.markDone(id, '4a', ADMIN, 'imported'); // done: never overdue
  await h.service.skip(id, '4e', 'built-in roles only', ADMIN);
  await h.service.recordChecks(
    id,
    [{ stepId: '2b', record: { status: 'fail', summary: { key: 'card.never_checked' }, evidence: {}, at: '2026-11-25T08:00:00.000Z' } }],
    ADMIN,
  );
  const r = (await h.service.get(id))!;
  await h.close();
  return r;
}

const NOW = new Date('2026-11-25T09:00:00.000Z');
const steps = (v: ReturnType<typeof buildChecklistView>): Record<string, StepView> =>
  Object.fromEntries(v.phases.flatMap((p) => p.steps).map((s) => [s.id, s]));

describe('buildChecklistView', () => {
  it('English: overdue flag, owner, not estimated, excluded and skipped steps', async () => {
    const v = buildChecklistView(TEMPLATE, await scenario(), NOW, 'en');
    const s = steps(v);
    expect(v.title).toBe('Bitwarden rollout checklist · #bitwarden-rollout');
    expect(v.subtitle).toBe('Bitwarden cloud (EU) · language: English');
    expect(s['2a']).toMatchObject({
      owner: OWNER.user,
      overdue: true,
      icon: '⏰',
      dueLabel: 'overdue since 20 Nov 2026',
      title: 'Review the policy configuration',
    });
    expect(s['2b']).toMatchObject({ overdue: false, dueLabel: 'due 25 Nov 2026', state: 'open', lastCheck: { status: 'fail', label: 'Fail', icon: '❌' } });
    expect(s['4a']).toMatchObject({ overdue: false, state: 'done', doneBy: ADMIN.user, details: [['“', 'imported', '”']] });
    expect(s['4e']).toMatchObject({ excluded: true, stateLabel: 'Skipped', details: [['skipped: built-in roles only']] });
    expect(s['6']).toMatchObject({ hoursLabel: 'not estimated', dueLabel: 'no due date' });
    expect(s['2a']?.hoursLabel).toBe('0.5 h');
    expect(s['3a']).toMatchObject({
      excluded: true,
      stateLabel: 'Not applicable',
      details: [['does not apply to Bitwarden cloud (EU)']],
      actions: { done: false, reopen: false, check: false, assign: false },
    });
    // Phase 3 is all self-hosted: still listed, every step not applicable.
    expect(v.phases.map((p) => p.n)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('Dutch: the same facts in Dutch, with a decimal comma', async () => {
    const v = buildChecklistView(TEMPLATE, await scenario(), NOW, 'nl');
    const s = steps(v);
    expect(v.title).toBe('Checklist Bitwarden-uitrol · #bitwarden-rollout');
    expect(s['2a']).toMatchObject({ overdue: true, dueLabel: 'te laat sinds 20 nov 2026', title: 'Beleidsconfiguratie nalopen', hoursLabel: '0,5 uur' });
    expect(s['6']?.hoursLabel).toBe('niet geschat');
    expect(s['3a']?.details).toEqual([['niet van toepassing bij Bitwarden-cloud (EU)']]);
    expect(s['4e']?.stateLabel).toBe('Overgeslagen');
    expect(v.phases[2]?.title).toBe('Fase 3: Productielicentie (zelf gehost)');
  });

  it('"overdue" follows the rollout time zone: just after midnight in Amsterdam, yesterday’s due date is overdue', async () => {
    const r = await scenario();
    const lateUtc = new Date('2026-11-25T23:30:00.000Z'); // 00:30 on the 26th in Amsterdam
    expect(steps(buildChecklistView(TEMPLATE, r, lateUtc, 'en'))['2b']?.overdue).toBe(true);
    const earlyUtc = new Date('2026-11-25T22:30:00.000Z'); // 23:30 on the 25th in Amsterdam
    expect(steps(buildChecklistView(TEMPLATE, r, earlyUtc, 'en'))['2b']?.overdue).toBe(false);
  });

  it('a skipped step is never overdue', async () => {
    const r = await scenario();
    r.steps['4e'] = { ...r.steps['4e']!, due: '2026-01-01' };
    expect(steps(buildChecklistView(TEMPLATE, r, NOW, 'en'))['4e']?.overdue).toBe(false);
  });
});
