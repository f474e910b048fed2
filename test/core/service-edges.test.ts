import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, CheckRun, ConversationRef, MessageRef } from '../../src/core/checklist/model';
import { ChecklistService, isValidDate } from '../../src/core/checklist/service';
import type { Template } from '../../src/core/checklist/template';
import type { CheckHistoryStore } from '../../src/core/ports';
import { buildDigestModel } from '../../src/core/digest/model';
import { MemoryStore } from '../fakes/memory-store';
import { ADMIN, check, CONVERSATION, FakeClock, type Harness, makeHarness, OTHER, OWNER, rejection, STORE_KINDS, STRANGER, TEMPLATE } from './harness';

const T0 = '2026-11-25T09:00:00.000Z';
const ID = 'slack:T0TEST:C0ROLLOUT';
const SECRET = { v: 1 as const, iv: 'aXY=', tag: 'dGFn', data: 'ZGF0YQ==' };
const LINKED: ConversationRef = { platform: 'teams', workspace: 'tenant-1', channel: '19:abc', name: 'rollout-teams' };
const LINKED_KEY = 'teams:tenant-1:19:abc';

/** The audit entries after the `rollout.created` one, without rolloutId/at noise where they are all the same. */
async function entries(h: Harness, id: string): Promise<AuditEntry[]> {
  return (await h.audit(id)).filter((e) => e.action !== 'rollout.created');
}

describe('isValidDate', () => {
  it.each([
    ['2026-11-25', true],
    ['2026-02-29', false],
    ['2024-02-29', true],
    ['2026-13-01', false],
    ['+010000-01', false], // Date parses it and prints it back the same: only the pattern refuses it
    ['2026-1-05', false],
    ['', false],
  ])('%j → %s', (s, ok) => {
    expect(isValidDate(s)).toBe(ok);
  });
});

describe('templateFor', () => {
  const main: Template = { ...TEMPLATE, id: 'main', version: 1 };
  const a1: Template = { ...TEMPLATE, id: 'A', version: 1 };
  const a3: Template = { ...TEMPLATE, id: 'A', version: 3 };
  const a2: Template = { ...TEMPLATE, id: 'A', version: 2 };
  const z: Template = { ...TEMPLATE, id: 'Z', version: 7 };
  const svc = (templates?: Template[]) =>
    new ChecklistService({
      store: new MemoryStore(),
      template: main,
      ...(templates ? { templates } : {}),
      clock: new FakeClock(),
      defaults: { locale: 'en', hosting: 'cloud-eu', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] },
      globalAdmins: [],
    });

  it.each([
    [{ templateId: 'A', templateVersion: 1 }, a1],
    [{ templateId: 'A', templateVersion: 2 }, a2],
    [{ templateId: 'A', templateVersion: 3 }, a3],
    [{ templateId: 'A', templateVersion: 9 }, a3],
    [{ templateId: 'main', templateVersion: 1 }, main],
    [{ templateId: 'main', templateVersion: 5 }, main],
    [{ templateId: 'nope', templateVersion: 1 }, z],
  ])('%j', (ref, want) => {
    expect(svc([a1, a3, a2, z]).templateFor(ref)).toBe(want);
  });

  it('newest of the same id even when listed oldest-first or newest-last', () => {
    expect(svc([a1, a2, a3]).templateFor({ templateId: 'A', templateVersion: 4 })).toBe(a3);
    expect(svc([a2, a1]).templateFor({ templateId: 'A', templateVersion: 4 })).toBe(a2);
    expect(svc([a3, a1, a2]).templateFor({ templateId: 'A', templateVersion: 4 })).toBe(a3);
  });

  it('falls back to the main template without others', () => {
    expect(svc().templateFor({ templateId: 'nope', templateVersion: 1 })).toBe(main);
  });
});

describe.each(STORE_KINDS)('ChecklistService edges (%s store)', (kind) => {
  let h: Harness;
  let id: string;
  beforeEach(async () => {
    h = await makeHarness(kind);
    id = (await h.rollout()).id;
  });
  afterEach(() => h.close());

  it('creates the rollout with digests on and no server URL on cloud', async () => {
    const r = await h.service.ensureRollout(CONVERSATION, ADMIN);
    expect(r.settings.digestEnabled).toBe(true);
    expect('serverUrl' in r.settings).toBe(false);
  });

  it('assign: audit names the previous owner on a reassign, and a no-op changes nothing', async () => {
    const a = await h.service.assign(id, '2a', OWNER.user, ADMIN);
    expect(a).toMatchObject({ changed: true, notice: { key: 'notice.assigned', vars: { step: '2a', owner: OWNER.user } } });
    h.clock.set('2026-11-25T10:00:00.000Z');
    const b = await h.service.assign(id, '2a', OTHER.user, ADMIN);
    expect(b.rollout.steps['2a']).toMatchObject({ owner: OTHER.user, updatedAt: '2026-11-25T10:00:00.000Z', updatedBy: ADMIN.user });
    const c = await h.service.assign(id, '2a', OTHER.user, ADMIN);
    expect(c).toMatchObject({ changed: false, notice: { key: 'notice.already_owner', vars: { step: '2a', owner: OTHER.user } } });
    expect(c.rollout.steps['2a']?.updatedAt).toBe('2026-11-25T10:00:00.000Z');
    expect(await entries(h, id)).toEqual([
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'step.assigned', stepId: '2a', to: OWNER.user },
      {
        rolloutId: ID,
        at: '2026-11-25T10:00:00.000Z',
        actor: ADMIN.user,
        surface: 'slack',
        action: 'step.assigned',
        stepId: '2a',
        from: OWNER.user,
        to: OTHER.user,
      },
    ]);
  });

  it('unassign: audit entry and the no-op', async () => {
    await h.service.assign(id, '2b', OWNER.user, ADMIN);
    const r = await h.service.unassign(id, '2b', OWNER);
    expect(r).toMatchObject({ changed: true, notice: { key: 'notice.unassigned', vars: { step: '2b' } } });
    expect((await entries(h, id))[1]).toEqual({
      rolloutId: ID,
      at: T0,
      actor: OWNER.user,
      surface: 'slack',
      action: 'step.unassigned',
      stepId: '2b',
      from: OWNER.user,
    });
    const again = await h.service.unassign(id, '2b', OWNER);
    expect(again).toMatchObject({ changed: false, notice: { key: 'notice.already_unassigned', vars: { step: '2b' } } });
  });

  it.each(['done', 'verified'] as const)('markDone on a %s step is a no-op', async (state) => {
    await h.service.markDone(id, '2a', ADMIN);
    if (state === 'verified') await h.service.recordChecks(id, [{ stepId: '2a', record: check('pass') }], ADMIN);
    const n = (await h.audit(id)).length;
    const r = await h.service.markDone(id, '2a', ADMIN, 'again');
    expect(r).toMatchObject({ changed: false, notice: { key: 'notice.already_done', vars: { step: '2a' } } });
    expect(r.rollout.steps['2a']?.state).toBe(state);
    expect(r.rollout.steps['2a']?.note).toBeUndefined();
    expect(await h.audit(id)).toHaveLength(n);
  });

  it('markDone refuses a skipped step, and a failing step can be marked done again', async () => {
    await h.service.skip(id, '4b', 'not needed', ADMIN);
    const e = await rejection(h.service.markDone(id, '4b', ADMIN));
    expect(e.code).toBe('invalid_transition');
    expect(e.userMessage).toEqual({ key: 'error.skipped_step', vars: { step: '4b' } });
    await h.service.markDone(id, '4c', ADMIN);
    await h.service.recordChecks(id, [{ stepId: '4c', record: check('fail') }], ADMIN);
    const r = await h.service.markDone(id, '4c', ADMIN, 'fixed');
    expect(r).toMatchObject({ changed: true, notice: { key: 'notice.done', vars: { step: '4c' } } });
    expect((await h.audit(id)).at(-1)).toEqual({
      rolloutId: ID,
      at: T0,
      actor: ADMIN.user,
      surface: 'slack',
      action: 'step.done',
      stepId: '4c',
      from: 'failing',
      to: 'done',
      detail: { note: 'fixed' },
    });
  });

  it('reopen: the owner reopens their own claim; a skip only an admin undoes', async () => {
    await h.service.assign(id, '4a', OWNER.user, ADMIN);
    await h.service.markDone(id, '4a', OWNER, 'n');
    const r = await h.service.reopen(id, '4a', OWNER);
    expect(r).toMatchObject({ changed: true, notice: { key: 'notice.reopened', vars: { step: '4a' } } });
    expect((await h.audit(id)).at(-1)).toEqual({
      rolloutId: ID,
      at: T0,
      actor: OWNER.user,
      surface: 'slack',
      action: 'step.reopened',
      stepId: '4a',
      from: 'done',
      to: 'open',
    });

    await h.service.markDone(id, '4a', OWNER);
    const s = await rejection(h.service.reopen(id, '4a', STRANGER));
    expect(s.code).toBe('forbidden');
    expect(s.userMessage).toEqual({ key: 'error.forbidden.mark_owned', vars: { step: '4a', owner: OWNER.user, admins: ADMIN.user } });

    await h.service.skip(id, '4a', 'later', ADMIN);
    const u = await rejection(h.service.reopen(id, '4a', OWNER));
    expect(u.userMessage).toEqual({ key: 'error.forbidden.unskip', vars: { step: '4a', owner: OWNER.user, admins: ADMIN.user } });
    const ok = await h.service.reopen(id, '4a', ADMIN);
    expect(ok.rollout.steps['4a']).toMatchObject({ state: 'open' });
    expect(ok.rollout.steps['4a']?.skipReason).toBeUndefined();
  });

  it('skip: a new reason re-skips, the same reason is a no-op', async () => {
    const a = await h.service.skip(id, '4d', '  no users yet ', ADMIN);
    expect(a).toMatchObject({ changed: true, notice: { key: 'notice.skipped', vars: { step: '4d' } } });
    const b = await h.service.skip(id, '4d', 'no users yet', ADMIN);
    expect(b).toMatchObject({ changed: false, notice: { key: 'notice.already_skipped', vars: { step: '4d' } } });
    const c = await h.service.skip(id, '4d', 'other', ADMIN);
    expect(c).toMatchObject({ changed: true, notice: { key: 'notice.skipped', vars: { step: '4d' } } });
    expect(c.rollout.steps['4d']?.skipReason).toBe('other');
    expect((await entries(h, id)).map((e) => [e.action, e.stepId, e.from, e.to, e.detail])).toEqual([
      ['step.skipped', '4d', 'open', 'not_applicable', { reason: 'no users yet' }],
      ['step.skipped', '4d', 'not_applicable', 'not_applicable', { reason: 'other' }],
    ]);
  });

  it('setDue: set, change, same, clear, clear again; a refusal names the owner and admins', async () => {
    const steps: [string | null, boolean, string, Record<string, string>][] = [
      ['2026-12-01', true, 'notice.due_set', { step: '2a', date: '2026-12-01' }],
      ['2026-12-05', true, 'notice.due_set', { step: '2a', date: '2026-12-05' }],
      ['2026-12-05', false, 'notice.due_unchanged', { step: '2a' }],
      [null, true, 'notice.due_cleared', { step: '2a' }],
      [null, false, 'notice.due_already_none', { step: '2a' }],
    ];
    for (const [date, changed, key, vars] of steps) {
      const r = await h.service.setDue(id, '2a', date, ADMIN);
      expect({ changed: r.changed, notice: r.notice }).toEqual({ changed, notice: { key, vars } });
    }
    expect((await entries(h, id)).map((e) => [e.action, e.stepId, e.from, e.to])).toEqual([
      ['step.due_set', '2a', undefined, '2026-12-01'],
      ['step.due_set', '2a', '2026-12-01', '2026-12-05'],
      ['step.due_set', '2a', '2026-12-05', undefined],
    ]);
    const e = await rejection(h.service.setDue(id, '2a', '+010000-01', ADMIN));
    expect(e.code).toBe('bad_date');
    await h.service.assign(id, '2a', OWNER.user, ADMIN);
    const f = await rejection(h.service.setDue(id, '2a', '2026-12-01', STRANGER));
    expect(f.userMessage).toEqual({ key: 'error.forbidden.due_owned', vars: { step: '2a', owner: OWNER.user, admins: ADMIN.user } });
  });

  it('snooze: a stranger is refused with the mark message; a second click writes nothing', async () => {
    const e = await rejection(h.service.snooze(id, '2a', '2026-11-27', STRANGER));
    expect(e).toMatchObject({ code: 'forbidden', userMessage: { key: 'error.forbidden.mark', vars: { step: '2a', owner: '', admins: ADMIN.user } } });
    const a = await h.service.snooze(id, '2a', '2026-11-27', ADMIN);
    expect(a).toMatchObject({ changed: true, notice: { key: 'notice.snoozed', vars: { step: '2a', date: '2026-11-27' } } });
    const b = await h.service.snooze(id, '2a', '2026-11-27', ADMIN);
    expect(b).toEqual({ rollout: b.rollout, changed: false, notice: { key: 'notice.snoozed', vars: { step: '2a', date: '2026-11-27' } } });
    expect(await entries(h, id)).toEqual([
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'step.snoozed', stepId: '2a', to: '2026-11-27' },
    ]);
  });

  it('refusals without a step say so with empty step/owner and list rollout + global admins', async () => {
    const e = await rejection(h.service.updateSettings(id, { digestTime: '10:00' }, STRANGER));
    expect(e).toMatchObject({ code: 'forbidden', userMessage: { key: 'error.forbidden.settings', vars: { step: '', owner: '', admins: ADMIN.user } } });
    const u = await rejection(h.service.unlink(id, LINKED, STRANGER));
    expect(u.userMessage).toEqual({ key: 'error.forbidden.link', vars: { step: '', owner: '', admins: ADMIN.user } });
  });

  it('hosting-excluded steps refuse changes naming the step', async () => {
    const e = await rejection(h.service.markDone(id, '3a', ADMIN));
    expect(e).toMatchObject({ code: 'not_applicable_step', userMessage: { key: 'error.hosting_excluded', vars: { step: '3a' } } });
  });

  it('a step the rollout lacks is unknown, listing the rollout steps', async () => {
    await h.rollouts.update(id, (r) => {
      for (const k of Object.keys(r.steps)) if (k !== '1a' && k !== '2a') delete r.steps[k];
      return { rollout: r, audit: [] };
    });
    const e = await rejection(h.service.assign(id, '4a', OWNER.user, ADMIN));
    expect(e).toMatchObject({ code: 'unknown_step', userMessage: { key: 'error.unknown_step', vars: { step: '4a', steps: '1a, 2a' } } });
  });

  it('updateSettings: exact changed keys, credentials kept out of the detail, unchanged values are a no-op', async () => {
    const same = await h.service.updateSettings(id, { digestTime: '09:00', locale: 'en' }, ADMIN);
    expect(same).toMatchObject({ changed: false, notice: { key: 'notice.settings_unchanged' }, replanned: [] });
    const r = await h.service.updateSettings(id, { digestTime: '10:00', locale: 'en', credentials: { clientId: 'organization.abc', secret: SECRET } }, ADMIN);
    expect(r).toMatchObject({ changed: true, notice: { key: 'notice.settings_saved' }, replanned: [] });
    expect(await entries(h, id)).toEqual([
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'rollout.settings_updated', detail: { changed: ['digestTime'] } },
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'rollout.credentials_set', detail: { clientId: 'organization.abc' } },
    ]);
    const c = await h.service.updateSettings(id, { credentials: undefined }, ADMIN);
    expect(c.changed).toBe(true);
    expect(c.rollout.settings.credentials).toBeUndefined();
    expect((await entries(h, id)).slice(2)).toEqual([
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'rollout.settings_updated', detail: { changed: [] } },
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'rollout.credentials_set', detail: { clientId: null } },
    ]);
  });

  it('updateSettings: setupAt is recorded once and never moved', async () => {
    const a = await h.service.updateSettings(id, { setupAt: '2026-11-25T09:00:00.000Z' }, ADMIN);
    expect(a.changed).toBe(true);
    expect(a.rollout.settings.setupAt).toBe('2026-11-25T09:00:00.000Z');
    const b = await h.service.updateSettings(id, { setupAt: '2026-11-26T09:00:00.000Z' }, ADMIN);
    expect(b).toMatchObject({ changed: false, notice: { key: 'notice.settings_unchanged' } });
    expect(b.rollout.settings.setupAt).toBe('2026-11-25T09:00:00.000Z');
    expect(await entries(h, id)).toEqual([
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'rollout.settings_updated', detail: { changed: ['setupAt'] } },
    ]);
  });

  it('without a go-live date a time zone change re-plans nothing, even a left-over planned date', async () => {
    await h.rollouts.update(id, (r) => {
      r.steps['2a']!.due = '2026-12-31';
      r.steps['2a']!.dueSource = 'planned';
      return { rollout: r, audit: [] };
    });
    const r = await h.service.updateSettings(id, { timezone: 'America/New_York' }, ADMIN);
    expect(r.replanned).toEqual([]);
    expect(r.rollout.steps['2a']).toMatchObject({ due: '2026-12-31', dueSource: 'planned' });
    expect(await entries(h, id)).toEqual([
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'rollout.settings_updated', detail: { changed: ['timezone'] } },
    ]);
  });

  it('switching hosting re-evaluates only the hosting-excluded steps; a skip stays a skip', async () => {
    await h.service.skip(id, '4b', 'not now', ADMIN);
    const r = await h.service.updateSettings(id, { hosting: 'self-hosted', serverUrl: 'https://vault.example.test' }, ADMIN);
    for (const s of ['3a', '3b', '3c', '5a']) {
      expect(r.rollout.steps[s]?.state).toBe('open');
      expect(r.rollout.steps[s]?.hostingExcluded).toBeUndefined();
    }
    expect(r.rollout.steps['4b']).toMatchObject({ state: 'not_applicable', skipReason: 'not now' });
    expect(r.rollout.steps['2a']?.state).toBe('open');
    expect(r.rollout.steps['4b']?.hostingExcluded).toBeUndefined();
    const back = await h.service.updateSettings(id, { hosting: 'cloud-eu' }, ADMIN);
    for (const s of ['3a', '3b', '3c', '5a']) expect(back.rollout.steps[s]).toMatchObject({ state: 'not_applicable', hostingExcluded: true });
    expect(back.rollout.steps['4b']).toMatchObject({ state: 'not_applicable', skipReason: 'not now' });
    expect(back.rollout.steps['4b']?.hostingExcluded).toBeUndefined();
    expect(back.rollout.steps['2a']?.state).toBe('open');
  });

  it('a settings change without hosting leaves the steps as they are', async () => {
    await h.rollouts.update(id, (r) => {
      r.steps['3a']!.state = 'open';
      return { rollout: r, audit: [] };
    });
    const r = await h.service.updateSettings(id, { digestTime: '11:00' }, ADMIN);
    expect(r.rollout.steps['3a']?.state).toBe('open');
  });

  describe('re-planning on settings', () => {
    /** A go-live date plans every step; clearing 2a's date leaves it for the next full re-plan to fill. */
    async function planned(): Promise<string> {
      const g = await h.service.updateSettings(id, { goLive: '2027-01-15' }, ADMIN);
      expect(g.replanned.length).toBeGreaterThan(0);
      const due = g.rollout.steps['2a']?.due;
      expect(due).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      await h.service.setDue(id, '2a', null, ADMIN);
      return due!;
    }

    it.each([
      ['timezone', { timezone: 'America/New_York' }],
      ['weekdays', { weekdays: [1, 2, 3, 4] }],
      ['hosting', { hosting: 'cloud-us' as const }],
    ])('a %s change re-plans', async (_n, patch) => {
      await planned();
      const before = (await h.audit(id)).length;
      const r = await h.service.updateSettings(id, patch, ADMIN);
      const c = r.replanned.find((x) => x.stepId === '2a');
      expect(c?.to).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(r.rollout.steps['2a']).toMatchObject({ due: c!.to, dueSource: 'planned' });
      const added = (await h.audit(id)).slice(before);
      expect(added.find((e) => e.stepId === '2a')).toEqual({
        rolloutId: ID,
        at: T0,
        actor: ADMIN.user,
        surface: 'slack',
        action: 'step.due_set',
        stepId: '2a',
        to: c!.to,
        detail: { source: 'planned' },
      });
    });

    it('other changes do not re-plan', async () => {
      await planned();
      const r = await h.service.updateSettings(id, { digestTime: '07:30' }, ADMIN);
      expect(r.replanned).toEqual([]);
      expect(r.rollout.steps['2a']?.due).toBeUndefined();
    });

    it('replanDueDates fill only fills gaps; full also moves stale planned dates', async () => {
      const due2a = await planned();
      const stale = await h.rollouts.update(id, (r) => {
        r.steps['2b']!.due = '2026-12-31';
        r.steps['2b']!.dueSource = 'planned';
        return { rollout: r, audit: [] };
      });
      expect(stale.steps['2b']?.due).toBe('2026-12-31');
      const before = (await h.audit(id)).length;
      const fill = await h.service.replanDueDates(id, 'fill', ADMIN);
      expect(fill.changes).toEqual([{ stepId: '2a', to: due2a }]);
      expect(fill.rollout.steps['2b']?.due).toBe('2026-12-31');
      expect((await h.audit(id)).slice(before)).toEqual([
        { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'step.due_set', stepId: '2a', to: due2a, detail: { source: 'planned' } },
      ]);
      const full = await h.service.replanDueDates(id, 'full', ADMIN);
      const c = full.changes.find((x) => x.stepId === '2b');
      expect(c?.from).toBe('2026-12-31');
      expect((await h.audit(id)).find((e) => e.stepId === '2b' && e.from === '2026-12-31')).toMatchObject({
        action: 'step.due_set',
        from: '2026-12-31',
        to: c!.to,
        detail: { source: 'planned' },
      });
    });
  });

  it('digest slot: release only our claim, back to the previous slot or none', async () => {
    await h.service.claimDigestSlot(id, 's1', () => false);
    await h.service.releaseDigestSlot(id, 's2', 's0');
    expect((await h.service.get(id))?.digest.lastSlot).toBe('s1');
    await h.service.releaseDigestSlot(id, 's1', 's0');
    expect((await h.service.get(id))?.digest.lastSlot).toBe('s0');
    await h.service.claimDigestSlot(id, 's3', () => false);
    await h.service.releaseDigestSlot(id, 's3', undefined);
    const r = await h.service.get(id);
    expect(r?.digest.lastSlot).toBeUndefined();
    expect(r && 'lastSlot' in r.digest).toBe(false);
  });

  it('recordDigest: a preview writes an entry without a slot', async () => {
    await h.service.recordDigest(id, { steps: [] } as never, { at: new Date('2026-11-26T08:00:00.000Z'), detail: { preview: true } }, ADMIN);
    expect(await entries(h, id)).toEqual([
      { rolloutId: ID, at: '2026-11-26T08:00:00.000Z', actor: ADMIN.user, surface: 'slack', action: 'digest.posted', detail: { preview: true } },
    ]);
  });

  it('markUnreachable: once, audited; the installation still upgrades it; clearUnreachable audits', async () => {
    expect(await h.service.markUnreachable(id, 'channel_not_found')).toBe(true);
    expect(await h.service.markUnreachable(id, 'channel_not_found')).toBe(false);
    expect(await h.service.markUnreachable(id, 'account_inactive', { installation: true })).toBe(true);
    expect(await h.service.markUnreachable(id, 'x', { installation: true })).toBe(false);
    expect((await h.service.get(id))?.unreachable).toEqual({ code: 'account_inactive', since: T0, installation: true });
    await h.service.clearUnreachable(id, ADMIN);
    expect(await entries(h, id)).toEqual([
      { rolloutId: ID, at: T0, actor: 'bwprep:scheduler', surface: 'scheduler', action: 'rollout.unreachable', to: 'channel_not_found' },
      { rolloutId: ID, at: T0, actor: 'bwprep:scheduler', surface: 'scheduler', action: 'rollout.unreachable', to: 'account_inactive' },
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'rollout.reachable', from: 'account_inactive' },
    ]);
  });

  it('link / unlink: audit entries, refusals for the home and a repeated link', async () => {
    const r = await h.service.link(id, LINKED, ADMIN);
    expect(r.links).toEqual([{ conversation: LINKED, linkedAt: T0, linkedBy: ADMIN.user }]);
    const home = await rejection(h.service.link(id, CONVERSATION, ADMIN));
    expect(home).toMatchObject({ code: 'bad_usage', userMessage: { key: 'error.link_self' } });
    const again = await rejection(h.service.link(id, { ...LINKED, name: 'renamed' }, ADMIN));
    expect(again).toMatchObject({ code: 'bad_usage', userMessage: { key: 'error.link_self' } });
    const other: ConversationRef = { platform: 'slack', workspace: 'T0TEST', channel: 'C0OTHER' };
    await h.service.link(id, other, OWNER);
    const uh = await rejection(h.service.unlink(id, CONVERSATION, ADMIN));
    expect(uh.userMessage).toEqual({ key: 'error.unlink_home' });
    const nl = await rejection(h.service.unlink(id, { platform: 'slack', workspace: 'T0TEST', channel: 'C0NONE' }, ADMIN));
    expect(nl).toMatchObject({ code: 'bad_usage', userMessage: { key: 'error.not_linked' } });
    const u = await h.service.unlink(id, LINKED, ADMIN);
    expect(u.rollout.links).toEqual([{ conversation: other, linkedAt: T0, linkedBy: OWNER.user }]);
    expect(u.card).toBeUndefined();
    expect(await entries(h, id)).toEqual([
      {
        rolloutId: ID,
        at: T0,
        actor: ADMIN.user,
        surface: 'slack',
        action: 'rollout.linked',
        to: LINKED_KEY,
        detail: { platform: 'teams', name: 'rollout-teams' },
      },
      { rolloutId: ID, at: T0, actor: OWNER.user, surface: 'slack', action: 'rollout.linked', to: 'slack:T0TEST:C0OTHER', detail: { platform: 'slack' } },
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'rollout.unlinked', from: LINKED_KEY },
    ]);
  });

  it('setCard: home and linked cards are kept apart; a home card proves reachability, a linked one does not', async () => {
    const other: ConversationRef = { platform: 'teams', workspace: 'tenant-1', channel: '19:zzz' };
    await h.service.link(id, other, ADMIN);
    await h.service.link(id, LINKED, ADMIN);
    await h.service.markUnreachable(id, 'channel_not_found');
    const n = (await h.audit(id)).length;
    const lc: MessageRef = { platform: 'teams', channel: '19:abc', ts: 'm1' };
    const a = await h.service.setCard(id, lc, ADMIN);
    expect(a.previous).toBeUndefined();
    expect(a.rollout.card).toBeUndefined();
    expect(a.rollout.links?.map((l) => l.card)).toEqual([undefined, lc]);
    expect(a.rollout.unreachable?.code).toBe('channel_not_found');
    expect(await h.audit(id)).toHaveLength(n);
    const lc2: MessageRef = { platform: 'teams', channel: '19:abc', ts: 'm2' };
    expect((await h.service.setCard(id, lc2, ADMIN)).previous).toEqual(lc);
    // A card elsewhere on the same platform, or on the same channel name on another platform, is the home card.
    const hc: MessageRef = { platform: 'slack', channel: '19:abc', ts: '1.1' };
    const b = await h.service.setCard(id, hc, ADMIN);
    expect(b.previous).toBeUndefined();
    expect(b.rollout.card).toEqual(hc);
    expect(b.rollout.links?.map((l) => l.card)).toEqual([undefined, lc2]);
    expect(b.rollout.unreachable).toBeUndefined();
    expect((await h.audit(id)).slice(n)).toEqual([
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'rollout.reachable', from: 'channel_not_found' },
    ]);
    const c = await h.service.setCard(id, { platform: 'teams', channel: '19:nolink', ts: 'x' }, ADMIN);
    expect(c.previous).toEqual(hc);
    // Clearing: the linked one by conversation, the home one without.
    await h.service.markUnreachable(id, 'gone');
    const m = (await h.audit(id)).length;
    const d = await h.service.setCard(id, undefined, ADMIN, LINKED);
    expect(d.previous).toEqual(lc2);
    expect(d.rollout.links?.[1]?.card).toBeUndefined();
    expect(d.rollout.card).toEqual({ platform: 'teams', channel: '19:nolink', ts: 'x' });
    const e = await h.service.setCard(id, undefined, ADMIN);
    expect(e.rollout.card).toBeUndefined();
    expect(e.rollout.unreachable?.code).toBe('gone');
    expect(await h.audit(id)).toHaveLength(m);
  });

  it('recordChecks: the audit entry holds status and summary key only', async () => {
    await h.service.markDone(id, '2a', ADMIN);
    const n = (await h.audit(id)).length;
    await h.service.recordChecks(id, [{ stepId: '2a', record: check('pass') }], { user: 'scheduler', surface: 'scheduler' });
    expect((await h.audit(id)).slice(n)).toEqual([
      {
        rolloutId: ID,
        at: T0,
        actor: 'scheduler',
        surface: 'scheduler',
        action: 'step.check',
        stepId: '2a',
        from: 'done',
        to: 'verified',
        detail: { status: 'pass', summary: { key: 'test.check.pass' } },
      },
    ]);
  });
});

describe('key presence (memory store keeps undefined-valued keys)', () => {
  let h: Harness;
  let id: string;
  beforeEach(async () => {
    h = await makeHarness('memory');
    id = (await h.rollout()).id;
  });
  afterEach(() => h.close());

  it('markDone without a note drops an earlier note', async () => {
    await h.service.markDone(id, '2a', ADMIN, 'first');
    await h.service.recordChecks(id, [{ stepId: '2a', record: check('fail') }], ADMIN);
    const r = await h.service.markDone(id, '2a', ADMIN);
    expect(r.rollout.steps['2a']?.state).toBe('done');
    expect(Object.keys(r.rollout.steps['2a']!)).not.toContain('note');
  });

  it('clearing credentials removes the key', async () => {
    await h.service.updateSettings(id, { credentials: { clientId: 'c', secret: SECRET } }, ADMIN);
    const r = await h.service.updateSettings(id, { credentials: undefined }, ADMIN);
    expect(Object.keys(r.rollout.settings)).not.toContain('credentials');
  });

  it('clearing the home card removes the key', async () => {
    await h.service.setCard(id, { platform: 'slack', channel: 'C0ROLLOUT', ts: '1.1' }, ADMIN);
    const r = await h.service.setCard(id, undefined, ADMIN);
    expect(Object.keys(r.rollout)).not.toContain('card');
    expect(r.previous).toEqual({ platform: 'slack', channel: 'C0ROLLOUT', ts: '1.1' });
  });

  it('a preview digest entry has no `to` key', async () => {
    await h.service.recordDigest(id, { steps: [] } as never, { at: new Date(T0), detail: {} }, ADMIN);
    expect(Object.keys((await h.audit(id)).at(-1)!)).not.toContain('to');
  });
});

describe('self-hosted defaults and check history', () => {
  it('a self-hosted rollout starts with the server URL', async () => {
    const h = await makeHarness('sqlite', { hosting: 'self-hosted' });
    try {
      expect((await h.rollout()).settings.serverUrl).toBe('https://vault.example.test');
    } finally {
      await h.close();
    }
  });

  it('a check run goes to the history with its evidence', async () => {
    const runs: CheckRun[] = [];
    const history: CheckHistoryStore = { append: async (_id, run) => void runs.push(run), list: async () => runs };
    const store = new MemoryStore();
    const service = new ChecklistService({
      store,
      template: TEMPLATE,
      clock: new FakeClock(),
      defaults: { locale: 'en', hosting: 'cloud-eu', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] },
      globalAdmins: ['slack:U0GLOBAL'],
      checkHistory: history,
    });
    const r = await service.ensureRollout(CONVERSATION, ADMIN);
    await service.recordChecks(r.id, [{ stepId: '2a', record: check('warn') }], ADMIN);
    await service.recordChecks(r.id, [], ADMIN);
    expect(await service.checkHistory(r.id)).toEqual([
      {
        at: '2026-11-25T10:00:00.000Z',
        actor: ADMIN.user,
        surface: 'slack',
        results: [
          { stepId: '2a', status: 'warn', summary: { key: 'test.check.warn' }, evidence: { endpoint: 'GET /public/policies', counts: { enabled: 1 } } },
        ],
      },
    ]);
    const e = await rejection(service.skip(r.id, '2a', 'x', STRANGER));
    expect(e.userMessage).toEqual({ key: 'error.forbidden.skip', vars: { step: '2a', owner: '', admins: `${ADMIN.user},slack:U0GLOBAL` } });
  });
});

describe.each(STORE_KINDS)('mutation survivors: hosting, planned dates and digest slots (%s store)', (kind) => {
  let h: Harness;
  afterEach(() => h.close());

  it('a step skipped on self-hosted stays skipped, with its reason, through a switch to cloud and back', async () => {
    h = await makeHarness(kind, { hosting: 'self-hosted' });
    const id = (await h.rollout()).id;
    await h.service.skip(id, '3a', 'licence comes from the reseller', ADMIN);
    const cloud = await h.service.updateSettings(id, { hosting: 'cloud-eu' }, ADMIN);
    // Cloud does not apply 3a either way, but the card must keep saying "skipped: <reason>", not "not for cloud".
    expect(cloud.rollout.steps['3a']).toMatchObject({ state: 'not_applicable', skipReason: 'licence comes from the reseller' });
    expect(cloud.rollout.steps['3a']?.hostingExcluded).toBeUndefined();
    const back = await h.service.updateSettings(id, { hosting: 'self-hosted', serverUrl: 'https://vault.example.test' }, ADMIN);
    expect(back.rollout.steps['3a']).toMatchObject({ state: 'not_applicable', skipReason: 'licence comes from the reseller' });
    // The steps that were excluded only by hosting come back open.
    expect(back.rollout.steps['3b']).toMatchObject({ state: 'open' });
  });

  it('setting the date a step was planned for makes it manual, so a re-plan no longer moves it', async () => {
    h = await makeHarness(kind);
    const id = (await h.rollout()).id;
    const g = await h.service.updateSettings(id, { goLive: '2027-01-15' }, ADMIN);
    const planned = g.rollout.steps['2a']!;
    expect(planned.dueSource).toBe('planned');
    const r = await h.service.setDue(id, '2a', planned.due!, ADMIN);
    expect(r).toMatchObject({ changed: true, notice: { key: 'notice.due_set', vars: { step: '2a', date: planned.due } } });
    expect(r.rollout.steps['2a']).toMatchObject({ due: planned.due, dueSource: 'manual' });
    const moved = await h.service.updateSettings(id, { goLive: '2027-02-26' }, ADMIN);
    expect(moved.replanned.map((c) => c.stepId)).not.toContain('2a');
    expect(moved.rollout.steps['2a']).toMatchObject({ due: planned.due, dueSource: 'manual' });
    // Now it is manual, the same date again is a no-op.
    const again = await h.service.setDue(id, '2a', planned.due!, ADMIN);
    expect(again).toMatchObject({ changed: false, notice: { key: 'notice.due_unchanged', vars: { step: '2a' } } });
  });

  it('recordDigest for a slot: the audit entry names the slot and the digest state moves to it', async () => {
    h = await makeHarness(kind);
    const id = (await h.rollout()).id;
    const model = buildDigestModel(TEMPLATE, (await h.service.get(id))!, { now: new Date(T0) });
    await h.service.recordDigest(id, model, { at: new Date(T0), slot: '2026-11-25T09:00', detail: { slot: '2026-11-25T09:00' } }, ADMIN);
    expect(await entries(h, id)).toEqual([
      { rolloutId: ID, at: T0, actor: ADMIN.user, surface: 'slack', action: 'digest.posted', to: '2026-11-25T09:00', detail: { slot: '2026-11-25T09:00' } },
    ]);
    expect((await h.service.get(id))?.digest.lastSlot).toBe('2026-11-25T09:00');
  });

  it('recordDigest records a slot once: a second record of it (another replica) writes nothing', async () => {
    h = await makeHarness(kind);
    const id = (await h.rollout()).id;
    const model = buildDigestModel(TEMPLATE, (await h.service.get(id))!, { now: new Date(T0) });
    await h.service.recordDigest(id, model, { at: new Date(T0), slot: '2026-11-25T09:00', detail: {} }, ADMIN);
    const once = (await h.service.get(id))!;
    expect(once.digest).toMatchObject({ lastSlot: '2026-11-25T09:00', postedSlot: '2026-11-25T09:00', lastPostedAt: T0 });
    await h.service.recordDigest(id, model, { at: new Date('2026-11-25T09:30:00.000Z'), slot: '2026-11-25T09:00', detail: { recovered: true } }, ADMIN);
    const twice = (await h.service.get(id))!;
    expect(twice.version).toBe(once.version);
    expect(twice.digest.lastPostedAt).toBe(T0);
    expect((await entries(h, id)).filter((e) => e.action === 'digest.posted')).toHaveLength(1);
  });
});
