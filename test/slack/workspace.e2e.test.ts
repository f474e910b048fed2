import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import { startFakeSlackApi } from '../fakes/slack-api';
import {
  blockActions,
  button,
  eventCallback,
  FAKE_APP_TOKEN,
  FAKE_BOT_ID,
  FAKE_BOT_TOKEN,
  FAKE_CHANNEL_ID,
  FAKE_TEAM_ID,
  FAKE_USERS,
  fakeEventId,
  fakeTs,
  slashCommand,
} from '../helpers/slack-requests';
import { blockText, type SlackHarness, startSlackHarness, TestClock } from './harness';

/**
 * Issue 9, kinds 3–5, end to end over HTTP against the fake Slack Web API: admin rights of Slack Connect
 * guests and Enterprise Grid members; the Messages tab; the installation going away.
 */

const { alice, bob, carol } = FAKE_USERS; // alice: admin of the installing workspace; bob starts rollouts; carol: member
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
let h: SlackHarness;
let n = 0;

async function command(text: string, user: string = bob, o: { channel_id?: string; team_id?: string } = {}) {
  const id = `w${++n}`;
  const res = await h.send(slashCommand({ text, user_id: user, response_url: h.slack.responseUrl(id), ...o }));
  expect(res.status).toBe(200);
  return id;
}

async function reply(id: string): Promise<string> {
  const r = await h.slack.waitForResponse(id);
  return String(r.body.text);
}

async function startRollout() {
  await command('status', bob);
  await h.slack.waitFor('chat.postMessage');
  await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card).toBeDefined());
}

describe('kind 3: Slack Connect — admin rights count only for people of the installing workspace', () => {
  // Admin (and owner) of their own organization, in a channel shared with ours.
  const EXT = 'U0EXTADMIN';
  beforeAll(async () => {
    h = await startSlackHarness();
    h.slack.addUser({ id: EXT, name: 'ext', team_id: 'T0OTHERORG', is_admin: true, is_owner: true, locale: 'en-GB' });
    await startRollout();
    await command(`assign 2a <@${carol}|carol>`);
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.owner).toBe(`slack:${carol}`));
  });
  afterAll(() => h.close());

  it('an external workspace admin can neither skip a step nor move a step someone owns to themselves; the refusal names who may', async () => {
    expect(await reply(await command('skip 4e not needed', EXT))).toContain(`Only a rollout admin (<@${bob}>) can skip a step`);
    expect(await reply(await command(`assign 2a <@${EXT}|ext>`, EXT))).toContain(
      `Step 2a already has an owner (<@${carol}>). Ask them or a rollout admin (<@${bob}>)`,
    );
    expect(await reply(await command('lang nl', EXT))).toContain('Only a rollout admin');
    const r = await h.app.service.get(ROLLOUT);
    expect(r?.steps['4e']?.state).toBe('open');
    expect(r?.steps['2a']?.owner).toBe(`slack:${carol}`);
    expect(r?.settings.locale).toBe('en');
  });

  it('…nor mark a step they do not own done from the card, nor open setup', async () => {
    const id = `click${++n}`;
    await h.send(
      blockActions({
        user: { id: EXT, team_id: 'T0OTHERORG' },
        actions: [button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '2a'))],
        response_url: h.slack.responseUrl(id),
      }),
    );
    expect(await reply(id)).toContain(`Only the owner of step 2a (<@${carol}>) or a rollout admin (<@${bob}>)`);
    expect(await reply(await command('setup', EXT))).toContain('Only a rollout admin');
    expect(h.slack.calls('views.open')).toHaveLength(0);
  });

  it('they act as an ordinary member: they may take an unowned step and mark it done', async () => {
    await command(`assign 4b <@${EXT}|ext>`, EXT);
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['4b']?.owner).toBe(`slack:${EXT}`));
    await command('done 4b', EXT);
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['4b']?.state).toBe('done'));
  });

  it('…nor start a rollout in a shared channel that has none (its creator would become its admin; found by a review)', async () => {
    const SHARED = 'C0SHAREDNEW';
    h.slack.addChannel({ id: SHARED, name: 'shared-new', is_member: true });
    const text = await reply(await command('status', EXT, { channel_id: SHARED }));
    expect(text).toContain('Someone of the organization that installed bwprep has to start the checklist');
    // `help` needs no rollout: it answers, and starts none either.
    const help = await reply(await command('help', EXT, { channel_id: SHARED }));
    expect(help).toContain('trial-to-production checklist');
    expect(help).not.toContain('has to start');
    expect(await h.app.service.get(`slack:${FAKE_TEAM_ID}:${SHARED}`)).toBeUndefined();
    // A member of the installing workspace starts it, and only they are its admin.
    await command('status', carol, { channel_id: SHARED });
    await vi.waitFor(async () => expect((await h.app.service.get(`slack:${FAKE_TEAM_ID}:${SHARED}`))?.settings.admins).toEqual([`slack:${carol}`]));
  });

  it('an admin of the installing workspace (auth.test team) still has admin rights', async () => {
    await command('skip 4e no custom roles', alice);
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['4e']?.skipReason).toBe('no custom roles'));
    expect(h.slack.calls('auth.test').length).toBeGreaterThanOrEqual(1);
  });
});

describe('kind 3: Enterprise Grid — admins of the installing organization count, other organizations do not', () => {
  let slack: Awaited<ReturnType<typeof startFakeSlackApi>>;
  beforeAll(async () => {
    slack = await startFakeSlackApi({ tokens: [FAKE_BOT_TOKEN, FAKE_APP_TOKEN], enterpriseId: 'E0GRID' });
    slack.addUser({ id: 'U0SISTER', name: 'sister', team_id: 'T0SISTER', enterprise_id: 'E0GRID', is_admin: true, locale: 'en-GB' });
    slack.addUser({ id: 'U0ELSE', name: 'else', team_id: 'T0ELSE', enterprise_id: 'E0ELSEWHERE', is_admin: true, locale: 'en-GB' });
    h = await startSlackHarness({ slack });
    await startRollout();
  });
  afterAll(async () => {
    await h.close();
    await slack.close();
  });

  it('an admin from a sister workspace of the same Grid organization may skip a step', async () => {
    await command('skip 4e grid-wide roles', 'U0SISTER');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['4e']?.state).toBe('not_applicable'));
  });

  it('an admin from another Grid organization may not', async () => {
    expect(await reply(await command('skip 4d not needed', 'U0ELSE'))).toContain('Only a rollout admin');
    expect((await h.app.service.get(ROLLOUT))?.steps['4d']?.state).toBe('open');
  });
});

describe('kind 4: the Messages tab answers', () => {
  const SECOND = 'C0SECOND';
  const dmOf = (user: string) => `D0DM${user}`;
  /** What a person types to the bot in its Messages tab, as the `message.im` event Slack sends. */
  const dm = (text: string, user: string = bob, extra: Record<string, unknown> = {}, eventId = fakeEventId()) =>
    h.send(eventCallback({ type: 'message', channel_type: 'im', channel: dmOf(user), user, text, ts: fakeTs(), ...extra }, { event_id: eventId }));
  /** The next message the bot sends `user` directly (chat.postMessage to their user id) after `from` calls. */
  const nextDm = async (user: string, from: number) => {
    const calls = await h.slack.waitForCount('chat.postMessage', from + 1, (c) => c.args.channel === user);
    const last = calls[from]!;
    return `${String(last.args.text)}\n${blockText(last.args.blocks)}`;
  };
  const sent = (user: string) => h.slack.calls('chat.postMessage').filter((c) => c.args.channel === user).length;

  beforeAll(async () => {
    h = await startSlackHarness();
    await startRollout();
    await command(`assign 2a <@${bob}|bob>`);
    await command('status', bob, { channel_id: SECOND });
    await vi.waitFor(async () => expect(await h.app.service.get(`slack:${FAKE_TEAM_ID}:${SECOND}`)).toBeDefined());
    await command(`assign 1a <@${bob}|bob>`, bob, { channel_id: SECOND });
    await vi.waitFor(async () => expect((await h.app.service.get(`slack:${FAKE_TEAM_ID}:${SECOND}`))?.steps['1a']?.owner).toBe(`slack:${bob}`));
  });
  afterAll(() => h.close());

  it('help answers with the commands and how to name a rollout here', async () => {
    const from = sent(bob);
    await dm('help');
    const text = await nextDm(bob, from);
    expect(text).toContain('bwprep: your Bitwarden trial-to-production checklist');
    await vi.waitFor(() => expect(sent(bob)).toBe(from + 2));
    expect(
      blockText(
        h.slack
          .calls('chat.postMessage')
          .filter((c) => c.args.channel === bob)
          .at(-1)!.args.blocks,
      ),
    ).toContain('done 2a #bitwarden-rollout');
  });

  it('mine lists the steps the person owns across the rollouts of this workspace, each with its channel', async () => {
    const from = sent(bob);
    await dm('mine');
    const text = await nextDm(bob, from);
    expect(text).toContain('Your steps in this workspace');
    expect(text).toContain(`<#${FAKE_CHANNEL_ID}>`);
    expect(text).toContain(`<#${SECOND}>`);
    expect(text).toMatch(/2a/);
    expect(text).toMatch(/1a/);
  });

  it('a step command naming the rollout channel works, with its text decoded once; the card follows', async () => {
    const from = sent(bob);
    await dm(`done 2a checked &amp; fine <#${FAKE_CHANNEL_ID}|bitwarden-rollout>`);
    expect(await nextDm(bob, from)).toContain('Step 2a is marked done');
    const r = await h.app.service.get(ROLLOUT);
    expect(r?.steps['2a']).toMatchObject({ state: 'done', note: 'checked & fine' });
    await h.slack.waitFor('chat.update', (c) => c.args.channel === FAKE_CHANNEL_ID);
  });

  it('a step command without a channel asks which rollout; a channel-only command says where to run it', async () => {
    let from = sent(bob);
    await dm('reopen 2a');
    expect(await nextDm(bob, from)).toContain('Which rollout? Name its channel');
    from = sent(bob);
    await dm('digest');
    expect(await nextDm(bob, from)).toContain("`/bwprep digest` works in the rollout's channel only");
    from = sent(bob);
    await dm(`status <#${FAKE_CHANNEL_ID}|bitwarden-rollout>`);
    expect(await nextDm(bob, from)).toContain(`run it in <#${FAKE_CHANNEL_ID}>`);
    from = sent(bob);
    await dm('done 2a <#C0NOROLLOUT|random>');
    expect(await nextDm(bob, from)).toContain('<#C0NOROLLOUT> has no rollout yet');
    expect(await h.app.service.get(`slack:${FAKE_TEAM_ID}:C0NOROLLOUT`)).toBeUndefined();
    expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done');
  });

  it('export naming the rollout channel sends the report to the person in their DM with the app', async () => {
    const from = h.slack.calls('files.completeUploadExternal').length;
    await dm(`export csv <#${FAKE_CHANNEL_ID}|bitwarden-rollout>`);
    const [done] = (await h.slack.waitForCount('files.completeUploadExternal', from + 1, undefined, 5000)).slice(from);
    expect(done!.args.channel_id).toBe(h.slack.dmChannel(bob));
    const csv = h.slack
      .files()
      .filter((f) => f.completed)
      .at(-1)!
      .content!.toString('utf8');
    expect(csv.split('\r\n').find((l) => l.startsWith('2a,'))).toContain('checked & fine');
  });

  it('/bwprep in a direct message works like the Messages tab and starts no rollout there', async () => {
    const id = await command('mine', bob, { channel_id: 'D0BOBCAROL' });
    expect(await reply(id)).toContain('Your steps in this workspace');
    const which = await command('done 4c', bob, { channel_id: 'D0BOBCAROL' });
    expect(await reply(which)).toContain('Which rollout?');
    expect(await h.app.service.get(`slack:${FAKE_TEAM_ID}:D0BOBCAROL`)).toBeUndefined();
  });

  it('edits, other subtypes, bot messages and redeliveries get no answer', async () => {
    const from = sent(carol);
    await dm('help', carol, { subtype: 'message_changed' });
    await dm('help', carol, { bot_id: FAKE_BOT_ID });
    await dm('help', carol, { channel_type: 'channel', channel: FAKE_CHANNEL_ID });
    const id = fakeEventId();
    await dm('mine', carol, {}, id);
    await dm('mine', carol, {}, id); // Slack's retry of the same event
    await nextDm(carol, from);
    await dm('help', carol);
    await vi.waitFor(() => expect(sent(carol)).toBe(from + 3)); // mine once, then help + the DM hint
    const texts = h.slack
      .calls('chat.postMessage')
      .filter((c) => c.args.channel === carol)
      .slice(from)
      .map((c) => String(c.args.text));
    expect(texts[0]).toContain('Your steps in this workspace');
  });
});

describe('kind 5: the installation goes away', () => {
  const clock = new TestClock(new Date('2026-11-25T07:30:00Z'));
  const OTHER_TEAM = 'T0OTHERTEAM';
  beforeAll(async () => {
    h = await startSlackHarness({ clock });
    await startRollout();
    await command('status', bob, { team_id: OTHER_TEAM, channel_id: 'C0ELSEWHERE' });
    await vi.waitFor(async () => expect(await h.app.service.get(`slack:${OTHER_TEAM}:C0ELSEWHERE`)).toBeDefined());
    // An overdue step: its owner would get a reminder DM at the start of their day.
    await command(`assign 4a <@${bob}|bob>`);
    await command('due 4a 2026-11-24');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['4a']?.due).toBe('2026-11-24'));
  });
  afterAll(() => h.close());

  const goneLogs = () =>
    h
      .logs()
      .split('\n')
      .filter((l) => l.includes('lost its Slack installation'));

  it('tokens_revoked for user tokens only changes nothing', async () => {
    await h.send(eventCallback({ type: 'tokens_revoked', tokens: { oauth: [alice] } }));
    await h.send(eventCallback({ type: 'app_home_opened', user: carol, channel: 'D0C', tab: 'home' }));
    await h.slack.waitFor('views.publish', (c) => c.args.user_id === carol);
    expect((await h.app.service.get(ROLLOUT))?.unreachable).toBeUndefined();
  });

  it('app_uninstalled stops the scheduled work of that workspace only, logged once even when Slack redelivers', async () => {
    const event = eventCallback({ type: 'app_uninstalled' }, { event_id: 'Ev0UNINSTALL' });
    await h.send(event);
    await h.send(event, { retryNum: 1 });
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.unreachable?.code).toBe('app_uninstalled'));
    expect((await h.app.service.get(`slack:${OTHER_TEAM}:C0ELSEWHERE`))?.unreachable).toBeUndefined();
    await vi.waitFor(() => expect(goneLogs()).toHaveLength(1));
    expect(JSON.parse(goneLogs()[0]!)).toMatchObject({ level: 'warn', team: FAKE_TEAM_ID, code: 'app_uninstalled', rollouts: 1 });

    clock.set('2026-11-25T08:05:00Z'); // 09:05 Amsterdam: the digest is due
    const posts = h.slack.calls('chat.postMessage').length;
    const tick = await h.app.scheduler!.tick();
    expect(tick.digests.find((d) => d.rolloutId === ROLLOUT)?.skipped).toBe('unreachable');
    expect(tick.digests.find((d) => d.rolloutId === `slack:${OTHER_TEAM}:C0ELSEWHERE`)?.posted).toBe(true);
    expect(
      h.slack
        .calls('chat.postMessage')
        .slice(posts)
        .map((c) => c.args.channel),
    ).toEqual(['C0ELSEWHERE']);

    clock.set('2026-11-25T09:05:00Z'); // 09:05 in London: bob's reminder would be due
    expect((await h.app.scheduler!.tick()).reminders).toEqual([]);
    expect(h.slack.calls('conversations.open')).toHaveLength(0);
  });

  it('a restart whose auth.test works again (reinstalled) resumes the workspace', async () => {
    await h.restart();
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.unreachable).toBeUndefined());
    expect(h.logs()).toContain('the Slack installation works again');
  });

  it('tokens_revoked for the bot token stops it again', async () => {
    await h.send(eventCallback({ type: 'tokens_revoked', tokens: { bot: ['U0FAKEBOT'] } }));
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.unreachable?.code).toBe('tokens_revoked'));
    clock.set('2026-11-26T08:05:00Z');
    const tick = await h.app.scheduler!.tick();
    expect(tick.digests.find((d) => d.rolloutId === ROLLOUT)?.skipped).toBe('unreachable');
  });
});
