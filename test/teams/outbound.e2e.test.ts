import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationOfUrl, meansConversationGone, retryAfterMs } from '../../src/teams/outbound';
import { ANNA, BOB, FAKE_BOT, FAKE_TENANT, teamsConversationUpdate, teamsMessage } from './activities';
import { startTeamsHarness, type TeamsHarness } from './harness';

let h: TeamsHarness;

beforeAll(async () => {
  h = await startTeamsHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Installs the bot in a fresh team channel and returns the conversation id. */
async function installedChannel(name: string): Promise<string> {
  const conv = `19:fake-${name}@thread.tacv2`;
  await h.post(teamsConversationUpdate({ serviceUrl: h.connector.serviceUrl, conversationId: conv, added: [{ id: FAKE_BOT.id }] }));
  return conv;
}

const sendsTo = (conv: string) => h.connector.calls.filter((c) => c.conversationId === conv && c.kind === 'send');

describe('proactive sends through the Bot Connector', () => {
  it('posts to a stored conversation and updates and deletes the message', async () => {
    const conv = await installedChannel('proactive');
    const id = await h.teams.send(conv, { type: 'message', text: 'digest' });
    expect(id).toMatch(/^fake-activity-/);
    expect(sendsTo(conv).map((c) => c.body?.text)).toEqual(['digest']);
    expect(await h.teams.update(conv, id as string, { type: 'message', text: 'digest, updated' })).toBe(true);
    const upd = h.connector.calls.find((c) => c.kind === 'update' && c.conversationId === conv);
    expect(upd).toMatchObject({ activityId: id, body: { text: 'digest, updated' } });
    expect(await h.teams.delete(conv, id as string)).toBe(true);
    expect(h.connector.calls.some((c) => c.kind === 'delete' && c.activityId === id)).toBe(true);
  });

  it('retries a 429 after Retry-After and delivers the message exactly once', async () => {
    const conv = await installedChannel('throttled');
    h.connector.failNext({ kind: 'send', conversationId: conv, status: 429, retryAfter: 1 });
    const id = await h.teams.send(conv, { type: 'message', text: 'digest after 429' });
    expect(id).toBeDefined();
    const attempts = sendsTo(conv);
    expect(attempts.map((c) => c.status)).toEqual([429, 200]);
    expect(attempts.filter((c) => c.status === 200)).toHaveLength(1);
    // Retry-After: 1 was honoured: bwprep waited the 1000 ms the connector asked for.
    const retryLog = h
      .logs()
      .split('\n')
      .find((l) => l.includes('teams connector busy; retrying') && l.includes('"status":429'));
    expect(JSON.parse(retryLog as string)).toMatchObject({ status: 429, retry: 1, waitMs: 1000, conversation: conv });
  });

  it('retries 412, 502 and 504 with backoff, then delivers once', async () => {
    const conv = await installedChannel('flaky');
    h.connector.failNext({ kind: 'send', conversationId: conv, status: 412 });
    h.connector.failNext({ kind: 'send', conversationId: conv, status: 502 });
    h.connector.failNext({ kind: 'send', conversationId: conv, status: 504 });
    expect(await h.teams.send(conv, { type: 'message', text: 'eventually' })).toBeDefined();
    expect(sendsTo(conv).map((c) => c.status)).toEqual([412, 502, 504, 200]);
  });

  it('gives up after the retry budget without a storm: 1 try + 4 retries', async () => {
    const conv = await installedChannel('down');
    h.connector.failNext({ kind: 'send', conversationId: conv, status: 502, times: 10 });
    await expect(h.teams.send(conv, { type: 'message', text: 'never' })).rejects.toThrow();
    expect(sendsTo(conv)).toHaveLength(5);
  });

  it('a 403 (bot removed or blocked) marks the conversation inactive, is not retried, and later sends are skipped', async () => {
    const conv = await installedChannel('blocked');
    h.connector.failNext({ kind: 'send', conversationId: conv, status: 403, code: 'ConversationBlockedByUser' });
    await expect(h.teams.send(conv, { type: 'message', text: 'blocked' })).rejects.toThrow();
    expect(sendsTo(conv)).toHaveLength(1);
    expect(await h.teams.conversations.get(conv)).toMatchObject({ active: false, inactiveReason: 'forbidden' });
    expect(await h.teams.send(conv, { type: 'message', text: 'again' })).toBeUndefined();
    expect(sendsTo(conv)).toHaveLength(1);
    expect(h.logs()).toContain('teams conversation no longer reachable');
  });

  it('a 404 on updating one message does not retire the conversation; a 404 ConversationNotFound does', async () => {
    const conv = await installedChannel('gone');
    h.connector.failNext({ kind: 'update', conversationId: conv, status: 404, code: 'ActivityNotFoundInConversation' });
    await expect(h.teams.update(conv, 'fake-old-card', { type: 'message', text: 'x' })).rejects.toThrow();
    expect((await h.teams.conversations.get(conv))?.active).toBe(true);
    h.connector.failNext({ kind: 'send', conversationId: conv, status: 404, code: 'ConversationNotFound' });
    await expect(h.teams.send(conv, { type: 'message', text: 'x' })).rejects.toThrow();
    expect(await h.teams.conversations.get(conv)).toMatchObject({ active: false, inactiveReason: 'not_found' });
  });

  it('keeps a burst to one conversation in order and under 7 per second and 8 per 2 seconds', async () => {
    const conv = await installedChannel('burst');
    const texts = Array.from({ length: 10 }, (_, i) => `burst ${i}`);
    await Promise.all(texts.map((text) => h.teams.send(conv, { type: 'message', text })));
    const sent = sendsTo(conv);
    expect(sent.map((c) => c.body?.text)).toEqual(texts);
    const inWindow = (ms: number) => Math.max(...sent.map((c) => sent.filter((d) => d.at >= c.at && d.at < c.at + ms).length));
    expect(inWindow(1000)).toBeLessThanOrEqual(7);
    expect(inWindow(2000)).toBeLessThanOrEqual(8);
  });

  it('opens a 1:1 conversation through the connector for a reminder (POST /v3/conversations), once', async () => {
    const conv = await installedChannel('team-for-dm');
    // Bob wrote in the team, so bwprep knows his channel account id; he never opened a personal chat.
    await h.post(teamsMessage({ serviceUrl: h.connector.serviceUrl, conversationId: conv, from: BOB, text: 'help', mention: true }));
    const dm = await h.teams.personalConversation(BOB.aadObjectId, conv);
    expect(dm).toMatch(/^a:fake-personal-/);
    const create = h.connector.calls.find((c) => c.kind === 'create');
    expect(create?.body).toMatchObject({ isGroup: false, bot: { id: FAKE_BOT.id }, members: [{ id: BOB.id }], tenantId: FAKE_TENANT });
    expect(await h.teams.send(dm as string, { type: 'message', text: 'reminder: step 2a is due' })).toBeDefined();
    expect(await h.teams.personalConversation(BOB.aadObjectId, conv)).toBe(dm);
    expect(h.connector.calls.filter((c) => c.kind === 'create')).toHaveLength(1);
    // A user bwprep never saw cannot be reached.
    expect(await h.teams.personalConversation(ANNA.aadObjectId.replace('a11a', 'dead'), conv)).toBeUndefined();
  });
});

describe('outbound helpers', () => {
  it('reads the conversation from connector URLs', () => {
    expect(conversationOfUrl('https://smba.example/emea/v3/conversations/19%3Aabc%40thread.tacv2%3Bmessageid%3D1/activities/2')).toBe(
      '19:abc@thread.tacv2;messageid=1',
    );
    expect(conversationOfUrl('https://smba.example/emea/v3/conversations')).toBe('create');
  });
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
  it('tells a lost conversation from a lost message', () => {
    const u = 'https://x/v3/conversations/c1/activities';
    expect(meansConversationGone('POST', u, 403, 'BotNotInConversationRoster')).toBe(true);
    expect(meansConversationGone('POST', u, 404, undefined)).toBe(true);
    expect(meansConversationGone('PUT', `${u}/a1`, 404, 'ActivityNotFoundInConversation')).toBe(false);
    expect(meansConversationGone('PUT', `${u}/a1`, 404, undefined)).toBe(false);
    expect(meansConversationGone('POST', 'https://x/v3/conversations', 403, undefined)).toBe(false);
  });
});
