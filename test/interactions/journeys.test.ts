import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conversationKey } from '../../src/core/checklist/model';
import { ACTIONS } from '../../src/views/actions';
import { plainText } from '../../src/views/rich';
import { ADA, BRAM, CONVERSATION, type LayerHarness, layer, resolveUser, storeDown } from './harness';

/**
 * Every user journey of the application layer except checks and the living card (see checks.test.ts and
 * cards.test.ts), driven the way a platform adapter drives it: commands, card actions, setup, export,
 * home. Real service and SQLite store; an in-memory ChatPlatform.
 */

const ROLLOUT = conversationKey(CONVERSATION);
let h: LayerHarness;

beforeEach(async () => {
  h = await layer({ encryptionKey: 'b'.repeat(64) });
});
afterEach(async () => {
  await h.close();
});

describe('commands', () => {
  it('status creates the rollout (its creator is admin) and posts the card to the conversation', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    expect(h.platform.posts).toHaveLength(1);
    expect(h.platform.posts[0]!.view.title).toBe('Bitwarden rollout checklist · #bitwarden-rollout');
    const r = await h.service.get(ROLLOUT);
    expect(r?.settings.admins).toEqual([ADA]);
    expect(r?.card).toEqual(h.platform.posts[0]!.ref);
    expect(ada.replies).toEqual([]);
  });

  it('a change saves, refreshes the card in place and tells the requester', async () => {
    const ada = h.person(ADA);
    h.person(BRAM);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'assign 2a @bram', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'done 2a policies on', resolveUser);
    expect(ada.texts()).toEqual(['Step 2a is now owned by bram.', 'Step 2a is marked done.']);
    expect(ada.replies.map((r) => r.kind === 'notice' && r.tone)).toEqual(['ok', 'ok']);
    expect(h.platform.updates.map((u) => u.view.phases[1]!.steps[0]!.state)).toEqual(['open', 'done']);
    expect((await h.service.get(ROLLOUT))?.steps['2a']).toMatchObject({ owner: BRAM, state: 'done', note: 'policies on' });
  });

  it('assign to someone the platform does not know is refused with the usage; nothing changes', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'assign 2a @nobody', resolveUser);
    expect(ada.replies[0]).toMatchObject({ kind: 'notice', tone: 'warn' });
    expect(ada.texts()[0]).toContain("I can't find nobody in this workspace.");
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.owner).toBeUndefined();
  });

  it('help, mine, unknown commands and refusals answer the requester alone', async () => {
    const ada = h.person(ADA);
    const bram = h.person(BRAM);
    await h.interactions.command(CONVERSATION, ada, 'help', resolveUser);
    await h.interactions.command(CONVERSATION, bram, 'mine', resolveUser);
    await h.interactions.command(CONVERSATION, bram, 'skip 4e no', resolveUser);
    await h.interactions.command(CONVERSATION, bram, 'frobnicate', resolveUser);
    expect(ada.replies.map((r) => r.kind)).toEqual(['help']);
    expect(bram.replies.map((r) => r.kind)).toEqual(['mine', 'notice', 'notice']);
    expect(bram.texts()[1]).toMatch(/admin/i);
    expect(bram.texts()[2]).toContain('I don\'t know the command "frobnicate".');
    expect(h.platform.posts).toEqual([]);
  });

  it('digest without a scheduler says it is not available; with one it previews', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'digest', resolveUser);
    expect(ada.texts()[0]).toContain('digest is not available');
    const asked: string[] = [];
    h.interactions.setDigest({ previewDigest: async (id) => void asked.push(id) });
    await h.interactions.command(CONVERSATION, ada, 'digest', resolveUser);
    expect(asked).toEqual([ROLLOUT]);
    expect(ada.replies[1]).toMatchObject({ kind: 'notice', tone: 'wait' });
    expect(ada.texts()[1]).toBe('Running the checks and composing a preview of the digest…');
  });

  it('an installation without verification: check, typed or clicked, says it is not available', async () => {
    await h.close();
    h = await layer({ verification: false });
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'check', resolveUser);
    await h.interactions.cardAction(ada, { action: ACTIONS.runCheck, rolloutId: ROLLOUT, stepId: '2a' });
    expect(ada.texts()).toEqual(['check is not available in this installation yet.', 'check is not available in this installation yet.']);
    expect(h.platform.updates).toEqual([]);
  });
});

describe('card actions', () => {
  async function withCard() {
    const ada = h.person(ADA, { admin: true });
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    return ada;
  }

  it('assign from the picker, done, reopen: each saves and re-renders the card', async () => {
    const ada = await withCard();
    h.person(BRAM);
    await h.interactions.cardAction(ada, { action: ACTIONS.assignOwner, rolloutId: ROLLOUT, stepId: '4a', owner: BRAM });
    await h.interactions.cardAction(ada, { action: ACTIONS.markDone, rolloutId: ROLLOUT, stepId: '4a' });
    await h.interactions.cardAction(ada, { action: ACTIONS.reopenStep, rolloutId: ROLLOUT, stepId: '4a' });
    expect(h.platform.updates.map((u) => u.view.phases.find((p) => p.n === 4)!.steps[0]!.state)).toEqual(['open', 'done', 'open']);
    expect(h.platform.updates[0]!.view.phases.find((p) => p.n === 4)!.steps[0]!.owner).toBe(BRAM);
    // Clicks that change something answer on the card only.
    expect(ada.replies).toEqual([]);
  });

  it('a click whose card the platform will not update: the change stands and the clicker hears how to get a fresh card', async () => {
    const ada = await withCard();
    h.platform.updateFails = 'refused';
    await h.interactions.cardAction(ada, { action: ACTIONS.markDone, rolloutId: ROLLOUT, stepId: '2a' });
    expect(ada.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'ok' });
    expect(ada.texts().at(-1)).toBe(
      'Step 2a is marked done.\nThe change is saved, but I could not update the checklist card just now. status posts a fresh one.',
    );
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done');
  });

  it('a button bwprep does not know: refused with how to get a fresh card, nothing changes', async () => {
    const ada = await withCard();
    const before = await h.service.get(ROLLOUT);
    await h.interactions.cardAction(ada, { action: 'frobnicate' as never, rolloutId: ROLLOUT, stepId: '2a' });
    expect(ada.texts()).toEqual(['That button did not carry the step it belongs to. Post a fresh card with status.']);
    expect((await h.service.get(ROLLOUT))?.version).toBe(before?.version);
  });

  it('a click that changes nothing says so; a picker change that is refused snaps the card back', async () => {
    const ada = await withCard();
    const bram = h.person(BRAM);
    await h.interactions.cardAction(ada, { action: ACTIONS.reopenStep, rolloutId: ROLLOUT, stepId: '4a' });
    expect(ada.replies[0]).toMatchObject({ kind: 'notice', tone: 'info' });
    const updates = h.platform.updates.length;
    await h.interactions.cardAction(bram, { action: ACTIONS.assignOwner, rolloutId: ROLLOUT, stepId: '4a', owner: ADA });
    expect(bram.replies[0]).toMatchObject({ kind: 'notice', tone: 'refused' });
    expect(h.platform.updates.length).toBe(updates + 1);
    expect((await h.service.get(ROLLOUT))?.steps['4a']?.owner).toBeUndefined();
  });

  it('snooze tells the owner only (the card does not show snoozes)', async () => {
    const ada = await withCard();
    await h.interactions.command(CONVERSATION, ada, 'due 4a 2026-11-20', resolveUser);
    const updates = h.platform.updates.length;
    await h.interactions.cardAction(ada, { action: ACTIONS.snoozeStep, rolloutId: ROLLOUT, stepId: '4a' });
    expect(ada.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'snooze' });
    expect(ada.texts().at(-1)).toMatch(/^Reminders for step 4a are snoozed until /);
    expect(h.platform.updates.length).toBe(updates);
    expect((await h.service.get(ROLLOUT))?.steps['4a']?.snoozedUntil).toBeDefined();
  });

  it('check on a card without a verifier configured says how to set a key', async () => {
    const ada = await withCard();
    await h.interactions.cardAction(ada, { action: ACTIONS.runCheck, rolloutId: ROLLOUT, stepId: '2a' });
    expect(ada.texts().at(-1)).toContain('No Bitwarden organization API key is set');
  });

  it('a payload from another workspace, or for an unknown rollout, acts on nothing', async () => {
    await withCard();
    const intruder = h.person('teams:eve', { workspace: 'tenant-2', admin: true });
    await h.interactions.cardAction(intruder, { action: ACTIONS.markDone, rolloutId: ROLLOUT, stepId: '2a' });
    await h.interactions.cardAction(intruder, { action: ACTIONS.markDone, rolloutId: 'teams:x:y', stepId: '2a' });
    expect(intruder.texts()).toEqual([
      expect.stringContaining("That card belongs to a rollout I can't find."),
      expect.stringContaining("That card belongs to a rollout I can't find."),
    ]);
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('open');
    // Same workspace id on another platform: still not this rollout's.
    h.addPlatform('slack');
    const lookalike = h.person('slack:eve', { workspace: CONVERSATION.workspace, admin: true });
    await h.interactions.cardAction(lookalike, { action: ACTIONS.markDone, rolloutId: ROLLOUT, stepId: '2a' });
    expect(lookalike.texts()).toEqual(["That card belongs to a rollout I can't find. Post a fresh card with status."]);
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('open');
  });

  it('a refused click leaves the card alone; a refused owner change resets the picker, and a reset that fails is logged', async () => {
    const ada = await withCard();
    const bram = h.person(BRAM);
    const updates = h.platform.updates.length;
    await h.interactions.cardAction(bram, { action: ACTIONS.markDone, rolloutId: ROLLOUT, stepId: '2a' });
    expect(bram.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'refused' });
    expect(h.platform.updates).toHaveLength(updates);
    await h.interactions.cardAction(ada, { action: ACTIONS.assignOwner, rolloutId: ROLLOUT, stepId: '2a', owner: ADA });
    h.platform.updateFails = 'refused';
    await h.interactions.cardAction(bram, { action: ACTIONS.assignOwner, rolloutId: ROLLOUT, stepId: '2a', owner: BRAM });
    expect(bram.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'refused' });
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.owner).toBe(ADA);
    expect(h.logs('owner change refused; the card could not be reset')).toMatchObject([
      { level: 'warn', rolloutId: ROLLOUT, err: { message: 'platform outage' } },
    ]);
  });

  it('the owner picker: someone who left, someone unknown, or a value that is no person is refused with why; nothing changes', async () => {
    const ada = await withCard();
    h.platform.people.set('teams:gone', { exists: false, missing: 'deactivated' });
    await h.interactions.cardAction(ada, { action: ACTIONS.assignOwner, rolloutId: ROLLOUT, stepId: '2a', owner: 'teams:gone' });
    await h.interactions.cardAction(ada, { action: ACTIONS.assignOwner, rolloutId: ROLLOUT, stepId: '2a', owner: 'teams:nobody' });
    await h.interactions.cardAction(ada, { action: ACTIONS.assignOwner, rolloutId: ROLLOUT, stepId: '2a', owner: 'nobody' as never });
    const usage = 'Usage: assign <step> @user: give a step an owner';
    expect(ada.texts()).toEqual([
      `gone has left this workspace (the account is deactivated). Choose someone who is still here.\n${usage}`,
      `I can't find nobody in this workspace. Choose someone who is a member here.\n${usage}`,
      `"nobody" is not a mention of a person. Type @ and pick the person from the list, so their name turns into a mention.\n${usage}`,
    ]);
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.owner).toBeUndefined();
  });
});

describe('setup', () => {
  it('opens the form for an admin, refuses others', async () => {
    const ada = h.person(ADA);
    const bram = h.person(BRAM);
    await h.interactions.command(CONVERSATION, ada, 'setup', resolveUser);
    await h.interactions.command(CONVERSATION, bram, 'setup', resolveUser);
    expect(ada.replies[0]).toMatchObject({ kind: 'setup', form: { rolloutId: ROLLOUT, encryptionAvailable: true } });
    expect(bram.texts()[0]).toBe("Only a rollout admin (ada) can change this rollout's settings.");
  });

  it('a form from someone who is not a rollout admin, or with a key but no BWPREP_ENCRYPTION_KEY, saves nothing and says why', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    const refused = await h.interactions.submitSetup(h.person(BRAM), ROLLOUT, { timezone: 'Europe/Brussels' });
    const text = (o: typeof refused) => (o.ok ? {} : Object.fromEntries(Object.entries(o.errors).map(([k, v]) => [k, plainText(v!)])));
    expect(text(refused)).toEqual({ admins: 'Only a rollout admin (ada) can change these settings.' });
    await h.close();
    h = await layer();
    h.person(ADA);
    await h.interactions.command(CONVERSATION, h.person(ADA), 'status', resolveUser);
    const noKey = await h.interactions.submitSetup(h.person(ADA), ROLLOUT, {
      clientId: 'organization.11111111-2222-3333-4444-555555555555',
      clientSecret: 'fake-rollout-secret',
    });
    expect(text(noKey)).toEqual({
      clientSecret:
        "The bot has no BWPREP_ENCRYPTION_KEY, so it cannot store an API key. Ask the operator to set one, or leave both fields empty to use the bot's default key.",
    });
    expect((await h.service.get(ROLLOUT))?.settings.credentials).toBeUndefined();
  });

  it('a form for a rollout that is gone saves nothing and says so on the form', async () => {
    const ada = h.person(ADA, { locale: 'nl' });
    const outcome = await h.interactions.submitSetup(ada, 'teams:tenant-1:19:gone', { locale: 'en' });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok)
      expect(Object.fromEntries(Object.entries(outcome.errors).map(([k, v]) => [k, plainText(v!)]))).toEqual({
        locale: 'Die checklist hoort bij een uitrol die ik niet kan vinden. Plaats een nieuwe checklist met status.',
      });
    expect(await h.service.get('teams:tenant-1:19:gone')).toBeUndefined();
  });

  it("a platform's form names only its own people: saving it keeps the admins of another linked platform", async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    const otherPlatformAdmin = 'slack:U0OTHERADMIN';
    const first = await h.interactions.submitSetup(ada, ROLLOUT, { admins: [ADA, otherPlatformAdmin] });
    if (!first.ok) throw new Error('expected a valid form');
    await first.save();
    // The form of this platform cannot show the Slack admin; it is kept all the same.
    const second = await h.interactions.submitSetup(ada, ROLLOUT, { admins: [ADA, BRAM] });
    if (!second.ok) throw new Error('expected a valid form');
    await second.save();
    expect((await h.service.get(ROLLOUT))?.settings.admins).toEqual([ADA, BRAM, otherPlatformAdmin]);
  });

  it('a form with errors saves nothing and names each wrong field', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    const before = await h.service.get(ROLLOUT);
    const outcome = await h.interactions.submitSetup(ada, ROLLOUT, {
      timezone: 'Mars/Olympus',
      digestTime: '25:00',
      admins: [],
      onboardingWarnPct: '99',
      hosting: 'self-hosted',
    });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(Object.fromEntries(Object.entries(outcome.errors).map(([k, v]) => [k, plainText(v!)]))).toEqual({
      timezone: '"Mars/Olympus" is not a time zone. Use an IANA name such as Europe/Amsterdam.',
      digestTime: 'Choose a time like 09:00.',
      admins: 'Keep at least one rollout admin.',
      onboardingWarnPct: 'The warning level cannot be above the pass level.',
      serverUrl: 'A self-hosted organization needs the server URL.',
    });
    expect((await h.service.get(ROLLOUT))?.version).toBe(before?.version);
  });

  it('a valid form saves in one write, stores a new key encrypted, refreshes the card and confirms', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    const clientId = 'organization.11111111-2222-3333-4444-555555555555';
    const outcome = await h.interactions.submitSetup(ada, ROLLOUT, {
      timezone: 'Europe/Brussels',
      goLive: '2026-12-31',
      clientId,
      clientSecret: 'fake-rollout-secret',
    });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    await outcome.save();
    const r = await h.service.get(ROLLOUT);
    expect(r?.settings).toMatchObject({ timezone: 'Europe/Brussels', goLive: '2026-12-31', credentials: { clientId } });
    expect(JSON.stringify(r)).not.toContain('fake-rollout-secret');
    expect(h.platform.updates).toHaveLength(1);
    expect(ada.texts().at(-1)).toContain('Settings saved for this rollout.');
    expect(ada.texts().at(-1)).toContain(`The Bitwarden API key for ${clientId} is stored encrypted.`);

    // The same form again changes nothing, and says so.
    const again = await h.interactions.submitSetup(ada, ROLLOUT, { timezone: 'Europe/Brussels' });
    if (again.ok) await again.save();
    expect(ada.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'info' });
    expect(ada.texts().at(-1)).toBe('Nothing changed.');
  });

  it('emptying the key fields removes the rollout key; a new go-live re-plans due dates; both are said', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    const clientId = 'organization.11111111-2222-3333-4444-555555555555';
    const withKey = await h.interactions.submitSetup(ada, ROLLOUT, { clientId, clientSecret: 'fake-rollout-secret' });
    if (withKey.ok) await withKey.save();
    const outcome = await h.interactions.submitSetup(ada, ROLLOUT, { clientId: '', clientSecret: '', goLive: '2027-02-01' });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    await outcome.save();
    const r = await h.service.get(ROLLOUT);
    expect(r?.settings.credentials).toBeUndefined();
    const planned = Object.values(r!.steps).filter((x) => x.due).length;
    expect(planned).toBeGreaterThan(1);
    expect(ada.texts().at(-1)).toBe(
      `Settings saved for this rollout.\nThe rollout's own API key was removed; checks use the bot's default key.\n${planned} due dates were planned back from go-live.`,
    );
  });

  it('a save whose card cannot be updated is logged and still confirmed; a save the store refuses says nothing was changed', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    h.platform.updateFails = 'refused';
    const first = await h.interactions.submitSetup(ada, ROLLOUT, { timezone: 'Europe/Brussels' });
    if (first.ok) await first.save();
    expect(ada.texts().at(-1)).toBe('Settings saved for this rollout.');
    expect(h.logs('settings saved, card not updated')).toMatchObject([{ level: 'warn', rolloutId: ROLLOUT, err: { message: 'platform outage' } }]);

    const second = await h.interactions.submitSetup(ada, ROLLOUT, { timezone: 'Europe/Paris' });
    h.store.rollouts.update = async () => {
      throw storeDown();
    };
    if (second.ok) await second.save();
    expect(ada.texts().at(-1)).toBe('The checklist store is temporarily unavailable. Nothing was changed; please try again in a minute.');
    expect(h.logs('store unavailable')).toMatchObject([{ level: 'warn', view: ACTIONS.setupSubmit, user: ADA, rolloutId: ROLLOUT }]);
  });
});

describe('export and home', () => {
  it('export answers with the report file in the rollout language', async () => {
    const ada = h.person(ADA, { locale: 'nl' });
    await h.interactions.command(CONVERSATION, ada, 'done 2a', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'export csv', resolveUser);
    const file = ada.replies.at(-1);
    expect(file?.kind).toBe('file');
    if (file?.kind !== 'file') return;
    // The file is posted in the conversation: everyone sees it, so it is in the rollout's language.
    expect(file.file).toMatchObject({ filename: 'bwprep-readiness-2026-11-25.csv', format: 'csv', comment: 'Readiness report (CSV) for this rollout.' });
    expect(file.file.content.split('\r\n')[0]).toMatch(/^Step,Phase,Title/);
    expect(file.file.content).toContain('2a,2,Review the policy configuration');
    // Where the platform cannot post files in the conversation, the person gets it privately, told in their language.
    expect(file.file.sentPrivately && plainText(file.file.sentPrivately)).toBe(
      'Ik kan in dit gesprek geen bestanden plaatsen, dus ik heb je het CSV-rapport in een direct bericht van bwprep gestuurd.',
    );
  });

  it('export json is the report as JSON with the newest 200 audit entries; md is the default', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    for (let i = 0; i < 105; i++) {
      await h.service.markDone(ROLLOUT, '2a', ada.actor);
      await h.service.reopen(ROLLOUT, '2a', ada.actor);
    }
    await h.interactions.command(CONVERSATION, ada, 'export json', resolveUser);
    const json = ada.replies.at(-1);
    if (json?.kind !== 'file') throw new Error('no file');
    expect(json.file).toMatchObject({ filename: 'bwprep-readiness-2026-11-25.json', format: 'json', comment: 'Readiness report (JSON) for this rollout.' });
    const report = JSON.parse(json.file.content) as { audit: { action: string }[] };
    expect(report.audit).toHaveLength(200);
    expect(report.audit.at(-1)?.action).toBe('step.reopened');
    await h.interactions.command(CONVERSATION, ada, 'export', resolveUser);
    const md = ada.replies.at(-1);
    if (md?.kind !== 'file') throw new Error('no file');
    expect(md.file.format).toBe('md');
    expect(md.file.content.startsWith('# ')).toBe(true);
  });

  it('home lists the person’s steps of this workspace in their language', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'assign 2a @ada', resolveUser);
    await h.interactions.command(
      { ...CONVERSATION, workspace: 'tenant-2', channel: 'other' },
      h.person(ADA, { workspace: 'tenant-2' }),
      'assign 2b @ada',
      resolveUser,
    );
    const en = await h.interactions.home(ADA, ada.scope);
    const nl = await h.interactions.home(ADA, ada.scope, 'nl');
    expect(JSON.stringify(en)).toContain('Review the policy configuration');
    expect(JSON.stringify(en)).not.toContain('Turn on account recovery');
    expect(JSON.stringify(nl)).toContain('Beleidsconfiguratie nalopen');
  });
});

describe('a person of another organization (a Slack Connect partner, a Teams guest)', () => {
  it('cannot start a rollout (its creator becomes its admin); `help` answers without starting one; a global admin may', async () => {
    await h.close();
    h = await layer({ globalAdmins: ['teams:gil'] });
    const gus = h.person('teams:gus');
    gus.actor.external = true;
    await h.interactions.command(CONVERSATION, gus, 'status', resolveUser);
    expect(gus.texts().join('\n')).toContain('Someone of the organization that installed bwprep has to start the checklist');
    await h.interactions.command(CONVERSATION, gus, 'help', resolveUser);
    expect(gus.replies.at(-1)?.kind).toBe('help');
    expect(await h.service.get(ROLLOUT)).toBeUndefined();
    // BWPREP_ADMINS are trusted wherever they come from.
    const gil = h.person('teams:gil');
    gil.actor.external = true;
    await h.interactions.command(CONVERSATION, gil, 'status', resolveUser);
    expect((await h.service.get(ROLLOUT))?.settings.admins).toEqual(['teams:gil']);
  });
});
