import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/checklist/model';
import { ADMIN, type Harness, makeHarness, OTHER, OWNER, rejection, STORE_KINDS, STRANGER } from './harness';

describe.each(STORE_KINDS)('permissions through ChecklistService (%s store)', (kind) => {
  let h: Harness;
  let id: string;
  beforeEach(async () => {
    h = await makeHarness(kind, { globalAdmins: ['slack:U0GLOBAL', 'teams:00000000-aad-global'] });
    id = (await h.rollout()).id;
    await h.service.assign(id, '2a', OWNER.user, ADMIN);
  });
  afterEach(() => h.close());

  it('the owner marks their step done and reopens it; a stranger may do neither', async () => {
    const err = await rejection(h.service.markDone(id, '2a', STRANGER));
    // The refusal names who may: the owner and the rollout's admins (rollout admins, then BWPREP_ADMINS).
    expect(err).toMatchObject({
      code: 'forbidden',
      userMessage: {
        key: 'error.forbidden.mark_owned',
        vars: { step: '2a', owner: OWNER.user, admins: [ADMIN.user, 'slack:U0GLOBAL', 'teams:00000000-aad-global'].join(',') },
      },
    });
    await h.service.markDone(id, '2a', OWNER);
    expect((await rejection(h.service.reopen(id, '2a', STRANGER))).code).toBe('forbidden');
    expect((await h.service.reopen(id, '2a', OWNER)).rollout.steps['2a']?.state).toBe('open');
  });

  it('an admin marks any step, owned or not', async () => {
    expect((await h.service.markDone(id, '2a', ADMIN)).rollout.steps['2a']?.doneBy).toBe(ADMIN.user);
    expect((await h.service.markDone(id, '4a', ADMIN)).rollout.steps['4a']?.state).toBe('done');
  });

  it('nobody but an admin marks an unowned step', async () => {
    expect((await rejection(h.service.markDone(id, '4a', STRANGER))).code).toBe('forbidden');
  });

  it('anyone takes an unowned step for themselves, but not one someone else owns', async () => {
    expect((await h.service.assign(id, '4a', STRANGER.user, STRANGER)).rollout.steps['4a']?.owner).toBe(STRANGER.user);
    const err = await rejection(h.service.assign(id, '2a', STRANGER.user, STRANGER));
    expect(err.userMessage).toEqual({
      key: 'error.forbidden.assign_self',
      vars: { step: '2a', owner: OWNER.user, admins: [ADMIN.user, 'slack:U0GLOBAL', 'teams:00000000-aad-global'].join(',') },
    });
    expect((await h.service.get(id))?.steps['2a']?.owner).toBe(OWNER.user);
  });

  it('only admins assign a step to someone else; owners cannot hand over themselves', async () => {
    expect((await rejection(h.service.assign(id, '4b', OTHER.user, STRANGER))).userMessage.key).toBe('error.forbidden.assign');
    expect((await rejection(h.service.assign(id, '2a', OTHER.user, OWNER))).userMessage.key).toBe('error.forbidden.assign');
    expect((await h.service.assign(id, '2a', OTHER.user, ADMIN)).rollout.steps['2a']?.owner).toBe(OTHER.user);
  });

  it('the owner hands a step back; a stranger cannot remove the owner', async () => {
    expect((await rejection(h.service.unassign(id, '2a', STRANGER))).userMessage.key).toBe('error.forbidden.unassign_owned');
    expect((await h.service.unassign(id, '2a', OWNER)).rollout.steps['2a']?.owner).toBeUndefined();
  });

  it('only admins skip, and only admins bring a skipped step back (not even its owner)', async () => {
    expect((await rejection(h.service.skip(id, '2a', 'not needed', OWNER))).userMessage.key).toBe('error.forbidden.skip');
    await h.service.skip(id, '2a', 'policies are set by the parent org', ADMIN);
    expect((await rejection(h.service.reopen(id, '2a', OWNER))).userMessage.key).toBe('error.forbidden.unskip');
    expect((await h.service.reopen(id, '2a', ADMIN)).rollout.steps['2a']?.state).toBe('open');
  });

  it('the owner sets their due date; a stranger cannot', async () => {
    expect((await rejection(h.service.setDue(id, '2a', '2026-12-01', STRANGER))).userMessage.key).toBe('error.forbidden.due_owned');
    expect((await rejection(h.service.setDue(id, '4b', '2026-12-01', STRANGER))).userMessage.key).toBe('error.forbidden.due');
    expect((await h.service.setDue(id, '2a', '2026-12-01', OWNER)).rollout.steps['2a']?.due).toBe('2026-12-01');
  });

  it('only admins change settings such as the language', async () => {
    expect((await rejection(h.service.setLocale(id, 'nl', OWNER))).userMessage.key).toBe('error.forbidden.settings');
    expect((await h.service.setLocale(id, 'nl', ADMIN)).rollout.settings.locale).toBe('nl');
  });

  it.each<[string, Actor]>([
    ['a BWPREP_ADMINS Slack user', { user: 'slack:U0GLOBAL', surface: 'slack' }],
    ['a BWPREP_ADMINS Teams user', { user: 'teams:00000000-aad-global', surface: 'teams' }],
    ['a platform-vouched admin (Slack workspace admin)', { user: 'slack:U0WSADMIN', surface: 'slack', platformAdmin: true }],
  ])('%s has admin rights in every rollout', async (_label, actor) => {
    const rollout = await h.service.get(id);
    expect(h.service.isAdmin(actor, rollout!)).toBe(true);
    await h.service.assign(id, '4b', OTHER.user, actor);
    await h.service.skip(id, '4e', 'no custom roles', actor);
    await h.service.markDone(id, '2a', actor);
    const r = await h.service.setLocale(id, 'nl', actor);
    expect(r.rollout.steps['4b']?.owner).toBe(OTHER.user);
    expect(r.rollout.steps['4e']?.state).toBe('not_applicable');
    expect(r.rollout.steps['2a']?.state).toBe('done');
  });

  it('a global admin entry for another platform does not match a same-id user elsewhere', async () => {
    const rollout = await h.service.get(id);
    expect(h.service.isAdmin({ user: 'teams:U0GLOBAL', surface: 'teams' }, rollout!)).toBe(false);
    expect(h.service.isAdmin({ user: 'slack:U0GLOBAL', surface: 'slack', platformAdmin: false }, rollout!)).toBe(true);
  });

  it('an admin added to the rollout settings gains rights there', async () => {
    expect((await rejection(h.service.skip(id, '4e', 'n/a', OTHER))).code).toBe('forbidden');
    await h.service.updateSettings(id, { admins: [ADMIN.user, OTHER.user] }, ADMIN);
    expect((await h.service.skip(id, '4e', 'n/a', OTHER)).changed).toBe(true);
  });
});
