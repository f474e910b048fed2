import { afterEach, describe, expect, it, vi } from 'vitest';
import { TestClock } from '../helpers/clock';
import { ANNA, BOB, FAKE_CHANNEL, FAKE_TENANT, teamsCardAction, teamsMessage } from './activities';
import { expectValidCard } from './adaptive-cards';
import type { ConnectorCall } from '../fakes/bot-connector';
import { startTeamsHarness, type TeamsHarness } from './harness';

/**
 * What Teams does through the application layer, end to end: activities POSTed to /api/messages, every
 * outbound call recorded by the fake Bot Connector (src/teams → botbuilder → HTTP).
 */

/** Teams renders the people picker's `choices.data` on 1.5 cards; the library dates it to 1.6 (see adaptive-cards.test.ts). */
const PEOPLE_PICKER = /^Property "choices\.data" is supported in version 1\.6/;
const ROLLOUT = `teams:${FAKE_TENANT}:${FAKE_CHANNEL}`;

// Wednesday 25 November 2026, 08:30 in Amsterdam (07:30 UTC): before the 09:00 digest.
const clock = new TestClock('2026-11-25T07:30:00Z');
let h: TeamsHarness;

afterEach(async () => {
  await h?.close();
});

async function start(): Promise<void> {
  clock.set('2026-11-25T07:30:00Z');
  h = await startTeamsHarness({ clock });
}

/** Sends `@bwprep <text>` in the channel and waits for the reply (notices answer as replies to the message). */
async function say(text: string, opts: { from?: typeof BOB; locale?: string; mentions?: (typeof BOB)[]; timezone?: string } = {}): Promise<ConnectorCall> {
  const msg = teamsMessage({
    serviceUrl: h.connector.serviceUrl,
    text,
    mention: true,
    locale: opts.locale ?? 'en-GB',
    ...(opts.from ? { from: opts.from } : {}),
    ...(opts.mentions ? { mentions: opts.mentions } : {}),
    ...(opts.timezone ? { timezone: opts.timezone } : {}),
  });
  expect((await h.post(msg)).status).toBe(200);
  return h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id && c.status === 200);
}

type Card = { contentType: string; content: Record<string, unknown> };
const cardOf = (c: ConnectorCall): Card | undefined => (c.body?.attachments as Card[] | undefined)?.[0];

/** `@bwprep status`: the card is a new message in the channel (not a reply). */
async function postCard(locale = 'en-GB'): Promise<ConnectorCall> {
  const before = h.connector.calls.length;
  const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'status', mention: true, locale });
  expect((await h.post(msg)).status).toBe(200);
  return h.connector.waitFor((c) => h.connector.calls.indexOf(c) >= before && c.kind === 'send' && c.status === 200 && cardOf(c) !== undefined);
}

describe('Teams through the application layer', () => {
  it('`@bwprep status` posts the living card as a valid Adaptive Card in the channel', async () => {
    await start();
    const posted = await postCard();
    expect(posted.conversationId).toBe(FAKE_CHANNEL);
    const card = cardOf(posted)!;
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expectValidCard(card.content, { allow: [PEOPLE_PICKER] });
    const json = JSON.stringify(card.content);
    expect(json).toContain('0 of 10 steps done');
    expect(json).toContain('"verb":"mark_done"');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card?.ts).toBe(posted.id));
  });

  it('`done 2a` updates the stored card activity for everyone (PUT …/activities/{id})', async () => {
    await start();
    const posted = await postCard();
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card).toBeDefined());
    const reply = await say('done 2a');
    expect(String(reply.body?.text)).toContain('2a');
    const update = await h.connector.waitFor((c) => c.kind === 'update' && c.status === 200 && c.activityId === posted.id);
    expect(update.conversationId).toBe(FAKE_CHANNEL);
    const card = cardOf(update)!;
    expectValidCard(card.content, { allow: [PEOPLE_PICKER] });
    expect(JSON.stringify(card.content)).toContain('1 of 10 steps done');
    expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done');
  });

  it('the owner picker takes a person from Teams’ people search (a bare AAD object id) as that Teams user', async () => {
    await start();
    const posted = await postCard();
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card).toBeDefined());
    await say('help', { from: ANNA }); // Anna is known to bwprep
    const res = await h.post(
      teamsCardAction({
        serviceUrl: h.connector.serviceUrl,
        verb: 'assign_owner',
        data: { ref: `2a@${ROLLOUT}`, 'owner:2a': ANNA.aadObjectId },
        replyToId: posted.id!,
        locale: 'en-GB',
      }),
    );
    expect(res.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.owner).toBe(`teams:${ANNA.aadObjectId}`);
    expect(JSON.stringify(res.body)).toContain('Anna Fake');
  });

  it('a press that changes a step is answered with the updated card at once; the card update for everyone follows', async () => {
    await start();
    const posted = await postCard();
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card?.ts).toBe(posted.id));
    // Teams is slow to take the card update for everyone: the presser's answer must not wait for it.
    const held = h.connector.hold((c) => c.kind === 'update' && c.activityId === posted.id);
    const press = teamsCardAction({
      serviceUrl: h.connector.serviceUrl,
      verb: 'mark_done',
      data: { ref: `2a@${ROLLOUT}` },
      replyToId: posted.id!,
      locale: 'en-GB',
    });
    const res = await h.post(press);
    expect(res.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(JSON.stringify(res.body)).toContain('1 of 10 steps done');
    await held.arrived(1);
    expect(h.connector.calls.filter((c) => c.kind === 'update' && c.activityId === posted.id && c.status === 200)).toHaveLength(1);
    held.release();
    const update = await h.connector.waitFor((c) => c.kind === 'update' && c.activityId === posted.id);
    expect(JSON.stringify(cardOf(update)?.content)).toContain('1 of 10 steps done');
    // A press that changes nothing still answers with the notice (only the presser sees it).
    const again = await h.post({ ...press, id: `${press.id}-again` });
    expect(again.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.activity.message' });
    expect(String((again.body as { value?: unknown }).value)).toMatch(/already/i);
  });

  it('when the card update for everyone fails after the press was answered, the presser hears it in their 1:1 chat', async () => {
    await start();
    const posted = await postCard();
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card?.ts).toBe(posted.id));
    h.connector.addMembers('*', [{ id: BOB.id, name: BOB.name, aadObjectId: BOB.aadObjectId, tenantId: FAKE_TENANT, userRole: 'user' }]);
    await say('help'); // Bob is known to bwprep (a 1:1 chat can be opened with him)
    // A lasting refusal of the update (not a gone card, not a throttle): the card stays as it was.
    h.connector.failNext({ kind: 'update', status: 400, times: 10 });
    const before = h.connector.calls.length;
    const res = await h.post(
      teamsCardAction({ serviceUrl: h.connector.serviceUrl, verb: 'mark_done', data: { ref: `2a@${ROLLOUT}` }, replyToId: posted.id!, locale: 'en-GB' }),
    );
    expect(JSON.stringify(res.body)).toContain('1 of 10 steps done');
    const create = await h.connector.waitFor((c) => h.connector.calls.indexOf(c) >= before && c.kind === 'create' && c.status === 200);
    expect(create.body).toMatchObject({ isGroup: false, members: [{ id: BOB.id }] });
    const dm = await h.connector.waitFor((c) => c.kind === 'send' && c.conversationId === create.id);
    // With the tone the notice has in Slack's ephemeral (a saved change: ✅).
    expect(String(dm.body?.text)).toMatch(/^✅ Step 2a is marked done\./);
    expect(String(dm.body?.text)).toContain('The change is saved, but I could not update the checklist card just now.');
    expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done');
  });

  it('a 429 on the card update is retried (Retry-After honoured) and the update lands once', async () => {
    await start();
    const posted = await postCard();
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card).toBeDefined());
    h.connector.failNext({ kind: 'update', status: 429, retryAfter: 0 });
    await say('done 2a');
    await h.connector.waitFor((c) => c.kind === 'update' && c.status === 200 && c.activityId === posted.id);
    const updates = h.connector.calls.filter((c) => c.kind === 'update' && c.activityId === posted.id);
    expect(updates.map((c) => c.status)).toEqual([429, 200]);
    expect(JSON.stringify(cardOf(updates[1]!)?.content)).toContain('1 of 10 steps done');
  });

  it('posts the daily digest proactively to the rollout’s Teams conversation at 09:00 in the rollout’s time zone', async () => {
    await start();
    await postCard();
    await say('done 2a');
    expect((await h.app.scheduler!.tick()).digests.filter((d) => d.posted)).toHaveLength(0); // 08:30: not yet
    clock.set('2026-11-25T08:01:00Z'); // 09:01 in Amsterdam
    expect((await h.app.scheduler!.tick()).digests.filter((d) => d.posted)).toHaveLength(1);
    const isDigest = (c: ConnectorCall) => c.kind === 'send' && JSON.stringify(cardOf(c)?.content ?? '').includes('Daily readiness digest');
    const digest = await h.connector.waitFor((c) => isDigest(c) && c.status === 200);
    expect(digest.conversationId).toBe(FAKE_CHANNEL);
    // An Adaptive Card, valid for Teams, whose title carries the scheduled slot's marker (found again through Graph after a crash).
    const card = cardOf(digest)!;
    expectValidCard(card.content);
    expect((card.content.body as unknown[])[0]).toMatchObject({ type: 'TextBlock', id: `bwprep-digest|${ROLLOUT}|2026-11-25T09:00` });
    expect(digest.body?.summary).toMatch(/\d+%/);
    const json = JSON.stringify(card.content);
    expect(json).toContain('1 of 10');
    // Teams Markdown, not Slack mrkdwn or HTML.
    expect(json).not.toMatch(/<b>|<@/);
    await h.app.scheduler!.tick();
    expect(h.connector.calls.filter(isDigest)).toHaveLength(1);
  });

  it('reminds the owner of an overdue step in a personal chat it creates through POST /v3/conversations, in the owner’s morning', async () => {
    await start();
    h.connector.addMembers('*', [{ id: ANNA.id, name: ANNA.name, aadObjectId: ANNA.aadObjectId, tenantId: FAKE_TENANT, userRole: 'user' }]);
    await postCard(); // Bob's rollout: he is its admin
    // Anna wrote in the channel once (London time); bwprep has no personal chat with her.
    await say('help', { from: ANNA, timezone: 'Europe/London' });
    await say('assign 4a', { mentions: [ANNA] });
    await say('due 4a 2026-11-24');
    await vi.waitFor(async () =>
      expect((await h.app.service.get(ROLLOUT))?.steps['4a']).toMatchObject({ owner: `teams:${ANNA.aadObjectId}`, due: '2026-11-24' }),
    );
    clock.set('2026-11-25T08:30:00Z'); // 08:30 in London: Anna's day has not started
    await h.app.scheduler!.tick();
    expect(h.connector.calls.filter((c) => c.kind === 'create')).toHaveLength(0);
    clock.set('2026-11-25T09:05:00Z'); // 09:05 in London
    const tick = await h.app.scheduler!.tick();
    expect(tick.reminders.filter((r) => r.sent)).toHaveLength(1);
    const create = await h.connector.waitFor((c) => c.kind === 'create' && c.status === 200);
    expect(create.body).toMatchObject({ isGroup: false, members: [{ id: ANNA.id }], tenantId: FAKE_TENANT });
    const dm = await h.connector.waitFor((c) => c.kind === 'send' && c.conversationId === create.id);
    expect(String(dm.body?.text)).toContain('4a');
    // Personal chat: commands without a mention.
    expect(String(dm.body?.text)).not.toContain('@bwprep');
    expect((await h.teams.users.get(ANNA.aadObjectId))?.personalConversationId).toBe(create.id);
    // Once a day.
    clock.set('2026-11-25T13:00:00Z');
    await h.app.scheduler!.tick();
    expect(h.connector.calls.filter((c) => c.kind === 'send' && c.conversationId === create.id)).toHaveLength(1);
  });

  it('speaks Dutch on the card and in the digest of a Dutch rollout', async () => {
    await start();
    const lang = await say('lang nl');
    expect(String(lang.body?.text)).toMatch(/Nederlands/);
    const posted = await postCard('en-GB'); // the card is for everyone: the rollout's language, not the sender's
    const json = JSON.stringify(cardOf(posted)!.content);
    expectValidCard(cardOf(posted)!.content, { allow: [PEOPLE_PICKER] });
    expect(json).toContain('0 van 10 stappen afgerond');
    expect(json).not.toContain('steps done');
    clock.set('2026-11-25T08:01:00Z');
    await h.app.scheduler!.tick();
    const digest = await h.connector.waitFor(
      (c) => c.kind === 'send' && c.status === 200 && JSON.stringify(cardOf(c)?.content ?? '').includes('Dagelijks gereedheidsoverzicht'),
    );
    expect(JSON.stringify(cardOf(digest)!.content)).toContain('25 november 2026');
  });
});
