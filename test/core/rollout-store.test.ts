import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, Rollout } from '../../src/core/checklist/model';
import { isBwprepError } from '../../src/core/errors';
import { type Harness, makeHarness, STORE_KINDS } from './harness';

/**
 * The in-memory fake must behave like the real store in everything the service relies on; these run
 * the same assertions on both, so a service test that passes on the fake means something.
 */
describe.each(STORE_KINDS)('RolloutStore port as the service uses it (%s)', (kind) => {
  let h: Harness;
  let base: Rollout;
  const entry = (rolloutId: string, action: AuditEntry['action']): AuditEntry => ({
    rolloutId,
    at: '2026-11-25T09:00:00.000Z',
    actor: 'slack:U1',
    surface: 'slack',
    action,
  });

  beforeEach(async () => {
    h = await makeHarness(kind);
    base = await h.rollout();
  });
  afterEach(() => h.close());

  it('create stores version 1 and keeps the first writer', async () => {
    expect(base.version).toBe(1);
    const again = await h.rollouts.create({ ...base, createdBy: 'slack:USOMEONE', version: 0 }, [entry(base.id, 'rollout.created')]);
    expect(again).toEqual(base);
    expect((await h.audit(base.id)).filter((e) => e.action === 'rollout.created')).toHaveLength(1);
  });

  it('update bumps the version and writes its audit entries with it', async () => {
    const next = await h.rollouts.update(base.id, (r) => {
      r.steps['2a']!.state = 'done';
      return { rollout: r, audit: [entry(r.id, 'step.done')] };
    });
    expect(next.version).toBe(2);
    expect(await h.rollouts.get(base.id)).toEqual(next);
    expect((await h.audit(base.id)).map((e) => e.action)).toEqual(['rollout.created', 'step.done']);
  });

  it('a mutator returning null writes nothing', async () => {
    const same = await h.rollouts.update(base.id, (r) => {
      r.steps['2a']!.state = 'done';
      return null;
    });
    expect(same.version).toBe(1);
    expect((await h.rollouts.get(base.id))?.steps['2a']?.state).toBe('open');
    expect(await h.audit(base.id)).toHaveLength(1);
  });

  it('a throwing mutator writes nothing, even what it changed before throwing, and its error comes through', async () => {
    const boom = new Error('boom');
    await expect(
      h.rollouts.update(base.id, (r) => {
        r.steps['2a']!.state = 'done';
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await h.rollouts.get(base.id)).toEqual(base);
  });

  it('get returns a copy: changing it does not change the store', async () => {
    const got = (await h.rollouts.get(base.id))!;
    got.steps['2a']!.state = 'verified';
    expect((await h.rollouts.get(base.id))?.steps['2a']?.state).toBe('open');
  });

  it('update of an unknown rollout is a BwprepError', async () => {
    const err = await h.rollouts.update('slack:TNONE:CNONE', (r) => ({ rollout: r, audit: [] })).catch((e: unknown) => e);
    expect(isBwprepError(err)).toBe(true);
  });
});
