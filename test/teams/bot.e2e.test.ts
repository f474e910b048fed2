import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isExternalTeamsUser } from '../../src/teams/directory';
import {
  ANNA,
  BOB,
  FAKE_BOT,
  FAKE_CHANNEL,
  FAKE_TENANT,
  GUEST,
  OTHER_TENANT,
  teamsCardAction,
  teamsConversationUpdate,
  teamsInstallationUpdate,
  teamsMessage,
} from './activities';
import { startTeamsHarness, type TeamsHarness } from './harness';

let h: TeamsHarness;
const CHANNEL_CONV = `${FAKE_CHANNEL};messageid=1700000000000`;

beforeAll(async () => {
  h = await startTeamsHarness();
});
afterAll(async () => {
  await h?.close();
});

const repliesTo = (conversationId: string) => h.connector.calls.filter((c) => c.conversationId === conversationId && (c.kind === 'reply' || c.kind === 'send'));

describe('Teams commands over /api/messages (TEAMS_ALLOW_UNAUTHENTICATED, fake Bot Connector)', () => {
  it('answers `@bwprep help` in a channel in the sender’s language (Dutch), with Teams spelling of the commands', async () => {
    const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'help', mention: true, locale: 'nl-NL', timezone: 'Europe/Amsterdam' });
    const res = await h.post(msg);
    expect(res.status).toBe(200);
    const reply = await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id);
    expect(reply.conversationId).toBe(CHANNEL_CONV);
    const text = String(reply.body?.text);
    expect(text).toContain('Stapnummers zien eruit als 2a');
    expect(text).toContain('`@bwprep status`');
    expect(text).toContain('plaats de checklist');
    expect(text).not.toContain('/bwprep');
    expect(reply.body?.textFormat).toBe('markdown');
    // No app id: botbuilder signs nothing and fetches no AAD token (nothing leaves this machine).
    expect(reply.authorization).toBeUndefined();
  });

  it('answers plain `help` in a personal chat in English, commands without a mention', async () => {
    const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, scope: 'personal', from: ANNA, text: 'help', locale: 'en-GB' });
    expect((await h.post(msg)).status).toBe(200);
    const reply = await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id);
    const text = String(reply.body?.text);
    expect(text).toContain('Step ids are like 2a');
    expect(text).toContain('- `status`: post the checklist card');
    expect(text).not.toMatch(/[@/]bwprep status/);
  });

  it('explains an unknown command with the help hint, escaping what the user typed', async () => {
    const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'frobnicate *now*', mention: true, locale: 'en-US' });
    await h.post(msg);
    const reply = await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id);
    expect(String(reply.body?.text)).toContain('I don\'t know the command "frobnicate"');
    expect(String(reply.body?.text)).toContain('`@bwprep help`');
  });

  it('reads an @mention of a person through the roster (Teams sends no AAD id in mentions), and names one it cannot find', async () => {
    // Carl never wrote to bwprep; he is only in the team's roster.
    const carl = { id: '29:fake-carl', name: 'Carl Fake', aadObjectId: '00000000-0000-4000-8000-00000000ca71' };
    h.connector.addMembers('*', [{ ...carl, tenantId: FAKE_TENANT, userRole: 'user' }]);
    const ok = teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'assign 2a', mention: true, mentions: [carl], locale: 'en-US' });
    await h.post(ok);
    const reply = await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === ok.id);
    // Through the application layer: the step is Carl's now, and the reply names him.
    expect(String(reply.body?.text)).toContain('Step 2a is now owned by Carl Fake');
    expect(h.connector.calls.some((c) => c.kind === 'member' && c.memberId === carl.id)).toBe(true);
    // The mentioned person is now known, so a reminder can reach them.
    expect(await h.teams.users.get(carl.aadObjectId)).toMatchObject({
      key: `teams:${carl.aadObjectId}`,
      id: carl.id,
      name: carl.name,
      tenantId: FAKE_TENANT,
      userRole: 'user',
    });

    const nobody = { id: '29:fake-nobody', name: 'Nobody Fake', aadObjectId: '00000000-0000-4000-8000-0000000000aa' };
    const bad = teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'assign 2a', mention: true, mentions: [nobody], locale: 'nl-NL' });
    await h.post(bad);
    const refusal = await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === bad.id);
    expect(String(refusal.body?.text)).toContain('"@Nobody Fake" is geen vermelding van een persoon');
    expect(String(refusal.body?.text)).not.toContain('Slack');
  });

  it("the card's owner picker offers the conversation's members from the roster (beside Teams' people search)", async () => {
    const dora = { id: '29:fake-dora', name: 'Dora Fake', aadObjectId: '00000000-0000-4000-8000-00000000d0a0' };
    h.connector.addMembers('*', [{ ...dora, tenantId: FAKE_TENANT, userRole: 'user' }]);
    // The roster is read at most once a day per conversation; this test's day starts now.
    await h.app.store.kv.delete(`teams:roster-at:${FAKE_CHANNEL}`);
    await h.post(teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'status', mention: true, locale: 'en-GB' }));
    expect(h.connector.calls.some((c) => c.kind === 'roster')).toBe(true);
    const card = await h.connector.waitFor((c) => c.kind === 'send' && Array.isArray(c.body?.attachments) && JSON.stringify(c.body).includes('Dora Fake'));
    const json = JSON.stringify(card.body);
    expect(json).toContain(`"value":"teams:${dora.aadObjectId}"`);
    expect(json).toContain('graph.microsoft.com/users?scope=currentContext');
  });

  it("a card press is bound to its conversation and to real people: another rollout's step or a made-up owner is refused", async () => {
    await h.post(teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'status', mention: true, locale: 'en-GB' }));
    await h.connector.waitFor((c) => c.kind === 'send' && Array.isArray(c.body?.attachments));
    const rollout = `teams:${FAKE_TENANT}:${FAKE_CHANNEL}`;
    // The owner picker sends something that is no person: refused, nothing stored.
    const made = await h.post(
      teamsCardAction({
        serviceUrl: h.connector.serviceUrl,
        verb: 'assign_owner',
        data: { ref: `2b@${rollout}`, 'owner:2b': 'not-a-user' },
        replyToId: 'fake-card-1',
        locale: 'en-GB',
      }),
    );
    expect(made.body).toMatchObject({ type: 'application/vnd.microsoft.activity.message' });
    expect(String((made.body as { value: string }).value)).toContain('is not a mention of a person');
    expect((await h.app.service.get(rollout))?.steps['2b']?.owner).toBeUndefined();
    // A press in a personal chat that names the channel's rollout: not this conversation's card, refused.
    const elsewhere = await h.post(
      teamsCardAction({
        serviceUrl: h.connector.serviceUrl,
        scope: 'personal',
        verb: 'mark_done',
        data: { ref: `4c@${rollout}` },
        replyToId: 'fake-card-2',
        locale: 'en-GB',
      }),
    );
    expect(String((elsewhere.body as { value: string }).value)).toContain("That card belongs to a rollout I can't find");
    expect((await h.app.service.get(rollout))?.steps['4c']?.state).toBe('open');
  });

  it('a refusal of a command typed in a channel reaches only the person, in their personal chat; the channel sees a pointer', async () => {
    // Someone starts the rollout here (and is its admin); Anna, an ordinary member, tries an admin command.
    await h.post(teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'status', mention: true, locale: 'en-GB' }));
    await h.connector.waitFor((c) => c.kind === 'send' && Array.isArray(c.body?.attachments));
    const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, from: ANNA, text: 'skip 4e we only use built-in roles', mention: true, locale: 'en-GB' });
    await h.post(msg);
    const pointer = await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id);
    expect(String(pointer.body?.text)).toContain('I answered you in your personal chat with bwprep');
    expect(String(pointer.body?.text)).not.toContain('Only');
    const privately = await h.connector.waitFor(
      (c) => c.kind === 'send' && c.conversationId !== CHANNEL_CONV && c.conversationId !== FAKE_CHANNEL && String(c.body?.text).includes('Only'),
    );
    expect(String(privately.body?.text)).toContain('skip');
    expect((await h.app.service.get(`teams:${FAKE_TENANT}:${FAKE_CHANNEL}`))?.steps['4e']?.state).toBe('open');
  });

  it('when a turn fails, tells the user with a reference that is in the log (and nothing more)', async () => {
    h.connector.failNext({ kind: 'reply', status: 500, code: 'InternalServerError' });
    const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'help', mention: true, locale: 'en-US' });
    expect((await h.post(msg)).status).toBe(200);
    const apology = await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id && c.status === 200);
    const ref = /Reference: ([0-9a-f]{8})/.exec(String(apology.body?.text))?.[1];
    expect(String(apology.body?.text)).toContain('Something went wrong on our side');
    expect(ref).toBeDefined();
    expect(h.logs()).toContain(`"ref":"${ref}"`);
  });

  it('sends replies within a turn through the same queue and retry (a 429 on a reply is retried, delivered once)', async () => {
    h.connector.failNext({ kind: 'reply', status: 429, retryAfter: 0 });
    const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'help', mention: true, locale: 'en-US' });
    await h.post(msg);
    await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id && c.status === 200);
    expect(h.connector.calls.filter((c) => c.kind === 'reply' && c.activityId === msg.id).map((c) => c.status)).toEqual([429, 200]);
    expect(h.logs()).toContain('"msg":"teams connector busy; retrying"');
  });

  it('answers a message the Bot Framework delivers twice only once', async () => {
    const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'help', mention: true });
    expect((await h.post(msg)).status).toBe(200);
    expect((await h.post(msg)).status).toBe(200);
    await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id);
    expect(h.connector.calls.filter((c) => c.kind === 'reply' && c.activityId === msg.id)).toHaveLength(1);
    expect(h.logs()).toContain('teams message delivered again; already handled');
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const huge = teamsMessage({ serviceUrl: h.connector.serviceUrl, text: `help ${'x'.repeat(1024 * 1024)}`, mention: true });
    expect((await h.post(huge)).status).toBe(413);
  });

  it('answers 413 to a body that keeps streaming past 1 MiB without waiting for its end, and closes the connection', async () => {
    const { request } = await import('node:http');
    const url = new URL('/api/messages', h.app.url);
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
    const answered = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      req.once('response', (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
      });
      req.once('error', reject);
    });
    // 1.5 MiB, and then the request stays open: the answer must not wait for an end that never comes.
    req.write(`{"type":"message","text":"${'x'.repeat(1.5 * 1024 * 1024)}`);
    expect(await answered).toEqual({ status: 413, connection: 'close' });
    req.destroy();
  });

  it('answers 413 to a declared Content-Length over 1 MiB before reading the body', async () => {
    const { request } = await import('node:http');
    const req = request(new URL('/api/messages', h.app.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) },
    });
    const status = await new Promise<number>((resolve, reject) => {
      req.once('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      req.flushHeaders(); // headers only: not one byte of the body is sent
    });
    expect(status).toBe(413);
    req.destroy();
  });

  it('a card button (invoke adaptiveCard/action) answers with the updated card; a bad payload or a refusal reaches only the presser', async () => {
    // The living card first: `@bwprep status` posts an Adaptive Card to the channel.
    await h.post(teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'status', mention: true, locale: 'en-GB' }));
    const posted = await h.connector.waitFor((c) => c.kind === 'send' && Array.isArray(c.body?.attachments));
    const card = (posted.body?.attachments as { contentType: string; content: { version: string } }[])[0]!;
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content.version).toBe('1.5');
    const rollout = `teams:${FAKE_TENANT}:${FAKE_CHANNEL}`;

    const done = await h.post(
      teamsCardAction({ serviceUrl: h.connector.serviceUrl, verb: 'mark_done', data: { ref: `2a@${rollout}` }, replyToId: 'fake-card-1', locale: 'en-GB' }),
    );
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(JSON.stringify(done.body)).toContain('1 of 10 steps done');
    expect((await h.app.service.get(rollout))?.steps['2a']?.state).toBe('done');

    const bad = await h.post(
      teamsCardAction({ serviceUrl: h.connector.serviceUrl, verb: 'mark_done', data: { step: '2a' }, replyToId: 'fake-card-1', locale: 'nl-NL' }),
    );
    expect(bad.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.activity.message' });
    expect(String((bad.body as { value: string }).value)).toContain('Die knop gaf niet mee bij welke stap hij hoort');

    // Someone who is neither the owner nor an admin: refused, only they see it, nothing changes.
    const other = await h.post(
      teamsCardAction({
        serviceUrl: h.connector.serviceUrl,
        from: ANNA,
        verb: 'reopen_step',
        data: { ref: `2a@${rollout}` },
        replyToId: 'fake-card-1',
        locale: 'en-GB',
      }),
    );
    expect(other.body).toMatchObject({ type: 'application/vnd.microsoft.activity.message' });
    expect(String((other.body as { value: string }).value)).toContain('Only');
    expect((await h.app.service.get(rollout))?.steps['2a']?.state).toBe('done');
  });
});

describe('conversation references and the Teams user directory', () => {
  it('stores the reference when the bot is added to a team (conversationUpdate) and when a message arrives', async () => {
    const conv = '19:fake-added@thread.tacv2';
    await h.post(
      teamsConversationUpdate({ serviceUrl: h.connector.serviceUrl, conversationId: conv, added: [{ id: FAKE_BOT.id }], eventType: 'teamMemberAdded' }),
    );
    const stored = await h.teams.conversations.get(conv);
    expect(stored).toMatchObject({
      active: true,
      kind: 'channel',
      tenantId: FAKE_TENANT,
      reference: { serviceUrl: h.connector.serviceUrl, bot: { id: FAKE_BOT.id }, conversation: { id: conv } },
    });
    expect(stored?.installedAt).toBeDefined();
    // …and again from any message in it (the service URL can move between regions).
    // A channel thread (`…;messageid=…`) is stored as its channel: a proactive post starts a new thread there.
    const stored2 = await h.teams.conversations.get(CHANNEL_CONV);
    expect(stored2).toMatchObject({ active: true, teamId: '19:fake-team@thread.tacv2', reference: { conversation: { id: FAKE_CHANNEL } } });
    expect(await h.teams.conversations.get(FAKE_CHANNEL)).toEqual(stored2);
  });

  it('records a sender’s locale, time zone and home tenant (clientInfo, localTimezone, roster)', async () => {
    h.connector.addMembers('*', [{ id: BOB.id, name: BOB.name, aadObjectId: BOB.aadObjectId, tenantId: FAKE_TENANT, userRole: 'user' }]);
    const msg = teamsMessage({
      serviceUrl: h.connector.serviceUrl,
      from: BOB,
      scope: 'groupChat',
      text: 'help',
      mention: true,
      locale: 'nl-BE',
      timezone: 'Europe/Brussels',
    });
    await h.post(msg);
    const bob = await h.teams.users.get(BOB.aadObjectId);
    expect(bob).toMatchObject({
      key: `teams:${BOB.aadObjectId}`,
      id: BOB.id,
      name: BOB.name,
      locale: 'nl',
      teamsLocale: 'nl-BE',
      timezone: 'Europe/Brussels',
      tenantId: FAKE_TENANT,
    });
    expect(isExternalTeamsUser(bob!, FAKE_TENANT)).toBe(false);
  });

  it('a user from another tenant (shared channel, guest) cannot start a rollout (its creator becomes its admin); once started, they take part', async () => {
    h.connector.addMembers('*', [{ id: GUEST.id, name: GUEST.name, aadObjectId: GUEST.aadObjectId, tenantId: OTHER_TENANT, userRole: 'user' }]);
    const conv = '19:fake-shared@thread.tacv2';
    const say = async (from: typeof BOB, text: string) => {
      const msg = teamsMessage({
        serviceUrl: h.connector.serviceUrl,
        conversationId: `${conv};messageid=1700000000009`,
        from,
        text,
        mention: true,
        locale: 'en-GB',
      });
      expect((await h.post(msg)).status).toBe(200);
      return msg;
    };
    const ask = async (from: typeof BOB, text: string) => {
      const msg = await say(from, text);
      return String((await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id)).body?.text ?? '');
    };
    // A refusal in a channel reaches the person alone, in their personal chat.
    expect(await ask(GUEST, 'status')).toContain('I answered you in your personal chat');
    const privately = (needle: RegExp) =>
      h.connector.waitFor((c) => c.kind === 'send' && c.conversationId?.startsWith('a:') === true && needle.test(String(c.body?.text)));
    await privately(/Someone of the organization that installed bwprep has to start the checklist/);
    const guest = await h.teams.users.get(GUEST.aadObjectId);
    expect(guest?.tenantId).toBe(OTHER_TENANT);
    expect(isExternalTeamsUser(guest!, FAKE_TENANT)).toBe(true);
    expect(isExternalTeamsUser({ tenantId: FAKE_TENANT, userRole: 'guest' }, FAKE_TENANT)).toBe(true);
    expect(isExternalTeamsUser({}, FAKE_TENANT)).toBe(false); // roster unknown: not locked out
    const rolloutId = `teams:${FAKE_TENANT}:${conv}`;
    expect(await h.app.service.get(rolloutId)).toBeUndefined();
    // Bob (the installing tenant) starts it and is its admin; the guest then takes part, without admin rights.
    await say(BOB, 'status'); // the card is a new message in the channel, not a reply
    expect((await h.app.service.get(rolloutId))?.settings.admins).toEqual([`teams:${BOB.aadObjectId}`]);
    expect(await ask(GUEST, 'mine')).not.toContain('personal chat');
    await say(GUEST, 'skip 2b not needed');
    await privately(/Only a rollout admin/i);
    expect((await h.app.service.get(rolloutId))?.steps['2b']?.state).toBe('open');
  });

  it('welcomes on personal install, and marks the conversation inactive on uninstall; sends to it stop', async () => {
    const conv = `a:fake-personal-${ANNA.aadObjectId}`;
    await h.post(teamsInstallationUpdate({ serviceUrl: h.connector.serviceUrl, scope: 'personal', from: ANNA, action: 'add', locale: 'nl-NL' }));
    const welcome = await h.connector.waitFor((c) => c.conversationId === conv && String(c.body?.text).includes('Hoi, ik ben bwprep'));
    expect(welcome.kind).toBe('reply');
    expect((await h.teams.users.get(ANNA.aadObjectId))?.personalConversationId).toBe(conv);

    await h.post(teamsInstallationUpdate({ serviceUrl: h.connector.serviceUrl, scope: 'personal', from: ANNA, action: 'remove' }));
    expect(await h.teams.conversations.get(conv)).toMatchObject({ active: false, inactiveReason: 'uninstalled' });
    const before = repliesTo(conv).length;
    expect(await h.teams.send(conv, { type: 'message', text: 'reminder' })).toBeUndefined();
    expect(repliesTo(conv).length).toBe(before);
  });

  it('marks a deleted channel inactive (conversationUpdate channelDeleted)', async () => {
    await h.post(teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'help', mention: true }));
    expect((await h.teams.conversations.get(FAKE_CHANNEL))?.active).toBe(true);
    await h.post(teamsConversationUpdate({ serviceUrl: h.connector.serviceUrl, conversationId: FAKE_CHANNEL, eventType: 'channelDeleted' }));
    expect(await h.teams.conversations.get(FAKE_CHANNEL)).toMatchObject({ active: false, inactiveReason: 'channel_deleted' });
  });

  it('marks the conversation inactive when the bot is removed from a team (conversationUpdate membersRemoved)', async () => {
    const conv = '19:fake-removed@thread.tacv2';
    await h.post(teamsConversationUpdate({ serviceUrl: h.connector.serviceUrl, conversationId: conv, added: [{ id: FAKE_BOT.id }] }));
    await h.post(teamsConversationUpdate({ serviceUrl: h.connector.serviceUrl, conversationId: conv, removed: [{ id: FAKE_BOT.id }] }));
    expect(await h.teams.conversations.get(conv)).toMatchObject({ active: false, inactiveReason: 'uninstalled' });
  });
});

describe('messages not addressed to bwprep (Teams delivers them all under resource-specific consent)', () => {
  it('a channel or group-chat message without an @mention of bwprep: no reply, nothing stored about it or its sender', async () => {
    const quiet = { ...GUEST, id: '29:fake-quiet', aadObjectId: '00000000-0000-4000-8000-00000000e0e0', name: 'Quiet Fake' };
    for (const scope of ['channel', 'groupChat'] as const) {
      const conversationId = scope === 'channel' ? '19:fake-quiet@thread.tacv2;messageid=1700000000001' : '19:fake-quiet-chat@thread.v2';
      const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, scope, conversationId, from: quiet, text: 'status lunch at noon, anyone?' });
      expect((await h.post(msg)).status).toBe(200);
      // Not with a `value` either (bwprep sends no Action.Submit cards), nor when it mentions another bot only.
      const withValue = { ...teamsMessage({ serviceUrl: h.connector.serviceUrl, scope, conversationId, from: quiet, text: 'help' }), value: {} };
      expect((await h.post(withValue)).status).toBe(200);
      const other = teamsMessage({ serviceUrl: h.connector.serviceUrl, scope, conversationId, from: quiet, text: 'help', mentions: [ANNA] });
      expect((await h.post(other)).status).toBe(200);
      // The same text with the mention is answered: the conversation works.
      const addressed = teamsMessage({ serviceUrl: h.connector.serviceUrl, scope, conversationId, from: BOB, text: 'help', mention: true });
      await h.post(addressed);
      await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === addressed.id);
      for (const m of [msg, withValue, other]) {
        expect(h.connector.calls.filter((c) => c.activityId === m.id)).toEqual([]);
        // Not even the redelivery guard's key was written for it.
        expect(await h.app.store.leases.acquire(`teams:activity:${conversationId.split(';')[0]}:${m.id}`, 'probe', 1000)).toBe(true);
      }
    }
    expect(await h.teams.users.get(quiet.aadObjectId)).toBeUndefined();
    expect(h.logs()).not.toContain('lunch at noon');
  });
});
