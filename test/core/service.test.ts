import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, check, CONVERSATION, type Harness, makeHarness, OTHER, OWNER, rejection, STORE_KINDS, STRANGER } from './harness';

describe.each(STORE_KINDS)('ChecklistService step state machine (%s store)', (kind) => {
  let h: Harness;
  let id: string;
  beforeEach(async () => {
    h = await makeHarness(kind);
    id = (await h.rollout()).id;
  });
  afterEach(() => h.close());

  it('creates a rollout once per conversation, with the creator as admin and cloud-only steps in place', async () => {
    const r = await h.service.ensureRollout(CONVERSATION, ADMIN);
    expect(r.id).toBe('slack:T0TEST:C0ROLLOUT');
    expect(r.settings.admins).toEqual([ADMIN.user]);
    expect(r.steps['2a']?.state).toBe('open');
    for (const s of ['3a', '3b', '3c', '5a']) expect(r.steps[s]).toMatchObject({ state: 'not_applicable', hostingExcluded: true });
    // A second command in the same channel (by someone else) must not create a second rollout or make them admin.
    const again = await h.service.ensureRollout(CONVERSATION, STRANGER);
    expect(again.settings.admins).toEqual([ADMIN.user]);
    expect((await h.audit(id)).filter((e) => e.action === 'rollout.created')).toHaveLength(1);
  });

  it('walks open → done → verified, flags drift as failing without erasing the claim, and recovers', async () => {
    await h.service.assign(id, '2a', OWNER.user, ADMIN);
    h.clock.set('2026-11-25T09:30:00.000Z');
    const done = await h.service.markDone(id, '2a', OWNER, 'all three policies on');
    expect(done.changed).toBe(true);
    expect(done.notice).toEqual({ key: 'notice.done', vars: { step: '2a' } });
    expect(done.rollout.steps['2a']).toMatchObject({ state: 'done', doneBy: OWNER.user, doneAt: '2026-11-25T09:30:00.000Z', note: 'all three policies on' });

    const pass = await h.service.recordChecks(id, [{ stepId: '2a', record: check('pass') }], { user: 'scheduler', surface: 'scheduler' });
    expect(pass.transitions).toEqual([{ stepId: '2a', from: 'done', to: 'verified' }]);
    expect(pass.rollout.steps['2a']?.state).toBe('verified');
    expect(pass.rollout.steps['2a']?.lastCheck?.status).toBe('pass');

    // Someone switches a policy off in Bitwarden: the next check flags the step, the claim stays visible.
    const drift = await h.service.recordChecks(id, [{ stepId: '2a', record: check('fail', '2026-11-26T08:00:00.000Z') }], {
      user: 'scheduler',
      surface: 'scheduler',
    });
    expect(drift.transitions).toEqual([{ stepId: '2a', from: 'verified', to: 'failing' }]);
    expect(drift.rollout.steps['2a']).toMatchObject({ state: 'failing', doneBy: OWNER.user, note: 'all three policies on' });

    const fixed = await h.service.recordChecks(id, [{ stepId: '2a', record: check('pass', '2026-11-26T09:00:00.000Z') }], {
      user: 'scheduler',
      surface: 'scheduler',
    });
    expect(fixed.rollout.steps['2a']?.state).toBe('verified');
  });

  it('a passing check verifies an unclaimed step; a failing one leaves an open step open; warn only records evidence', async () => {
    const r = await h.service.recordChecks(
      id,
      [
        { stepId: '2b', record: check('pass') },
        { stepId: '4c', record: check('fail') },
        { stepId: '4d', record: check('warn') },
        { stepId: '3b', record: check('pass') }, // hosting-excluded on cloud: stays not applicable
      ],
      ADMIN,
    );
    expect(r.rollout.steps['2b']?.state).toBe('verified');
    expect(r.rollout.steps['4c']?.state).toBe('open');
    expect(r.rollout.steps['4c']?.lastCheck?.status).toBe('fail');
    expect(r.rollout.steps['4d']).toMatchObject({ state: 'open', lastCheck: { status: 'warn' } });
    expect(r.rollout.steps['3b']?.state).toBe('not_applicable');
    expect(r.transitions).toEqual([{ stepId: '2b', from: 'open', to: 'verified' }]);
  });

  it('a failing check on a done step flags it failing', async () => {
    await h.service.markDone(id, '4c', ADMIN);
    const r = await h.service.recordChecks(id, [{ stepId: '4c', record: check('fail') }], ADMIN);
    expect(r.rollout.steps['4c']).toMatchObject({ state: 'failing', doneBy: ADMIN.user });
  });

  it('reopens a done step and clears the claim and note', async () => {
    await h.service.markDone(id, '4a', ADMIN, 'imported 412 items');
    const r = await h.service.reopen(id, '4a', ADMIN);
    expect(r.changed).toBe(true);
    expect(r.rollout.steps['4a']?.state).toBe('open');
    expect(r.rollout.steps['4a']?.doneBy).toBeUndefined();
    expect(r.rollout.steps['4a']?.note).toBeUndefined();
    const again = await h.service.reopen(id, '4a', ADMIN);
    expect(again).toMatchObject({ changed: false, notice: { key: 'notice.already_open' } });
  });

  it('reopens a failing step', async () => {
    await h.service.markDone(id, '2a', ADMIN);
    await h.service.recordChecks(id, [{ stepId: '2a', record: check('fail') }], ADMIN);
    expect((await h.service.reopen(id, '2a', ADMIN)).rollout.steps['2a']?.state).toBe('open');
  });

  it('skips with a reason, refuses done on a skipped step, and un-skips with reopen', async () => {
    const skipped = await h.service.skip(id, '4e', '  we only use the built-in roles  ', ADMIN);
    expect(skipped.rollout.steps['4e']).toMatchObject({ state: 'not_applicable', skipReason: 'we only use the built-in roles' });
    expect(skipped.rollout.steps['4e']?.hostingExcluded).toBeUndefined();

    const err = await rejection(h.service.markDone(id, '4e', ADMIN));
    expect(err).toMatchObject({ code: 'invalid_transition', userMessage: { key: 'error.skipped_step' } });

    const back = await h.service.reopen(id, '4e', ADMIN);
    expect(back.rollout.steps['4e']?.state).toBe('open');
    expect(back.rollout.steps['4e']?.skipReason).toBeUndefined();
  });

  it('refuses a skip without a reason, with the skip usage', async () => {
    const err = await rejection(h.service.skip(id, '4e', '   ', ADMIN));
    expect(err).toMatchObject({ code: 'bad_usage', userMessage: { key: 'error.skip_reason' }, usage: { key: 'usage.skip' } });
    expect((await h.service.get(id))?.steps['4e']?.state).toBe('open');
  });

  it('re-skipping with a new reason updates the reason; the same reason is a no-op', async () => {
    await h.service.skip(id, '4e', 'first reason', ADMIN);
    expect((await h.service.skip(id, '4e', 'first reason', ADMIN)).changed).toBe(false);
    const r = await h.service.skip(id, '4e', 'better reason', ADMIN);
    expect(r.changed).toBe(true);
    expect(r.rollout.steps['4e']?.skipReason).toBe('better reason');
  });

  it.each([
    ['done', (hh: Harness, rid: string) => hh.service.markDone(rid, '3a', ADMIN)],
    ['skip', (hh: Harness, rid: string) => hh.service.skip(rid, '3a', 'no licence needed', ADMIN)],
    ['reopen', (hh: Harness, rid: string) => hh.service.reopen(rid, '5a', ADMIN)],
    ['assign', (hh: Harness, rid: string) => hh.service.assign(rid, '3b', OWNER.user, ADMIN)],
  ])('refuses %s on a step the hosting excludes, even for an admin', async (_name, act) => {
    const err = await rejection(act(h, id));
    expect(err.code).toBe('not_applicable_step');
    expect(err.userMessage.key).toBe('error.hosting_excluded');
    const r = await h.service.get(id);
    expect(r?.steps['3a']).toMatchObject({ state: 'not_applicable', hostingExcluded: true });
    expect(r?.steps['5a']).toMatchObject({ state: 'not_applicable', hostingExcluded: true });
    expect(r?.steps['3b']?.owner).toBeUndefined();
  });

  it('marking done twice is idempotent: same claim time, no second audit entry', async () => {
    await h.service.assign(id, '4b', OWNER.user, ADMIN);
    const first = await h.service.markDone(id, '4b', OWNER, 'checked');
    h.clock.advance(60_000);
    const before = (await h.audit(id)).length;
    const second = await h.service.markDone(id, '4b', OWNER, 'a different note');
    expect(second.changed).toBe(false);
    expect(second.notice).toEqual({ key: 'notice.already_done', vars: { step: '4b' } });
    expect(second.rollout.steps['4b']).toEqual(first.rollout.steps['4b']);
    expect(second.rollout.version).toBe(first.rollout.version);
    expect(await h.audit(id)).toHaveLength(before);
  });

  it('keeps the note with the claim and drops it when claimed again without one', async () => {
    await h.service.markDone(id, '1a', ADMIN, 'upgraded to Enterprise');
    expect((await h.service.get(id))?.steps['1a']?.note).toBe('upgraded to Enterprise');
    await h.service.reopen(id, '1a', ADMIN);
    const r = await h.service.markDone(id, '1a', ADMIN);
    expect(r.rollout.steps['1a']?.note).toBeUndefined();
  });

  it('accepts step ids in any case and stores them under the template id', async () => {
    const r = await h.service.markDone(id, '2A', ADMIN);
    expect(r.rollout.steps['2a']?.state).toBe('done');
    expect(r.rollout.steps['2A']).toBeUndefined();
  });

  it('refuses an unknown step id and lists the real ones', async () => {
    const err = await rejection(h.service.markDone(id, '9z', ADMIN));
    expect(err.code).toBe('unknown_step');
    expect(err.userMessage.vars?.steps).toBe('1a, 2a, 2b, 3a, 3b, 3c, 4a, 4b, 4c, 4d, 4e, 5a, 5b, 6');
  });

  it('sets and clears a due date; rejects an impossible date', async () => {
    expect((await h.service.setDue(id, '2b', '2026-12-01', ADMIN)).rollout.steps['2b']).toMatchObject({ due: '2026-12-01', dueSource: 'manual' });
    expect((await h.service.setDue(id, '2b', '2026-12-01', ADMIN)).changed).toBe(false);
    const err = await rejection(h.service.setDue(id, '2b', '2026-02-30', ADMIN));
    expect(err).toMatchObject({ code: 'bad_date', usage: { key: 'usage.due' } });
    const cleared = await h.service.setDue(id, '2b', null, ADMIN);
    expect(cleared.rollout.steps['2b']?.due).toBeUndefined();
  });

  it('changing hosting to self-hosted brings the licence steps back; back to cloud excludes them again', async () => {
    const sh = await h.service.updateSettings(id, { hosting: 'self-hosted', serverUrl: 'https://vault.example.test' }, ADMIN);
    expect(sh.rollout.steps['3a']?.state).toBe('open');
    expect(sh.rollout.steps['3a']?.hostingExcluded).toBeUndefined();
    await h.service.markDone(id, '3a', ADMIN);
    const cloud = await h.service.updateSettings(id, { hosting: 'cloud-us' }, ADMIN);
    expect(cloud.rollout.steps['3a']).toMatchObject({ state: 'not_applicable', hostingExcluded: true });
  });

  it('a person acting through another surface is still the same owner', async () => {
    await h.service.assign(id, '5b', OTHER.user, ADMIN);
    expect((await h.service.markDone(id, '5b', OTHER)).rollout.steps['5b']?.doneBy).toBe(OTHER.user);
  });

  it('done on a failing step claims it again: done by the new person, with the new note', async () => {
    await h.service.assign(id, '2a', OWNER.user, ADMIN);
    await h.service.markDone(id, '2a', OWNER, 'first try');
    await h.service.recordChecks(id, [{ stepId: '2a', record: check('fail') }], ADMIN);
    const again = await h.service.markDone(id, '2a', OWNER, 'fixed the policies');
    expect(again.changed).toBe(true);
    expect(again.rollout.steps['2a']).toMatchObject({ state: 'done', doneBy: OWNER.user, note: 'fixed the policies' });
    const entry = (await h.audit(id)).filter((e) => e.action === 'step.done').at(-1);
    expect(entry).toMatchObject({ stepId: '2a', from: 'failing', to: 'done' });
  });

  it("a stranger may not snooze someone else's reminders; the owner may, and a repeated snooze writes nothing", async () => {
    await h.service.assign(id, '2a', OWNER.user, ADMIN);
    const err = await rejection(h.service.snooze(id, '2a', '2026-11-27', STRANGER));
    expect(err).toMatchObject({ code: 'forbidden' });
    expect((await h.service.get(id))?.steps['2a']?.snoozedUntil).toBeUndefined();
    const first = await h.service.snooze(id, '2a', '2026-11-27', OWNER);
    expect(first.changed).toBe(true);
    const before = (await h.service.get(id))!;
    const auditBefore = (await h.audit(id)).length;
    const second = await h.service.snooze(id, '2a', '2026-11-27', OWNER);
    expect(second.changed).toBe(false);
    expect((await h.service.get(id))!.version).toBe(before.version);
    expect((await h.audit(id)).length).toBe(auditBefore);
  });

  it('saving settings re-plans planned due dates in the same write, and a manual date wins', async () => {
    await h.service.setDue(id, '4c', '2026-12-10', ADMIN);
    const before = (await h.service.get(id))!.version;
    const saved = await h.service.updateSettings(id, { goLive: '2026-12-15' }, ADMIN);
    // One write: settings and the plan together.
    expect(saved.rollout.version).toBe(before + 1);
    expect(saved.replanned.length).toBeGreaterThan(0);
    expect(saved.rollout.steps['4c']).toMatchObject({ due: '2026-12-10', dueSource: 'manual' });
    expect(saved.rollout.steps['2a']?.dueSource).toBe('planned');
    const audit = await h.audit(id);
    expect(audit.filter((e) => e.action === 'step.due_set' && (e.detail as { source?: string })?.source === 'planned').length).toBe(saved.replanned.length);
  });
});
