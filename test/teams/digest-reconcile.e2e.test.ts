import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectorCall } from '../fakes/bot-connector';
import { botCardMessage, type FakeMicrosoft, startFakeMicrosoft } from '../fakes/microsoft-graph';
import { TestClock } from '../helpers/clock';
import { type Activity, BOB, FAKE_BOT, FAKE_CHANNEL, FAKE_GROUP_CHAT, FAKE_TEAM_ID, FAKE_TENANT, teamsConversationUpdate, teamsMessage } from './activities';
import { FAKE_MS_APP_ID, FAKE_MS_APP_PASSWORD, startTeamsHarness, type TeamsHarness } from './harness';

/**
 * The Teams side of the digest reconciliation (src/scheduler/scheduler.ts, "Crash windows";
 * src/teams/graph.ts): a scheduled digest whose process died between the claim and the record is looked
 * up in the conversation through Microsoft Graph (resource-specific consent, an app-only token from the
 * installing tenant) and recorded when found, posted once when absent, left alone (at most once, a
 * warning) when Graph cannot tell. The real app runs with a Bot Framework app id and secret; the Bot
 * Connector, the Entra ID token endpoint and Graph are local fakes speaking their wire formats.
 */

const GROUP = '00000000-0000-4000-8000-0000000000e1';
const ROLLOUT = `teams:${FAKE_TENANT}:${FAKE_CHANNEL}`;
const CHAT_ROLLOUT = `teams:${FAKE_TENANT}:${FAKE_GROUP_CHAT}`;
// Wednesday 25 November 2026; the digest is due at 09:00 in Amsterdam (08:00 UTC).
const SLOT = '2026-11-25T09:00';
const marker = (rollout: string) => `bwprep-digest|${rollout}|${SLOT}`;
const markerCard = (rollout: string) => ({
  type: 'AdaptiveCard',
  version: '1.5',
  body: [{ type: 'TextBlock', id: marker(rollout), text: '**Daily readiness digest**' }],
});
const POSTED_AT = new Date('2026-11-25T08:00:04Z');

const clock = new TestClock('2026-11-25T07:30:00Z');
let h: TeamsHarness;
let ms: FakeMicrosoft;

afterEach(async () => {
  await h?.close();
  await ms?.close();
});

async function start(opts: { secret?: string } = {}): Promise<void> {
  clock.set('2026-11-25T07:30:00Z');
  ms = await startFakeMicrosoft({ clientId: FAKE_MS_APP_ID, clientSecret: FAKE_MS_APP_PASSWORD });
  h = await startTeamsHarness({
    env: { MICROSOFT_APP_ID: FAKE_MS_APP_ID, MICROSOFT_APP_PASSWORD: opts.secret ?? FAKE_MS_APP_PASSWORD },
    clock,
    microsoft: ms,
  });
}

/** POSTs an activity with a valid Bot Framework token (the app authenticates every request). */
async function deliver(a: Activity): Promise<void> {
  const token = h.connector.channelToken({ audience: FAKE_MS_APP_ID, serviceUrl: h.connector.serviceUrl });
  expect((await h.post(a, { token })).status).toBe(200);
}

/** The app added to the team (Teams sends the team's group id on this event), then `@bwprep status`. */
async function installAndStart(opts: { groupIdOnInstall?: boolean; scope?: 'channel' | 'groupChat' } = {}): Promise<void> {
  const scope = opts.scope ?? 'channel';
  await deliver(
    teamsConversationUpdate({
      serviceUrl: h.connector.serviceUrl,
      scope,
      added: [{ id: FAKE_BOT.id }],
      eventType: scope === 'channel' ? 'teamMemberAdded' : undefined,
      ...(opts.groupIdOnInstall === false ? {} : { aadGroupId: GROUP }),
    }),
  );
  const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, scope, text: 'status', mention: true, from: BOB });
  await deliver(msg);
  await h.connector.waitFor((c) => c.kind === 'send' && c.status === 200 && c.body?.attachments !== undefined);
}

/** As a process killed after its claim leaves the store: the slot claimed, no post recorded. */
async function claimOnly(rollout: string): Promise<void> {
  await h.app.store.rollouts.update(rollout, (r) => {
    r.digest = { ...r.digest, lastSlot: SLOT };
    return { rollout: r, audit: [] };
  });
}

const digestSends = () => h.connector.calls.filter((c) => c.kind === 'send' && JSON.stringify(c.body?.attachments ?? '').includes('bwprep-digest|'));
const digestAudit = async (rollout: string) => (await h.app.store.audit.list(rollout)).filter((a) => a.action === 'digest.posted');
const graphReads = () => ms.calls.filter((c) => c.kind === 'channel_messages' || c.kind === 'chat_messages');

/** The token a connector call carried, as the fake Entra ID issued it. */
const tokenOf = (c: ConnectorCall) => ms.tokens.get((c.authorization ?? '').replace(/^Bearer /, ''));

describe('a claimed, unrecorded digest slot on Teams is looked up through Microsoft Graph', () => {
  it('our digest is in the channel: recorded with its message id, not posted again; the Graph token is the installing tenant’s', async () => {
    await start();
    await installAndStart();
    ms.grant(FAKE_TENANT, { group: GROUP });
    const ours = ms.addMessage({ group: GROUP, channel: FAKE_CHANNEL }, botCardMessage(FAKE_MS_APP_ID, markerCard(ROLLOUT), POSTED_AT));
    await claimOnly(ROLLOUT);

    clock.set('2026-11-25T08:01:00Z');
    const out = (await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)!;
    expect(out).toMatchObject({ slot: SLOT, recovered: true, posted: false, result: { ref: { platform: 'teams', channel: FAKE_CHANNEL, ts: ours.id } } });
    expect(digestSends()).toHaveLength(0);

    const [read] = graphReads();
    expect(read).toMatchObject({
      kind: 'channel_messages',
      path: `/v1.0/teams/${GROUP}/channels/${encodeURIComponent(FAKE_CHANNEL)}/messages/delta`,
      tenant: FAKE_TENANT,
    });
    // Only messages changed since (a margin before) the slot are asked for.
    const since = Date.parse(/^lastModifiedDateTime gt (\S+)$/.exec(read!.query.$filter ?? '')![1]!);
    expect(since).toBeLessThanOrEqual(Date.parse('2026-11-25T08:00:00Z'));
    expect(ms.calls.find((c) => c.kind === 'token' && c.scope === 'https://graph.microsoft.com/.default')).toMatchObject({ tenant: FAKE_TENANT });

    const audit = await digestAudit(ROLLOUT);
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toMatchObject({ recovered: true, slot: SLOT });
    // Recorded: the next tick neither asks Graph again nor posts.
    clock.set('2026-11-25T08:05:00Z');
    await h.app.scheduler!.tick();
    expect(graphReads()).toHaveLength(1);
    expect(digestSends()).toHaveLength(0);
  });

  it('absent (only another app’s message with the marker, and ours for another slot): posted once, with a Bot Connector token from Entra ID', async () => {
    await start();
    await installAndStart();
    ms.grant(FAKE_TENANT, { group: GROUP });
    ms.addMessage({ group: GROUP, channel: FAKE_CHANNEL }, botCardMessage('00000000-0000-4000-8000-0000000000ee', markerCard(ROLLOUT), POSTED_AT));
    const yesterday = { ...markerCard(ROLLOUT), body: [{ type: 'TextBlock', id: `bwprep-digest|${ROLLOUT}|2026-11-24T09:00`, text: 'x' }] };
    ms.addMessage({ group: GROUP, channel: FAKE_CHANNEL }, botCardMessage(FAKE_MS_APP_ID, yesterday, POSTED_AT));
    await claimOnly(ROLLOUT);

    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ slot: SLOT, posted: true });
    clock.set('2026-11-25T08:05:00Z');
    await h.app.scheduler!.tick();
    const sends = digestSends();
    expect(sends).toHaveLength(1);
    expect(JSON.stringify(sends[0]!.body?.attachments)).toContain(marker(ROLLOUT));
    expect(tokenOf(sends[0]!)).toEqual({ tenant: 'botframework.com', scope: 'https://api.botframework.com/.default' });
    expect(await digestAudit(ROLLOUT)).toHaveLength(1);
  });

  it('without the resource-specific consent (Graph 403): a warning naming the permission, nothing posted, Graph asked once', async () => {
    await start();
    await installAndStart();
    await claimOnly(ROLLOUT);
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ skipped: 'unknown', posted: false });
    clock.set('2026-11-25T08:05:00Z');
    await h.app.scheduler!.tick();
    expect(graphReads().map((c) => c.status)).toEqual([403]);
    expect(digestSends()).toHaveLength(0);
    const warn = h
      .logs()
      .split('\n')
      .find((l) => l.includes('"level":"warn"') && l.includes('ChannelMessage.Read.Group'));
    expect(warn).toContain('consent');
    expect(await digestAudit(ROLLOUT)).toHaveLength(0);
  });

  it('the team’s group id unknown from Teams events: asked of the Bot Connector once, stored, then used', async () => {
    await start();
    h.connector.addTeam({ id: FAKE_TEAM_ID, aadGroupId: GROUP });
    await installAndStart({ groupIdOnInstall: false });
    expect((await h.teams.conversations.get(FAKE_CHANNEL))?.aadGroupId).toBeUndefined();
    ms.grant(FAKE_TENANT, { group: GROUP });
    ms.addMessage({ group: GROUP, channel: FAKE_CHANNEL }, botCardMessage(FAKE_MS_APP_ID, markerCard(ROLLOUT), POSTED_AT));
    await claimOnly(ROLLOUT);

    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ recovered: true, posted: false });
    expect(h.connector.calls.filter((c) => c.kind === 'team').map((c) => c.status)).toEqual([200]);
    expect((await h.teams.conversations.get(FAKE_CHANNEL))?.aadGroupId).toBe(GROUP);
  });

  it('our digest three pages back behind chatter: Graph’s @odata.nextLink is followed until it is found', async () => {
    await start();
    await installAndStart();
    ms.grant(FAKE_TENANT, { group: GROUP });
    for (let i = 0; i < 120; i++) ms.addMessage({ group: GROUP, channel: FAKE_CHANNEL }, { at: new Date(POSTED_AT.getTime() - 1000 + i) });
    const ours = ms.addMessage({ group: GROUP, channel: FAKE_CHANNEL }, botCardMessage(FAKE_MS_APP_ID, markerCard(ROLLOUT), POSTED_AT));
    await claimOnly(ROLLOUT);
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ recovered: true, result: { ref: { ts: ours.id } } });
    const reads = graphReads();
    expect(reads).toHaveLength(3);
    expect(reads[1]!.query.$skiptoken).toBe('50');
  });

  it('more than 500 messages changed since a day before the slot: "cannot tell" (at most once), with a warning', async () => {
    await start();
    await installAndStart();
    ms.grant(FAKE_TENANT, { group: GROUP });
    for (let i = 0; i < 520; i++) ms.addMessage({ group: GROUP, channel: FAKE_CHANNEL }, { at: new Date(POSTED_AT.getTime() - 3600_000 + i) });
    await claimOnly(ROLLOUT);
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ skipped: 'unknown', posted: false });
    expect(graphReads()).toHaveLength(10);
    expect(digestSends()).toHaveLength(0);
    expect(h.logs()).toContain('too many messages since its slot');
  });

  it('Graph busy (503): nothing posted; asked again after the back-off, found then', async () => {
    await start();
    await installAndStart();
    ms.grant(FAKE_TENANT, { group: GROUP });
    ms.addMessage({ group: GROUP, channel: FAKE_CHANNEL }, botCardMessage(FAKE_MS_APP_ID, markerCard(ROLLOUT), POSTED_AT));
    ms.failNext({ kind: 'channel_messages', status: 503 });
    await claimOnly(ROLLOUT);
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ posted: false });
    expect(digestSends()).toHaveLength(0);
    clock.set('2026-11-25T08:20:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ recovered: true, posted: false });
    expect(graphReads().map((c) => c.status)).toEqual([503, 200]);
    expect(digestSends()).toHaveLength(0);
  });

  it('in a group chat: the chat’s messages, newest first', async () => {
    await start();
    await installAndStart({ scope: 'groupChat' });
    ms.grant(FAKE_TENANT, { chat: FAKE_GROUP_CHAT });
    const ours = ms.addMessage({ chat: FAKE_GROUP_CHAT }, botCardMessage(FAKE_MS_APP_ID, markerCard(CHAT_ROLLOUT), POSTED_AT));
    await claimOnly(CHAT_ROLLOUT);
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === CHAT_ROLLOUT)).toMatchObject({
      recovered: true,
      result: { ref: { channel: FAKE_GROUP_CHAT, ts: ours.id } },
    });
    expect(graphReads()[0]).toMatchObject({ kind: 'chat_messages', query: { $orderby: 'createdDateTime desc' } });
  });

  it('in a group chat, paging stops at the first message older than the slot: absent, posted once', async () => {
    await start();
    await installAndStart({ scope: 'groupChat' });
    ms.grant(FAKE_TENANT, { chat: FAKE_GROUP_CHAT });
    // Two days of chatter before the slot, and a reaction today on an old message (its lastModifiedDateTime is new).
    for (let i = 0; i < 120; i++) ms.addMessage({ chat: FAKE_GROUP_CHAT }, { at: new Date(Date.parse('2026-11-23T08:00:00Z') + i * 60_000) });
    const reacted = ms.addMessage({ chat: FAKE_GROUP_CHAT }, { at: new Date('2026-11-23T07:00:00Z') });
    reacted.lastModifiedDateTime = '2026-11-25T08:00:30Z';
    await claimOnly(CHAT_ROLLOUT);
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === CHAT_ROLLOUT)).toMatchObject({ slot: SLOT, posted: true });
    // One page of the reconciliation (the rest is older than the slot), then the one-message probe before posting.
    expect(graphReads().map((c) => c.query.$top)).toEqual(['50', '1']);
    expect(digestSends()).toHaveLength(1);
  });

  it('Graph answers that are not a yes or a no: classified, never a post on a guess', async () => {
    const cases: [Parameters<FakeMicrosoft['failNext']>[0], Record<string, unknown>][] = [
      [{ kind: 'channel_messages', status: 400, code: 'BadRequest' }, { skipped: 'unknown' }],
      [{ kind: 'channel_messages', status: 404, code: 'NotFound' }, { skipped: 'unknown' }],
      [{ kind: 'channel_messages', status: 429, code: 'TooManyRequests' }, { skipped: 'lookup_failed' }],
      [{ kind: 'channel_messages', status: 200, body: '{"value": [' }, { skipped: 'lookup_failed' }],
      [
        { kind: 'channel_messages', status: 200, body: JSON.stringify({ value: [], '@odata.nextLink': 'https://evil.example/v1.0/next' }) },
        { skipped: 'lookup_failed' },
      ],
    ];
    for (const [i, [script, outcome]] of cases.entries()) {
      // A fresh process each time: an `unknown` is asked once per process.
      if (i > 0) {
        await h.close();
        await ms.close();
      }
      await start();
      await installAndStart();
      ms.grant(FAKE_TENANT, { group: GROUP });
      await claimOnly(ROLLOUT);
      ms.failNext(script);
      clock.set('2026-11-25T08:01:00Z');
      const out = (await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT);
      expect(out, JSON.stringify(script)).toMatchObject({ posted: false, ...outcome });
      expect(digestSends()).toHaveLength(0);
      expect(ms.calls.some((c) => c.path === '/v1.0/next')).toBe(false);
      if (script.code === 'BadRequest') expect(h.logs()).toMatch(/"code":"BadRequest"[^\n]*Graph refused the request/);
    }
  });

  it('a secret Entra ID refuses: a warning, nothing posted, and the secret in no log line', async () => {
    await start({ secret: 'fake-wrong-teams-app-password-not-a-secret' });
    // With a refused secret nothing reaches the connector either: set the conversation up as Teams would have.
    await deliver(
      teamsConversationUpdate({ serviceUrl: h.connector.serviceUrl, added: [{ id: FAKE_BOT.id }], eventType: 'teamMemberAdded', aadGroupId: GROUP }),
    );
    await h.app.service.ensureRollout(
      { platform: 'teams', workspace: FAKE_TENANT, channel: FAKE_CHANNEL },
      { user: `teams:${BOB.aadObjectId}`, surface: 'teams' },
    );
    await claimOnly(ROLLOUT);
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ skipped: 'unknown', posted: false });
    expect(graphReads()).toHaveLength(0);
    expect(h.logs()).toContain('refused the app a Graph token');
    expect(h.logs()).not.toContain('fake-wrong-teams-app-password-not-a-secret');
  });
});

describe('a Teams digest post without a clear answer (found by a review)', () => {
  it('a 504 is not resent by the client; the next try finds the post through Graph and records it: one digest', async () => {
    await start();
    await installAndStart();
    ms.grant(FAKE_TENANT, { group: GROUP });
    // The connector's gateway times out, but the message went out: Graph shows it.
    h.connector.failNext({ kind: 'send', conversationId: FAKE_CHANNEL, status: 504 });
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ slot: SLOT, posted: false, skipped: 'post_failed' });
    const tries = h.connector.calls.filter(
      (c) => c.kind === 'send' && c.conversationId === FAKE_CHANNEL && JSON.stringify(c.body ?? '').includes('bwprep-digest|'),
    );
    expect(tries.map((c) => c.status)).toEqual([504]);
    // The claim stays (the digest may be out).
    expect((await h.app.store.rollouts.get(ROLLOUT))!.digest).toMatchObject({ lastSlot: SLOT });
    const card = (tries[0]!.body?.attachments as { content: unknown }[])[0]!.content;
    const delivered = ms.addMessage({ group: GROUP, channel: FAKE_CHANNEL }, botCardMessage(FAKE_MS_APP_ID, card, POSTED_AT));

    clock.set('2026-11-25T08:20:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({
      slot: SLOT,
      recovered: true,
      posted: false,
      result: { ref: { ts: delivered.id } },
    });
    expect(digestSends().filter((c) => c.status === 200)).toHaveLength(0);
    expect(await digestAudit(ROLLOUT)).toHaveLength(1);
  });

  it('a 429 (nothing was done) is not resent by the client either: the scheduler posts it once after its back-off', async () => {
    await start();
    await installAndStart();
    ms.grant(FAKE_TENANT, { group: GROUP });
    h.connector.failNext({ kind: 'send', conversationId: FAKE_CHANNEL, status: 429, retryAfter: 0 });
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ slot: SLOT, posted: false, skipped: 'post_failed' });
    expect(digestSends().map((c) => c.status)).toEqual([429]);
    clock.set('2026-11-25T08:20:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ slot: SLOT, posted: true });
    expect(digestSends().map((c) => c.status)).toEqual([429, 200]);
    // No Graph lookup was needed: a 429 is a clear "not posted".
    expect(graphReads().filter((c) => c.query.$top === '50')).toHaveLength(0);
  });

  it('a lookup Graph refuses turns "can look" to no at once: the next digest post is resent by the client, not sent once', async () => {
    await start();
    await installAndStart();
    await claimOnly(ROLLOUT); // a crash mid-post yesterday's way; Graph has no consent yet
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ skipped: 'unknown' });
    // Consent granted meanwhile; within the hour bwprep still treats the channel as unreadable (no probe).
    ms.grant(FAKE_TENANT, { group: GROUP });
    h.connector.failNext({ kind: 'send', conversationId: FAKE_CHANNEL, status: 504 });
    clock.set('2026-11-26T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ posted: true });
    expect(digestSends().map((c) => c.status)).toEqual([504, 200]);
    expect(graphReads().map((c) => c.status)).toEqual([403]);
  });

  it('where Graph cannot look (no consent): a 504 is resent by the client as before, so the digest is not lost', async () => {
    await start();
    await installAndStart();
    h.connector.failNext({ kind: 'send', conversationId: FAKE_CHANNEL, status: 504 });
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ slot: SLOT, posted: true });
    expect(digestSends().map((c) => c.status)).toEqual([504, 200]);
    expect(graphReads().map((c) => c.status)).toEqual([403]); // the probe
  });
});

describe('linked conversations (found by a second review)', () => {
  /** `@bwprep <text>` by Bob in a conversation, authenticated; resolves with the reply's text. */
  async function say(text: string, scope: 'channel' | 'groupChat'): Promise<string> {
    const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, scope, text, mention: true, from: BOB, locale: 'en-GB' });
    await deliver(msg);
    return String((await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id && c.status === 200)).body?.text);
  }

  /** The channel's rollout, with the group chat linked to it (the chat gets its own card). */
  async function linkGroupChat(): Promise<void> {
    await installAndStart();
    await deliver(teamsConversationUpdate({ serviceUrl: h.connector.serviceUrl, scope: 'groupChat', added: [{ id: FAKE_BOT.id }] }));
    const code = /`([A-Z0-9]{4}-[A-Z0-9]{4})`/.exec(await say('link', 'channel'))?.[1];
    expect(code).toBeDefined();
    await say(`link ${code}`, 'groupChat');
    expect((await h.app.service.get(ROLLOUT))?.links?.map((l) => l.conversation.channel)).toEqual([FAKE_GROUP_CHAT]);
  }
  const chatDigests = () => digestSends().filter((c) => c.conversationId === FAKE_GROUP_CHAT);

  it('a 429 on the linked conversation’s digest is retried by the client (nothing looks for a linked post later)', async () => {
    await start();
    await linkGroupChat();
    ms.grant(FAKE_TENANT, { group: GROUP });
    ms.grant(FAKE_TENANT, { chat: FAKE_GROUP_CHAT });
    h.connector.failNext({ kind: 'send', conversationId: FAKE_GROUP_CHAT, status: 429, retryAfter: 0 });
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ slot: SLOT, posted: true });
    expect(chatDigests().map((c) => c.status)).toEqual([429, 200]);
  });

  it('the home post got no answer (504): once it is found, the linked conversation, never tried, gets the digest', async () => {
    await start();
    await linkGroupChat();
    ms.grant(FAKE_TENANT, { group: GROUP }); // the chat has no consent: a lookup there could not tell
    h.connector.failNext({ kind: 'send', conversationId: FAKE_CHANNEL, status: 504 });
    clock.set('2026-11-25T08:01:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ skipped: 'post_failed' });
    expect(chatDigests()).toHaveLength(0);
    const home = digestSends().find((c) => c.conversationId === FAKE_CHANNEL)!;
    ms.addMessage(
      { group: GROUP, channel: FAKE_CHANNEL },
      botCardMessage(FAKE_MS_APP_ID, (home.body?.attachments as { content: unknown }[])[0]!.content, POSTED_AT),
    );

    clock.set('2026-11-25T08:20:00Z');
    expect((await h.app.scheduler!.tick()).digests.find((d) => d.rolloutId === ROLLOUT)).toMatchObject({ recovered: true });
    expect(chatDigests().map((c) => c.status)).toEqual([200]);
    expect(digestSends().filter((c) => c.conversationId === FAKE_CHANNEL && c.status === 200)).toHaveLength(0);
  });
});
