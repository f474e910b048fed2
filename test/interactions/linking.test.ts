import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ConversationRef, conversationKey } from '../../src/core/checklist/model';
import { ACTIONS } from '../../src/views/actions';
import { plainText } from '../../src/views/rich';
import { ADA, BRAM, CONVERSATION, type FakePlatform, type FakeRequester, type LayerHarness, layer, resolveUser } from './harness';

/**
 * One rollout in several conversations, through the application layer: `link` gives a rollout admin a
 * one-time code, `link <code>` in another conversation (here a Slack channel, the home is a Teams one) binds
 * it with a card of its own, `unlink` detaches it again. Every change then shows on every linked card.
 */

const HOME = conversationKey(CONVERSATION);
const SLACK: ConversationRef = { platform: 'slack', workspace: 'T1', channel: 'C1', name: 'rollout' };
const SLACK_KEY = conversationKey(SLACK);
/** Another Teams channel of the same tenant, with a rollout of its own when a test starts one. */
const OTHER: ConversationRef = { ...CONVERSATION, channel: '19:other', name: 'other' };

const CODE_RE = /^Your link code: ([A-Z0-9]{4}-[A-Z0-9]{4})\. /;
const UNKNOWN_CODE =
  "That link code is unknown, already used or expired (codes last 15 minutes). Ask a rollout admin to type link in the rollout's conversation for a new one.\n" +
  'Usage: link [code]: link this conversation to a rollout elsewhere (admins)';
const LINKED = 'This conversation now follows the rollout of #bitwarden-rollout. Every change shows on the cards in all linked conversations.';

let h: LayerHarness;
let slack: FakePlatform;

beforeEach(async () => {
  h = await layer();
  slack = h.addPlatform('slack');
});
afterEach(async () => {
  vi.useRealTimers();
  await h.close();
});

/** A Slack person of workspace T1 (`admin`: a workspace admin, so a rollout admin everywhere). */
const slackPerson = (user = 'slack:U1', admin = false) => h.person(user, { workspace: 'T1', admin });

/** The home rollout with its card, created by ada (so she is its admin). */
async function homeWithCard(): Promise<FakeRequester> {
  const ada = h.person(ADA);
  await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
  return ada;
}

/** A fresh link code from `admin` in `conversation`, read from the reply. */
async function codeFrom(admin: FakeRequester, conversation: ConversationRef = CONVERSATION): Promise<string> {
  await h.interactions.command(conversation, admin, 'link', resolveUser);
  const m = CODE_RE.exec(admin.texts().at(-1) ?? '');
  if (!m) throw new Error(`no link code in ${JSON.stringify(admin.texts().at(-1))}`);
  return m[1]!;
}

/** The home rollout linked to the Slack channel; returns the Slack person who typed the code. */
async function linkedToSlack(slackUser = slackPerson()): Promise<{ ada: FakeRequester; u1: FakeRequester }> {
  const ada = await homeWithCard();
  const code = await codeFrom(ada);
  await h.interactions.command(SLACK, slackUser, `link ${code}`, resolveUser);
  expect(slackUser.texts().at(-1)).toBe(LINKED);
  return { ada, u1: slackUser };
}

describe('link: a one-time code', () => {
  it('a rollout admin gets a code of 4+4 characters without 0, O, 1 or I, to type in the other conversation', async () => {
    const ada = await homeWithCard();
    const codes = new Set<string>();
    for (let i = 0; i < 40; i++) codes.add(await codeFrom(ada));
    for (const code of codes) expect(code).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    // Random, not one fixed code.
    expect(codes.size).toBeGreaterThan(30);
    const code = [...codes].at(-1)!;
    expect(ada.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'info' });
    expect(ada.texts().at(-1)).toBe(
      `Your link code: ${code}. In the other conversation (Slack or Teams), type link ${code} within 15 minutes. The code works once.`,
    );
    // Asking for a code changes nothing yet.
    expect((await h.service.get(HOME))?.links ?? []).toEqual([]);
    expect(h.platform.updates).toEqual([]);
  });

  it('the code reply is in the admin’s own language', async () => {
    const ada = h.person(ADA, { locale: 'nl' });
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'link', resolveUser);
    expect(ada.texts()[0]).toMatch(
      /^Je koppelcode: [A-Z0-9]{4}-[A-Z0-9]{4}\. Typ in het andere gesprek \(Slack of Teams\) binnen 15 minuten link [A-Z0-9]{4}-[A-Z0-9]{4}/,
    );
  });

  it('someone who is not a rollout admin is refused, and gets no code', async () => {
    await homeWithCard();
    const bram = h.person(BRAM);
    await h.interactions.command(CONVERSATION, bram, 'link', resolveUser);
    expect(bram.replies).toHaveLength(1);
    expect(bram.replies[0]).toMatchObject({ kind: 'notice', tone: 'refused' });
    expect(bram.texts()).toEqual(['Only a rollout admin can link conversations to this rollout.']);
  });
});

describe('link <code>: binding another conversation', () => {
  it('binds the conversation, says which rollout it follows, posts a card there and refreshes the home card', async () => {
    const ada = await homeWithCard();
    const code = await codeFrom(ada);
    const u1 = slackPerson();
    // Codes are typed by hand: lower case works too.
    await h.interactions.command(SLACK, u1, `link ${code.toLowerCase()}`, resolveUser);
    expect(u1.replies).toHaveLength(1);
    expect(u1.replies[0]).toMatchObject({ kind: 'notice', tone: 'ok' });
    expect(u1.texts()).toEqual([LINKED]);

    const r = await h.service.get(HOME);
    expect(r?.links).toEqual([{ conversation: SLACK, linkedAt: '2026-11-25T09:00:00.000Z', linkedBy: 'slack:U1', card: slack.posts[0]!.ref }]);
    // The Slack channel got its own card of the home rollout, naming both conversations.
    expect(slack.posts).toHaveLength(1);
    expect(slack.posts[0]!.conversation).toEqual(SLACK);
    expect(slack.posts[0]!.view.rolloutId).toBe(HOME);
    expect(plainText(slack.posts[0]!.view.linkedLine!)).toBe('Also in: #bitwarden-rollout (Teams), #rollout (Slack)');
    // The home card now says so too.
    expect(h.platform.updates).toHaveLength(1);
    expect(h.platform.updates[0]!.ref).toEqual(r?.card);
    expect(plainText(h.platform.updates[0]!.view.linkedLine!)).toBe('Also in: #bitwarden-rollout (Teams), #rollout (Slack)');
    // No rollout of its own was started in the Slack channel; its pointer names the home rollout.
    expect(await h.service.get(SLACK_KEY)).toBeUndefined();
    expect((await h.store.rollouts.list()).map((x) => x.id)).toEqual([HOME]);
    expect(await h.store.kv.get(`conversation:${SLACK_KEY}`)).toBe(HOME);
  });

  it('a conversation of the same platform and workspace can be linked too', async () => {
    const ada = await homeWithCard();
    const code = await codeFrom(ada);
    const bram = h.person(BRAM);
    await h.interactions.command(OTHER, bram, `link ${code}`, resolveUser);
    expect(bram.texts()).toEqual([LINKED]);
    expect((await h.service.get(HOME))?.links?.map((l) => l.conversation)).toEqual([OTHER]);
    expect(h.platform.posts.map((p) => p.conversation.channel)).toEqual([CONVERSATION.channel, OTHER.channel]);
  });

  it('a code works once: a second conversation is refused and nothing is bound there', async () => {
    const ada = await homeWithCard();
    const code = await codeFrom(ada);
    await h.interactions.command(SLACK, slackPerson(), `link ${code}`, resolveUser);
    // Used up: gone from the store.
    expect(await h.store.kv.get(`link-code:${code}`)).toBeUndefined();
    const u2 = slackPerson('slack:U2');
    const second: ConversationRef = { ...SLACK, channel: 'C2', name: 'second' };
    await h.interactions.command(second, u2, `link ${code}`, resolveUser);
    expect(u2.replies[0]).toMatchObject({ kind: 'notice', tone: 'warn' });
    expect(u2.texts()).toEqual([UNKNOWN_CODE]);
    expect((await h.service.get(HOME))?.links?.map((l) => l.conversation.channel)).toEqual(['C1']);
    expect(slack.posts.map((p) => p.conversation.channel)).toEqual(['C1']);
    expect(await h.service.get(conversationKey(second))).toBeUndefined();
  });

  it('a replica that still saw the code cannot use it again: the first use holds it', async () => {
    const ada = await homeWithCard();
    const code = await codeFrom(ada);
    await h.interactions.command(SLACK, slackPerson(), `link ${code}`, resolveUser);
    // As if another replica read the code before this one deleted it.
    await h.store.kv.set(`link-code:${code}`, { rolloutId: HOME, by: ADA });
    const u2 = slackPerson('slack:U2');
    const second: ConversationRef = { ...SLACK, channel: 'C2', name: 'second' };
    await h.interactions.command(second, u2, `link ${code}`, resolveUser);
    expect(u2.texts()).toEqual([UNKNOWN_CODE]);
    expect((await h.service.get(HOME))?.links?.map((l) => l.conversation.channel)).toEqual(['C1']);
  });

  it('a wrong code, or one whose rollout is gone, binds nothing and starts no rollout', async () => {
    await homeWithCard();
    const u1 = slackPerson();
    await h.interactions.command(SLACK, u1, 'link ZZZZ-ZZZZ', resolveUser);
    await h.store.kv.set('link-code:GONE-GONE', { rolloutId: 'teams:tenant-1:19:deleted', by: ADA });
    await h.interactions.command(SLACK, u1, 'link GONE-GONE', resolveUser);
    expect(u1.texts()).toEqual([UNKNOWN_CODE, UNKNOWN_CODE]);
    expect(await h.service.get(SLACK_KEY)).toBeUndefined();
    expect((await h.store.rollouts.list()).map((x) => x.id)).toEqual([HOME]);
    expect(slack.posts).toEqual([]);
  });

  it('a code lasts 15 minutes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-25T09:00:00.000Z'));
    const ada = await homeWithCard();
    const early = await codeFrom(ada);
    vi.setSystemTime(new Date('2026-11-25T09:14:59.000Z'));
    await h.interactions.command(SLACK, slackPerson(), `link ${early}`, resolveUser);
    expect((await h.service.get(HOME))?.links?.map((l) => l.conversation.channel)).toEqual(['C1']);

    const late = await codeFrom(ada);
    vi.setSystemTime(new Date('2026-11-25T09:30:00.000Z'));
    const u2 = slackPerson('slack:U2');
    await h.interactions.command({ ...SLACK, channel: 'C2' }, u2, `link ${late}`, resolveUser);
    expect(u2.texts()).toEqual([UNKNOWN_CODE]);
    expect((await h.service.get(HOME))?.links?.map((l) => l.conversation.channel)).toEqual(['C1']);
  });

  it('a conversation already linked to a rollout is refused, and the code stays usable', async () => {
    const { u1 } = await linkedToSlack(slackPerson('slack:U1', true));
    const ada = h.person(ADA);
    await h.interactions.command(OTHER, ada, 'status', resolveUser);
    const code = await codeFrom(ada, OTHER);
    await h.interactions.command(SLACK, u1, `link ${code}`, resolveUser);
    expect(u1.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'warn' });
    expect(u1.texts().at(-1)).toBe(
      'This conversation is already linked to another rollout. Type unlink here first.\nUsage: link [code]: link this conversation to a rollout elsewhere (admins)',
    );
    expect((await h.service.get(HOME))?.links?.map((l) => l.conversation.channel)).toEqual(['C1']);
    expect((await h.service.get(conversationKey(OTHER)))?.links ?? []).toEqual([]);
    // The refusal did not use up the code.
    const u2 = slackPerson('slack:U2');
    await h.interactions.command({ ...SLACK, channel: 'C2' }, u2, `link ${code}`, resolveUser);
    expect(u2.texts()).toEqual(['This conversation now follows the rollout of #other. Every change shows on the cards in all linked conversations.']);
  });

  it('a conversation of the same platform in another workspace is refused, and the code stays usable', async () => {
    const ada = await homeWithCard();
    const code = await codeFrom(ada);
    const eve = h.person('teams:eve', { workspace: 'tenant-2' });
    const foreign: ConversationRef = { platform: 'teams', workspace: 'tenant-2', channel: '19:foreign', name: 'foreign' };
    await h.interactions.command(foreign, eve, `link ${code}`, resolveUser);
    expect(eve.replies[0]).toMatchObject({ kind: 'notice', tone: 'refused' });
    expect(eve.texts()).toEqual([
      'This conversation is in another workspace than the rollout, and bwprep can only serve the workspace it is installed in. Link a conversation of that workspace, or a Teams conversation.',
    ]);
    expect((await h.service.get(HOME))?.links ?? []).toEqual([]);
    expect(await h.service.get(conversationKey(foreign))).toBeUndefined();
    expect(h.platform.posts).toHaveLength(1);
    // Still unused.
    const u1 = slackPerson();
    await h.interactions.command(SLACK, u1, `link ${code}`, resolveUser);
    expect(u1.texts()).toEqual([LINKED]);
  });

  it('the code typed in the rollout’s own conversation says it already belongs there', async () => {
    const ada = await homeWithCard();
    const code = await codeFrom(ada);
    await h.interactions.command(CONVERSATION, ada, `link ${code}`, resolveUser);
    expect(ada.texts().at(-1)).toBe(
      'This conversation already belongs to that rollout.\nUsage: link [code]: link this conversation to a rollout elsewhere (admins)',
    );
    expect((await h.service.get(HOME))?.links ?? []).toEqual([]);
    // The code was not used up: it still links another conversation.
    const u1 = slackPerson();
    await h.interactions.command(SLACK, u1, `link ${code}`, resolveUser);
    expect(u1.texts()).toEqual([LINKED]);
  });

  it('a conversation with a checklist of its own is refused: its steps are not hidden, the code stays usable', async () => {
    const ada = await homeWithCard();
    const code = await codeFrom(ada);
    const u1 = slackPerson();
    await h.interactions.command(SLACK, u1, 'done 2a', resolveUser);
    await h.interactions.command(SLACK, u1, `link ${code}`, resolveUser);
    expect(u1.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'warn' });
    expect(u1.texts().at(-1)).toBe(
      'This conversation already has its own bwprep checklist, so it cannot follow another rollout (its steps would be hidden). Link a conversation where bwprep has not been used yet.\n' +
        'Usage: link [code]: link this conversation to a rollout elsewhere (admins)',
    );
    expect((await h.service.get(HOME))?.links ?? []).toEqual([]);
    expect(await h.store.kv.get(`conversation:${SLACK_KEY}`)).toBeUndefined();
    // Its own rollout goes on as before.
    await h.interactions.command(SLACK, u1, 'mine', resolveUser);
    expect((await h.service.get(SLACK_KEY))?.steps['2a']?.state).toBe('done');
    const other = h.person('teams:cleo');
    await h.interactions.command(OTHER, other, `link ${code}`, resolveUser);
    expect(other.texts()).toEqual([LINKED]);
  });

  it('the App Home of a person on either platform lists the linked rollout', async () => {
    const { ada } = await linkedToSlack(slackPerson('slack:U1', true));
    await h.service.assign(HOME, '2b', 'slack:U1', ada.actor);
    const teamsHome = await h.interactions.home(ADA, ada.scope, 'en');
    expect(teamsHome.rollouts.map((r) => r.rolloutId)).toEqual([HOME]);
    const slackHome = await h.interactions.home('slack:U1', { platform: 'slack', workspace: 'T1' }, 'en');
    expect(slackHome.rollouts.map((r) => r.rolloutId)).toEqual([HOME]);
  });

  it('a card that cannot be posted in the linked conversation is logged; the link stands', async () => {
    const ada = await homeWithCard();
    const code = await codeFrom(ada);
    slack.cards.post = async () => {
      throw new Error('not_in_channel');
    };
    const u1 = slackPerson();
    await h.interactions.command(SLACK, u1, `link ${code}`, resolveUser);
    expect(u1.texts()).toEqual([LINKED]);
    expect((await h.service.get(HOME))?.links?.map((l) => l.conversation.channel)).toEqual(['C1']);
    expect(h.logs('linked, but the card could not be posted here')).toMatchObject([{ level: 'warn', rolloutId: HOME, err: { message: 'not_in_channel' } }]);
  });

  it('a mistyped code or command starts no rollout in the conversation, so the right code still links it', async () => {
    const ada = await homeWithCard();
    const code = await codeFrom(ada);
    const u1 = slackPerson();
    await h.interactions.command(SLACK, u1, 'link not*a*code', resolveUser);
    expect(u1.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'warn' });
    await h.interactions.command(SLACK, u1, `lnik ${code}`, resolveUser);
    expect(u1.texts().at(-1)).toMatch(/^I don't know the command "lnik"/);
    await h.interactions.command(SLACK, u1, 'done', resolveUser);
    expect(await h.service.get(SLACK_KEY)).toBeUndefined();
    await h.interactions.command(SLACK, u1, `link ${code}`, resolveUser);
    expect(u1.texts().at(-1)).toBe(LINKED);
  });

  it('the "linked" reply follows the rollout’s language for a person whose own the platform does not tell', async () => {
    const ada = await homeWithCard();
    const code = await codeFrom(ada);
    await h.interactions.command(CONVERSATION, ada, 'lang nl', resolveUser);
    const u1 = slackPerson();
    await h.interactions.command(SLACK, u1, `link ${code}`, resolveUser);
    expect(u1.texts().at(-1)).toMatch(/^Dit gesprek volgt nu de uitrol van #bitwarden-rollout\./);
  });
});

describe('unlink', () => {
  it('with nothing to unlink: refused, and no rollout is started for it', async () => {
    const u1 = slackPerson('slack:U1', true);
    await h.interactions.command(SLACK, u1, 'unlink', resolveUser);
    expect(u1.replies[0]).toMatchObject({ kind: 'notice', tone: 'warn' });
    expect(u1.texts()).toEqual([
      'This conversation is not linked to another rollout, so there is nothing to unlink.\nUsage: unlink: stop following the linked rollout here (admins)',
    ]);
    expect(await h.store.rollouts.list()).toEqual([]);
    expect(slack.posts).toEqual([]);
  });

  it('in the conversation the rollout started in: refused, the rollout stays', async () => {
    const ada = await homeWithCard();
    await h.interactions.command(CONVERSATION, ada, 'unlink', resolveUser);
    expect(ada.texts()).toEqual([
      'This is the conversation the rollout started in, so it cannot be unlinked. Unlink the other conversations from there.\nUsage: unlink: stop following the linked rollout here (admins)',
    ]);
    expect(await h.service.get(HOME)).toBeDefined();
    expect(h.platform.retired).toEqual([]);
  });

  it('a linked conversation: refused for a member; for an admin its card is retired and it is on its own again', async () => {
    await linkedToSlack();
    const slackCard = slack.posts[0]!.ref;
    const member = slackPerson('slack:U2');
    await h.interactions.command(SLACK, member, 'unlink', resolveUser);
    expect(member.replies[0]).toMatchObject({ kind: 'notice', tone: 'refused' });
    expect(member.texts()).toEqual(['Only a rollout admin can link conversations to this rollout.']);
    expect((await h.service.get(HOME))?.links?.map((l) => l.conversation.channel)).toEqual(['C1']);

    const admin = slackPerson('slack:U9', true);
    const homeUpdates = h.platform.updates.length;
    await h.interactions.command(SLACK, admin, 'unlink', resolveUser);
    expect(admin.replies[0]).toMatchObject({ kind: 'notice', tone: 'ok' });
    expect(admin.texts()).toEqual(['This conversation no longer follows the rollout of #bitwarden-rollout. Its card will not be updated any more.']);
    expect(slack.retired).toEqual([{ ref: slackCard, locale: 'en' }]);
    expect((await h.service.get(HOME))?.links ?? []).toEqual([]);
    expect(await h.store.kv.get(`conversation:${SLACK_KEY}`)).toBeUndefined();
    // The home card no longer names the Slack channel.
    expect(h.platform.updates).toHaveLength(homeUpdates + 1);
    expect(h.platform.updates.at(-1)!.view.linkedLine).toBeUndefined();

    // Its next command starts a rollout of its own there.
    await h.interactions.command(SLACK, admin, 'status', resolveUser);
    expect((await h.service.get(SLACK_KEY))?.conversation).toEqual(SLACK);
    expect(slack.posts.at(-1)!.view.rolloutId).toBe(SLACK_KEY);
    expect((await h.service.get(HOME))?.steps).toBeDefined();
  });

  it('a card the platform will not retire: logged, the conversation is unlinked all the same', async () => {
    await linkedToSlack();
    slack.cards.retire = async () => {
      throw new Error('message_not_found');
    };
    const admin = slackPerson('slack:U9', true);
    await h.interactions.command(SLACK, admin, 'unlink', resolveUser);
    expect(admin.replies[0]).toMatchObject({ kind: 'notice', tone: 'ok' });
    expect((await h.service.get(HOME))?.links ?? []).toEqual([]);
    expect(h.logs('could not retire the card of an unlinked conversation')).toMatchObject([{ level: 'info', err: { message: 'message_not_found' } }]);
  });

  it('the reply is in the admin’s language, the retired card in the rollout’s', async () => {
    const ada = await homeWithCard();
    await h.interactions.command(CONVERSATION, ada, 'lang nl', resolveUser);
    const code = await codeFrom(h.person(ADA, { locale: 'en' }));
    const u1 = h.person('slack:U1', { workspace: 'T1', admin: true, locale: 'en' });
    await h.interactions.command(SLACK, u1, `link ${code}`, resolveUser);
    await h.interactions.command(SLACK, u1, 'unlink', resolveUser);
    expect(u1.texts()).toEqual([LINKED, 'This conversation no longer follows the rollout of #bitwarden-rollout. Its card will not be updated any more.']);
    expect(slack.retired).toEqual([{ ref: slack.posts[0]!.ref, locale: 'nl' }]);
  });
});

describe('a linked conversation at work', () => {
  it('a change made from the Slack channel acts on the home rollout and shows on both cards', async () => {
    const { u1 } = await linkedToSlack(slackPerson('slack:U1', true));
    const homeCard = (await h.service.get(HOME))!.card!;
    const slackCard = slack.posts[0]!.ref;
    slack.updates.length = 0;
    await h.interactions.command(SLACK, u1, 'done 2a', resolveUser);
    expect(u1.texts().at(-1)).toBe('Step 2a is marked done.');
    expect((await h.service.get(HOME))?.steps['2a']?.state).toBe('done');
    expect(await h.service.get(SLACK_KEY)).toBeUndefined();
    expect(h.platform.updates.at(-1)).toMatchObject({ ref: homeCard });
    expect(h.platform.updates.at(-1)!.view.readiness.complete).toBe(1);
    expect(slack.updates.map((u) => u.ref)).toEqual([slackCard]);
    expect(slack.updates[0]!.view.readiness.complete).toBe(1);
  });

  it('status in the Slack channel re-posts its own card there, not the home one', async () => {
    const { u1 } = await linkedToSlack();
    const homeCard = (await h.service.get(HOME))!.card;
    await h.interactions.command(SLACK, u1, 'status', resolveUser);
    expect(slack.posts).toHaveLength(2);
    expect(slack.retired).toEqual([{ ref: slack.posts[0]!.ref, locale: 'en' }]);
    const r = await h.service.get(HOME);
    expect(r?.card).toEqual(homeCard);
    expect(r?.links?.[0]?.card).toEqual(slack.posts[1]!.ref);
  });

  it('a card click from the linked conversation works; one naming an unrelated conversation is refused', async () => {
    const { u1 } = await linkedToSlack(slackPerson('slack:U1', true));
    await h.interactions.cardAction(u1, { action: ACTIONS.markDone, rolloutId: HOME, stepId: '2b', conversation: SLACK });
    expect(u1.texts()).toEqual([LINKED]);
    expect((await h.service.get(HOME))?.steps['2b']?.state).toBe('done');
    expect(slack.updates.at(-1)!.view.readiness.complete).toBe(1);
    expect(h.platform.updates.at(-1)!.view.readiness.complete).toBe(1);

    await h.interactions.cardAction(u1, { action: ACTIONS.markDone, rolloutId: HOME, stepId: '4a', conversation: { ...SLACK, channel: 'C9' } });
    expect(u1.texts().at(-1)).toBe("That card belongs to a rollout I can't find. Post a fresh card with status.");
    expect((await h.service.get(HOME))?.steps['4a']?.state).toBe('open');

    // A Slack workspace the rollout is not linked to cannot act on it either.
    const stranger = h.person('slack:U7', { workspace: 'T2', admin: true });
    await h.interactions.cardAction(stranger, { action: ACTIONS.markDone, rolloutId: HOME, stepId: '4a' });
    expect(stranger.texts()).toEqual(["That card belongs to a rollout I can't find. Post a fresh card with status."]);
    expect((await h.service.get(HOME))?.steps['4a']?.state).toBe('open');
  });

  it('a pointer the rollout does not confirm (a crash between the two writes) is ignored', async () => {
    await homeWithCard();
    await h.store.kv.set(`conversation:${SLACK_KEY}`, HOME);
    const u1 = slackPerson('slack:U1', true);
    await h.interactions.command(SLACK, u1, 'done 2a', resolveUser);
    expect((await h.service.get(SLACK_KEY))?.steps['2a']?.state).toBe('done');
    expect((await h.service.get(HOME))?.steps['2a']?.state).toBe('open');
    // It is the Slack channel's own rollout now, which cannot be unlinked from itself.
    await h.interactions.command(SLACK, u1, 'unlink', resolveUser);
    expect(u1.texts().at(-1)).toBe(
      'This is the conversation the rollout started in, so it cannot be unlinked. Unlink the other conversations from there.\nUsage: unlink: stop following the linked rollout here (admins)',
    );
    // A pointer of the rollout's own conversation to itself does not make it "linked elsewhere".
    await h.store.kv.set(`conversation:${HOME}`, HOME);
    const ada = h.person(ADA);
    const code = await codeFrom(ada);
    await h.interactions.command(CONVERSATION, ada, `link ${code}`, resolveUser);
    expect(ada.texts().at(-1)).toBe(
      'This conversation already belongs to that rollout.\nUsage: link [code]: link this conversation to a rollout elsewhere (admins)',
    );
  });

  it('link typed in the linked conversation gives a code for the home rollout', async () => {
    const { u1 } = await linkedToSlack(slackPerson('slack:U1', true));
    const code = await codeFrom(u1, SLACK);
    const bram = h.person(BRAM);
    await h.interactions.command(OTHER, bram, `link ${code}`, resolveUser);
    expect(bram.texts()).toEqual([LINKED]);
    expect((await h.service.get(HOME))?.links?.map((l) => l.conversation.channel)).toEqual(['C1', OTHER.channel]);
  });
});
