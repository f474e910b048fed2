import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, check, type Harness, makeHarness, OWNER, rejection, STORE_KINDS, STRANGER } from './harness';

describe.each(STORE_KINDS)('audit trail (%s store)', (kind) => {
  let h: Harness;
  let id: string;
  beforeEach(async () => {
    h = await makeHarness(kind);
    id = (await h.rollout()).id;
  });
  afterEach(() => h.close());

  const last = async () => (await h.audit(id)).at(-1);

  it('records the creation of the rollout', async () => {
    expect(await h.audit(id)).toEqual([
      { rolloutId: id, at: '2026-11-25T09:00:00.000Z', actor: ADMIN.user, surface: 'slack', action: 'rollout.created', detail: { hosting: 'cloud-eu' } },
    ]);
  });

  it('records who, what, when and from which surface for every change', async () => {
    h.clock.set('2026-11-25T10:00:00.000Z');
    await h.service.assign(id, '2a', OWNER.user, ADMIN);
    expect(await last()).toEqual({
      rolloutId: id,
      at: '2026-11-25T10:00:00.000Z',
      actor: ADMIN.user,
      surface: 'slack',
      action: 'step.assigned',
      stepId: '2a',
      to: OWNER.user,
    });

    h.clock.set('2026-11-25T10:05:00.000Z');
    await h.service.markDone(id, '2a', { ...OWNER, surface: 'teams' }, 'done via Admin Console');
    expect(await last()).toEqual({
      rolloutId: id,
      at: '2026-11-25T10:05:00.000Z',
      actor: OWNER.user,
      surface: 'teams',
      action: 'step.done',
      stepId: '2a',
      from: 'open',
      to: 'done',
      detail: { note: 'done via Admin Console' },
    });

    await h.service.reopen(id, '2a', { ...OWNER, surface: 'console' });
    expect(await last()).toMatchObject({ actor: OWNER.user, surface: 'console', action: 'step.reopened', stepId: '2a', from: 'done', to: 'open' });

    await h.service.skip(id, '4e', 'built-in roles only', ADMIN);
    expect(await last()).toMatchObject({ action: 'step.skipped', stepId: '4e', from: 'open', to: 'not_applicable', detail: { reason: 'built-in roles only' } });

    await h.service.setDue(id, '4a', '2026-12-01', ADMIN);
    expect(await last()).toMatchObject({ action: 'step.due_set', stepId: '4a', to: '2026-12-01' });

    await h.service.unassign(id, '2a', OWNER);
    expect(await last()).toMatchObject({ actor: OWNER.user, action: 'step.unassigned', stepId: '2a', from: OWNER.user });

    await h.service.setLocale(id, 'nl', ADMIN);
    expect(await last()).toMatchObject({ action: 'rollout.locale_set', from: 'en', to: 'nl' });

    await h.service.recordChecks(id, [{ stepId: '2b', record: check('pass') }], { user: 'scheduler', surface: 'scheduler' });
    expect(await last()).toMatchObject({
      actor: 'scheduler',
      surface: 'scheduler',
      action: 'step.check',
      stepId: '2b',
      from: 'open',
      to: 'verified',
      detail: { status: 'pass' },
    });

    expect((await h.audit(id)).map((e) => e.action)).toEqual([
      'rollout.created',
      'step.assigned',
      'step.done',
      'step.reopened',
      'step.skipped',
      'step.due_set',
      'step.unassigned',
      'rollout.locale_set',
      'step.check',
    ]);
  });

  it('stamps the step with who changed it and when', async () => {
    h.clock.set('2026-11-26T07:45:00.000Z');
    const r = await h.service.markDone(id, '4a', ADMIN);
    expect(r.rollout.steps['4a']).toMatchObject({ updatedAt: '2026-11-26T07:45:00.000Z', updatedBy: ADMIN.user });
  });

  it('writes nothing for changes that change nothing', async () => {
    await h.service.assign(id, '2a', OWNER.user, ADMIN);
    await h.service.markDone(id, '2a', OWNER);
    await h.service.skip(id, '4e', 'no custom roles', ADMIN);
    await h.service.setDue(id, '4a', '2026-12-01', ADMIN);
    const before = await h.audit(id);
    const version = (await h.service.get(id))!.version;

    const noops = [
      await h.service.assign(id, '2a', OWNER.user, ADMIN),
      await h.service.markDone(id, '2a', OWNER),
      await h.service.reopen(id, '4a', ADMIN),
      await h.service.unassign(id, '4a', ADMIN),
      await h.service.skip(id, '4e', 'no custom roles', ADMIN),
      await h.service.setDue(id, '4a', '2026-12-01', ADMIN),
      await h.service.setDue(id, '4b', null, ADMIN),
      await h.service.setLocale(id, 'en', ADMIN),
      await h.service.updateSettings(id, { timezone: 'Europe/Amsterdam' }, ADMIN),
    ];
    expect(noops.map((n) => n.changed)).toEqual(noops.map(() => false));
    expect(noops.map((n) => n.notice.key)).toEqual([
      'notice.already_owner',
      'notice.already_done',
      'notice.already_open',
      'notice.already_unassigned',
      'notice.already_skipped',
      'notice.due_unchanged',
      'notice.due_already_none',
      'notice.locale_unchanged',
      'notice.settings_unchanged',
    ]);
    expect(await h.audit(id)).toEqual(before);
    expect((await h.service.get(id))!.version).toBe(version);
  });

  it('writes nothing for refused changes', async () => {
    const before = await h.audit(id);
    await rejection(h.service.markDone(id, '2a', STRANGER));
    await rejection(h.service.skip(id, '2a', 'because', STRANGER));
    await rejection(h.service.markDone(id, '3a', ADMIN));
    await rejection(h.service.setDue(id, '2a', 'tomorrow', ADMIN));
    expect(await h.audit(id)).toEqual(before);
    expect((await h.service.get(id))!.steps['2a']?.state).toBe('open');
  });

  it('records a credentials change without the secret', async () => {
    await h.service.updateSettings(
      id,
      {
        credentials: { clientId: 'organization.00000000-0000-4000-8000-000000000000', secret: { v: 1, iv: 'aXY=', tag: 'dGFn', data: 'ZmFrZS1jaXBoZXJ0ZXh0' } },
      },
      ADMIN,
    );
    const entries = (await h.audit(id)).slice(-2);
    expect(entries.map((e) => e.action)).toEqual(['rollout.settings_updated', 'rollout.credentials_set']);
    expect(JSON.stringify(entries)).not.toContain('ZmFrZS1jaXBoZXJ0ZXh0');
  });
});
