import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mrkdwn } from '../../src/slack/blocks/mrkdwn';
import { readiness, totalHours } from '../../src/core/checklist/readiness';
import { buildChecklistView } from '../../src/views/checklist';
import { ADMIN, type Harness, makeHarness, STORE_KINDS, TEMPLATE } from './harness';

describe('estimated hours of the built-in template', () => {
  it('is 7.5 h self-hosted and 5.5 h in the cloud (3a–3c and 5a do not apply there)', () => {
    expect(totalHours(TEMPLATE, 'self-hosted')).toBe(7.5);
    expect(totalHours(TEMPLATE, 'cloud-us')).toBe(5.5);
    expect(totalHours(TEMPLATE, 'cloud-eu')).toBe(5.5);
  });

  it('leaves step 6 unestimated (null), never 0', () => {
    expect(TEMPLATE.steps.find((s) => s.id === '6')?.hours).toBeNull();
  });
});

describe.each(STORE_KINDS)('readiness of a rollout (%s store)', (kind) => {
  let h: Harness;
  afterEach(() => h.close());

  describe('cloud', () => {
    let id: string;
    beforeEach(async () => {
      h = await makeHarness(kind, { hosting: 'cloud-eu' });
      id = (await h.rollout()).id;
    });

    it('starts at 0 % with 5.5 h left and step 6 not estimated', async () => {
      const r = readiness(TEMPLATE, (await h.service.get(id))!);
      expect(r).toEqual({
        applicable: 10,
        complete: 0,
        verified: 0,
        failing: 0,
        hoursTotal: 5.5,
        hoursDone: 0,
        hoursLeft: 5.5,
        unestimated: 1,
        unestimatedOpen: 1,
        stepsPct: 0,
        hoursPct: 0,
      });
    });

    it('counts hours left after some steps are done or verified', async () => {
      await h.service.markDone(id, '2a', ADMIN); // 0.5
      await h.service.markDone(id, '4e', ADMIN); // 1
      await h.service.recordChecks(
        id,
        [{ stepId: '4d', record: { status: 'pass', summary: { key: 'x' }, evidence: {}, at: '2026-11-25T10:00:00.000Z' } }],
        ADMIN,
      ); // 0.75
      const r = readiness(TEMPLATE, (await h.service.get(id))!);
      expect(r).toMatchObject({ applicable: 10, complete: 3, verified: 1, hoursTotal: 5.5, hoursDone: 2.25, hoursLeft: 3.25, stepsPct: 30, hoursPct: 41 });
    });

    it('does not count a failing step as done', async () => {
      await h.service.markDone(id, '4c', ADMIN);
      await h.service.recordChecks(
        id,
        [{ stepId: '4c', record: { status: 'fail', summary: { key: 'x' }, evidence: {}, at: '2026-11-25T10:00:00.000Z' } }],
        ADMIN,
      );
      expect(readiness(TEMPLATE, (await h.service.get(id))!)).toMatchObject({ complete: 0, failing: 1, hoursLeft: 5.5 });
    });

    it('drops skipped steps out of the count and the hours', async () => {
      await h.service.skip(id, '4e', 'built-in roles only', ADMIN); // 1 h
      const r = readiness(TEMPLATE, (await h.service.get(id))!);
      expect(r).toMatchObject({ applicable: 9, hoursTotal: 4.5, hoursLeft: 4.5 });
    });

    it('finishing step 6 adds no hours but clears the "not estimated" remainder', async () => {
      await h.service.markDone(id, '6', ADMIN);
      expect(readiness(TEMPLATE, (await h.service.get(id))!)).toMatchObject({
        complete: 1,
        hoursDone: 0,
        hoursLeft: 5.5,
        unestimated: 1,
        unestimatedOpen: 0,
        stepsPct: 10,
      });
    });

    it('reaches 100 % when every applicable step is complete', async () => {
      for (const s of ['1a', '2a', '2b', '4a', '4b', '4c', '4d', '4e', '5b', '6']) await h.service.markDone(id, s, ADMIN);
      expect(readiness(TEMPLATE, (await h.service.get(id))!)).toMatchObject({ stepsPct: 100, hoursPct: 100, hoursLeft: 0, unestimatedOpen: 0 });
    });

    it('the card says how much is left and that one step is not estimated, never "0 h" for it', async () => {
      await h.service.markDone(id, '2a', ADMIN);
      const r = (await h.service.get(id))!;
      const en = buildChecklistView(TEMPLATE, r, h.clock.now(), 'en');
      expect(mrkdwn(en.readinessLine)).toBe('*Readiness:* 1 of 10 steps done (10%) · 5 h of 5.5 h left (+ 1 step not estimated)');
      const nl = buildChecklistView(TEMPLATE, r, h.clock.now(), 'nl');
      expect(mrkdwn(nl.readinessLine)).toBe('*Gereedheid:* 1 van 10 stappen afgerond (10%) · nog 5 uur van 5,5 uur (+ 1 stap niet geschat)');
      const six = en.phases.flatMap((p) => p.steps).find((s) => s.id === '6');
      expect(six?.hoursLabel).toBe('not estimated');
    });
  });

  describe('self-hosted', () => {
    beforeEach(async () => {
      h = await makeHarness(kind, { hosting: 'self-hosted' });
    });

    it('starts with 14 applicable steps and 7.5 h', async () => {
      const r = readiness(TEMPLATE, await h.rollout());
      expect(r).toMatchObject({ applicable: 14, hoursTotal: 7.5, hoursLeft: 7.5, unestimatedOpen: 1 });
    });

    it('counts the licence steps once they are done', async () => {
      const id = (await h.rollout()).id;
      for (const s of ['3a', '3b', '3c']) await h.service.markDone(id, s, ADMIN); // 0.25 + 0.25 + 0.5
      expect(readiness(TEMPLATE, (await h.service.get(id))!)).toMatchObject({ complete: 3, hoursDone: 1, hoursLeft: 6.5, stepsPct: 21, hoursPct: 13 });
    });
  });
});

describe('a custom template with a cloud-only step', () => {
  // The built-in template has self-hosted-only steps (3a–3c, 5a) but no cloud-only one; a custom template may.
  const template = { ...TEMPLATE, steps: TEMPLATE.steps.map((s) => (s.id === '4a' ? { ...s, appliesTo: 'cloud' as const } : s)) };

  it.each([
    ['cloud-us', 'open', undefined],
    ['cloud-eu', 'open', undefined],
    ['self-hosted', 'not_applicable', true],
  ] as const)('on %s the step is %s', async (hosting, state, excluded) => {
    const h = await makeHarness('memory', { hosting, template });
    try {
      const r = await h.rollout();
      expect(r.steps['4a']?.state).toBe(state);
      expect(r.steps['4a']?.hostingExcluded).toBe(excluded);
      // Steps for every hosting stay, and self-hosted-only steps follow the hosting too.
      expect(r.steps['2a']?.state).toBe('open');
      expect(r.steps['3a']?.state).toBe(hosting === 'self-hosted' ? 'open' : 'not_applicable');
      const hours = template.steps
        .filter((s) => s.appliesTo === 'all' || (s.appliesTo === 'self-hosted') === (hosting === 'self-hosted'))
        .reduce((n, s) => n + (s.hours ?? 0), 0);
      expect(readiness(template, r).hoursTotal).toBe(hours);
    } finally {
      await h.close();
    }
  });
});
