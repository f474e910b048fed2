import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App, LogLevel, webApi } from '@slack/bolt';
import { startFakeSlackApi, validateBlocks, type FakeSlackApi } from './slack-api';
import { createLogger } from '../../src/logging/logger';
import { boltLogger } from '../../src/slack/app';
import { FAKE_BOT_TOKEN, FAKE_BOT_USER_ID, FAKE_CHANNEL_ID, FAKE_SIGNING_SECRET, FAKE_TEAM_ID, FAKE_USERS } from '../helpers/slack-fixtures';

const { WebClient, ErrorCode } = webApi;
type WebClientT = InstanceType<typeof WebClient>;

let slack: FakeSlackApi;
let client: WebClientT;

const quickRetries = { retries: 2, factor: 1, minTimeout: 5, maxTimeout: 20 };

beforeAll(async () => {
  slack = await startFakeSlackApi();
  // The Slack SDK logs Slack's error answers at error level; these tests provoke them on purpose, so its
  // logger goes through ours (as in the app) and is silent here.
  client = new WebClient(FAKE_BOT_TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: quickRetries, logger: boltLogger(createLogger({ level: 'silent' })) });
});
afterAll(async () => {
  await slack.close();
});
beforeEach(() => slack.reset());

/** Unwraps a WebClient platform error to its Slack error code. */
async function slackError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: string; data?: { error?: string } };
    if (err.code === ErrorCode.PlatformError) return err.data?.error ?? 'no error field';
    throw e;
  }
  throw new Error('expected the call to fail');
}

const cardBlocks = [
  { type: 'header', block_id: 'hdr', text: { type: 'plain_text', text: 'Bitwarden rollout checklist' } },
  {
    type: 'section',
    block_id: 'step-2a',
    text: { type: 'mrkdwn', text: '*2a* Review policies — owner <@U0BOB> · "quotes" & ampersands & ünïcödé ✅' },
  },
  {
    type: 'actions',
    block_id: 'act-2a',
    elements: [
      { type: 'button', action_id: 'bwprep.step.done', value: '{"step":"2a"}', text: { type: 'plain_text', text: 'Mark done' }, style: 'primary' },
      { type: 'users_select', action_id: 'bwprep.step.assign', placeholder: { type: 'plain_text', text: 'Owner' } },
    ],
  },
];

describe('fake Slack Web API with a real WebClient', () => {
  it('answers auth.test with the bot identity', async () => {
    const r = await client.auth.test();
    expect(r).toMatchObject({ ok: true, user_id: FAKE_BOT_USER_ID, team_id: FAKE_TEAM_ID, bot_id: expect.any(String), team: expect.any(String) });
    expect(r.url).toMatch(/^https:\/\/.+\.slack\.com\/$/);
    const call = slack.last('auth.test');
    expect(call?.token).toBe(FAKE_BOT_TOKEN);
  });

  it('round-trips blocks through the form encoding WebClient uses, with increasing ts', async () => {
    const a = await client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: 'fallback', blocks: cardBlocks });
    const b = await client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: 'second' });
    expect(a.ok).toBe(true);
    expect(a.channel).toBe(FAKE_CHANNEL_ID);
    expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
    expect(a.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(a.message?.blocks).toEqual(cardBlocks);

    const call = slack.calls('chat.postMessage')[0];
    expect(call?.encoding).toBe('form');
    expect(call?.args.blocks).toEqual(cardBlocks); // decoded from the JSON string WebClient sent
    expect(call?.args.text).toBe('fallback');
    expect(call?.args.token).toBeUndefined();
    expect(slack.message(FAKE_CHANNEL_ID, a.ts as string)?.blocks).toEqual(cardBlocks);
  });

  it('updates, deletes, links and posts ephemerals', async () => {
    const posted = await client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: 'v1', blocks: cardBlocks });
    const ts = posted.ts as string;
    const upd = await client.chat.update({ channel: FAKE_CHANNEL_ID, ts, text: 'v2', blocks: [cardBlocks[0] as never] });
    expect(upd).toMatchObject({ ok: true, channel: FAKE_CHANNEL_ID, ts, text: 'v2' });
    expect(slack.message(FAKE_CHANNEL_ID, ts)).toMatchObject({ text: 'v2', edits: 1, blocks: [cardBlocks[0]] });

    const link = await client.chat.getPermalink({ channel: FAKE_CHANNEL_ID, message_ts: ts });
    expect(link.permalink).toContain(`/archives/${FAKE_CHANNEL_ID}/p${ts.replace('.', '')}`);

    const eph = await client.chat.postEphemeral({ channel: FAKE_CHANNEL_ID, user: FAKE_USERS.bob, text: 'only you' });
    expect(eph.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(slack.ephemerals(FAKE_CHANNEL_ID)).toEqual([expect.objectContaining({ user: FAKE_USERS.bob, text: 'only you' })]);

    await client.chat.delete({ channel: FAKE_CHANNEL_ID, ts });
    expect(slack.message(FAKE_CHANNEL_ID, ts)?.deleted).toBe(true);
    expect(slack.calls().map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update', 'chat.getPermalink', 'chat.postEphemeral', 'chat.delete']);
  });

  it('is lenient about unknown message ts by default and strict on request', async () => {
    await expect(client.chat.update({ channel: FAKE_CHANNEL_ID, ts: '1700000001.000100', text: 'x' })).resolves.toMatchObject({ ok: true });
    await expect(client.views.publish({ user_id: 'U0NOBODY', view: { type: 'home', blocks: [] } })).resolves.toMatchObject({ ok: true });
    const strict = await startFakeSlackApi({ strict: true });
    try {
      const c = new WebClient(FAKE_BOT_TOKEN, { slackApiUrl: strict.apiUrl, retryConfig: { retries: 0 } });
      expect(await slackError(c.chat.update({ channel: FAKE_CHANNEL_ID, ts: '1700000001.000100', text: 'x' }))).toBe('message_not_found');
      expect(await slackError(c.conversations.info({ channel: 'C0NOPE' }))).toBe('channel_not_found');
      expect(await slackError(c.views.publish({ user_id: 'U0NOBODY', view: { type: 'home', blocks: [] } }))).toBe('user_not_found');
      expect(await slackError(c.chat.postEphemeral({ channel: FAKE_CHANNEL_ID, user: 'U0NOBODY', text: 'x' }))).toBe('user_not_in_channel');
    } finally {
      await strict.close();
    }
  });

  it('rejects messages without content and blocks over the Block Kit limits', async () => {
    expect(await slackError(client.chat.postMessage({ channel: FAKE_CHANNEL_ID } as never))).toBe('no_text');
    const tooMany = Array.from({ length: 51 }, (_, i) => ({ type: 'divider', block_id: `d${i}` }));
    expect(await slackError(client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: 'x', blocks: tooMany }))).toBe('invalid_blocks');
    expect(validateBlocks([{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }], 'message')).toHaveLength(1);
    expect(
      validateBlocks(
        [
          { type: 'divider', block_id: 'a' },
          { type: 'divider', block_id: 'a' },
        ],
        'message',
      )[0],
    ).toMatch(/duplicate block_id/);
    expect(validateBlocks(tooMany.slice(0, 50), 'message')).toEqual([]);
    expect(validateBlocks([...tooMany, ...tooMany.map((b) => ({ ...b, block_id: `${b.block_id}x` }))].slice(0, 100), 'view')).toEqual([]);
  });

  it('users.info returns tz, admin flag and names; locale only with include_locale', async () => {
    const without = await client.users.info({ user: FAKE_USERS.alice });
    expect(without.user).toMatchObject({ id: FAKE_USERS.alice, tz: 'Europe/Amsterdam', tz_offset: 3600, is_admin: true, real_name: 'Alice Admin' });
    expect(without.user?.profile?.display_name).toBe('alice');
    expect(without.user).not.toHaveProperty('locale');
    const withLocale = await client.users.info({ user: FAKE_USERS.alice, include_locale: true });
    expect(withLocale.user?.locale).toBe('nl-NL');
    expect(slack.last('users.info')?.args.include_locale).toBe('true');

    slack.addUser({ id: 'U0DAVE', real_name: 'Dave', display_name: 'dave', locale: 'en-US', tz: 'America/Chicago', tz_offset: -21600 });
    expect((await client.users.info({ user: 'U0DAVE', include_locale: true })).user).toMatchObject({ locale: 'en-US', tz: 'America/Chicago', is_admin: false });
    expect(await slackError(client.users.info({ user: 'U0NOBODY' }))).toBe('user_not_found');
  });

  it('opens DMs and posts to a user id in the DM channel', async () => {
    const open = await client.conversations.open({ users: FAKE_USERS.bob });
    const dm = open.channel?.id as string;
    expect(dm).toMatch(/^D/);
    expect(slack.dmChannel(FAKE_USERS.bob)).toBe(dm);
    const again = await client.conversations.open({ users: FAKE_USERS.bob });
    expect(again.channel?.id).toBe(dm);
    const posted = await client.chat.postMessage({ channel: FAKE_USERS.bob, text: 'hi' });
    expect(posted.channel).toBe(dm);
    const info = await client.conversations.info({ channel: dm });
    expect(info.channel).toMatchObject({ id: dm, is_im: true, user: FAKE_USERS.bob });
    const roll = await client.conversations.info({ channel: FAKE_CHANNEL_ID });
    expect(roll.channel).toMatchObject({ id: FAKE_CHANNEL_ID, name: 'bitwarden-rollout', is_channel: true, is_member: true });
  });

  it('publishes the App Home, opens and updates modals, detects hash conflicts', async () => {
    const home = { type: 'home' as const, blocks: cardBlocks };
    const p1 = await client.views.publish({ user_id: FAKE_USERS.alice, view: home });
    expect(p1.view?.id).toMatch(/^V/);
    expect(p1.view?.blocks).toEqual(cardBlocks);
    expect(slack.homeView(FAKE_USERS.alice)?.view).toEqual(home);
    expect(slack.last('views.publish')?.args.view).toEqual(home); // JSON string decoded

    const p2 = await client.views.publish({ user_id: FAKE_USERS.alice, view: home, hash: p1.view?.hash as string });
    expect(p2.view?.id).toBe(p1.view?.id);
    expect(await slackError(client.views.publish({ user_id: FAKE_USERS.alice, view: home, hash: 'stale' }))).toBe('hash_conflict');

    const modal = {
      type: 'modal' as const,
      callback_id: 'bwprep.setup',
      private_metadata: '{"rollout":"r1"}',
      title: { type: 'plain_text' as const, text: 'Setup' },
      blocks: [{ type: 'input', block_id: 'lang', label: { type: 'plain_text', text: 'Language' }, element: { type: 'plain_text_input', action_id: 'v' } }],
    };
    const opened = await client.views.open({ trigger_id: '123.456.abc', view: modal as never });
    expect(opened.view).toMatchObject({ id: expect.stringMatching(/^V/), callback_id: 'bwprep.setup', private_metadata: '{"rollout":"r1"}', type: 'modal' });
    const updated = await client.views.update({
      view_id: opened.view?.id as string,
      view: { ...modal, title: { type: 'plain_text', text: 'Saved' } } as never,
    });
    expect(updated.view?.id).toBe(opened.view?.id);
    expect(slack.views().find((v) => v.id === opened.view?.id)?.history).toHaveLength(2);
    expect(await slackError(client.views.open({ trigger_id: '', view: modal as never }))).toBe('invalid_arguments');
    await client.views.push({ trigger_id: '123.456.abd', view: modal as never });
    await client.views.push({ trigger_id: '123.456.abd', view: modal as never });
    expect(await slackError(client.views.push({ trigger_id: '123.456.abd', view: modal as never }))).toBe('push_limit_reached');
  });

  it('uploads a file through files.getUploadURLExternal, the upload URL and files.completeUploadExternal', async () => {
    const csv = 'step,status\n2a,verified\n';
    const r = await client.filesUploadV2({
      channel_id: FAKE_CHANNEL_ID,
      filename: 'rollout.csv',
      content: csv,
      title: 'Rollout export',
      initial_comment: 'export',
    });
    expect(r.ok).toBe(true);
    const [file] = slack.files();
    expect(file).toMatchObject({
      filename: 'rollout.csv',
      uploaded: true,
      completed: true,
      channel_id: FAKE_CHANNEL_ID,
      title: 'Rollout export',
      initial_comment: 'export',
    });
    expect(file?.content?.toString('utf8')).toBe(csv);
    expect(slack.last('files.getUploadURLExternal')?.response.upload_url).toContain(`${slack.url}/upload/`);
    expect(slack.last('files.completeUploadExternal')?.args.files).toEqual([{ id: file?.id, title: 'Rollout export' }]);
  });

  it('answers invalid_auth for a wrong or missing token and unknown_method for unknown methods', async () => {
    const wrong = new WebClient('xoxb-fake-wrong-token', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    expect(await slackError(wrong.auth.test())).toBe('invalid_auth');
    const none = await fetch(`${slack.apiUrl}auth.test`, { method: 'POST' });
    expect(await none.json()).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await slackError(client.apiCall('bwprep.nonsense'))).toBe('unknown_method');
    expect(slack.calls().map((c) => [c.method, c.response.error])).toEqual([
      ['auth.test', 'invalid_auth'],
      ['auth.test', 'invalid_auth'],
      ['bwprep.nonsense', 'unknown_method'],
    ]);
  });

  it('accepts JSON bodies with the token in the header, and GET with a query string', async () => {
    const res = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${FAKE_BOT_TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: FAKE_CHANNEL_ID, text: 'json', blocks: cardBlocks }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: FAKE_CHANNEL_ID });
    expect(slack.last('chat.postMessage')).toMatchObject({ encoding: 'json', args: { blocks: cardBlocks } });
    const get = await fetch(`${slack.apiUrl}users.info?user=${FAKE_USERS.bob}&include_locale=true`, { headers: { authorization: `Bearer ${FAKE_BOT_TOKEN}` } });
    expect(await get.json()).toMatchObject({ ok: true, user: { id: FAKE_USERS.bob, locale: 'en-GB' } });
    const legacy = await fetch(`${slack.apiUrl}auth.test`, { method: 'POST', body: new URLSearchParams({ token: FAKE_BOT_TOKEN }) });
    expect(await legacy.json()).toMatchObject({ ok: true });
    expect(slack.last('auth.test')?.args.token).toBe('[redacted]');
  });
});

describe('fault injection', () => {
  it('rate limits with 429 + Retry-After and WebClient retries after it', async () => {
    slack.rateLimitNext('chat.postMessage', { times: 2, retryAfter: 0 });
    let rateLimitedEvents = 0;
    client.once(webApi.WebClientEvent.RATE_LIMITED, () => rateLimitedEvents++);
    const r = await client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: 'eventually', blocks: cardBlocks });
    expect(r.ok).toBe(true);
    const calls = slack.calls('chat.postMessage');
    expect(calls.map((c) => [c.status, c.fault ?? null])).toEqual([
      [429, 'rate_limited'],
      [429, 'rate_limited'],
      [200, null],
    ]);
    expect(calls[0]?.args.blocks).toEqual(cardBlocks);
    expect(rateLimitedEvents).toBe(1);
  });

  it('exposes Retry-After to callers that handle rate limits themselves', async () => {
    slack.rateLimitNext('chat.update', { retryAfter: 7 });
    const c = new WebClient(FAKE_BOT_TOKEN, { slackApiUrl: slack.apiUrl, rejectRateLimitedCalls: true });
    const err = (await c.chat.update({ channel: FAKE_CHANNEL_ID, ts: '1.000001', text: 'x' }).catch((e: unknown) => e)) as { code: string; retryAfter: number };
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBe(7);
    const raw = await fetch(`${slack.apiUrl}chat.update`, { method: 'POST', headers: { authorization: `Bearer ${FAKE_BOT_TOKEN}` } });
    expect(raw.status).toBe(200); // the fault was used up by the first call
  });

  it('fails the next N calls with { ok: false, error } and then recovers', async () => {
    slack.failNext('views.publish', { times: 2, error: 'not_enabled' });
    const view = { type: 'home' as const, blocks: [] };
    expect(await slackError(client.views.publish({ user_id: FAKE_USERS.alice, view }))).toBe('not_enabled');
    expect(await slackError(client.views.publish({ user_id: FAKE_USERS.alice, view }))).toBe('not_enabled');
    expect((await client.views.publish({ user_id: FAKE_USERS.alice, view })).ok).toBe(true);
    expect(slack.calls('views.publish').map((c) => c.fault ?? 'none')).toEqual(['error', 'error', 'none']);
  });

  it('supports HTTP-level errors, latency and custom answers', async () => {
    slack.failNext('auth.test', { status: 503, error: 'service_unavailable' });
    const res = await fetch(`${slack.apiUrl}auth.test`, { method: 'POST', headers: { authorization: `Bearer ${FAKE_BOT_TOKEN}` } });
    expect(res.status).toBe(503);
    slack.setLatency('auth.test', 120);
    const t0 = Date.now();
    await client.auth.test();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    slack.setLatency('auth.test', 0);
    slack.override('conversations.info', (args) => ({ ok: true, channel: { id: args.channel, name: 'custom' } }));
    expect((await client.conversations.info({ channel: 'C0X' })).channel?.name).toBe('custom');
    slack.override('conversations.info', undefined);
    expect((await client.conversations.info({ channel: FAKE_CHANNEL_ID })).channel?.name).toBe('bitwarden-rollout');
  });
});

describe('conversations.history and held answers', () => {
  const meta = (slot: string) => ({ event_type: 'bwprep_digest', event_payload: { rollout: 'r1', slot } });

  it('lists a channel newest first, pages with the cursor, and returns metadata only when asked', async () => {
    const before = (Date.now() / 1000 - 1).toFixed(6);
    for (const slot of ['a', 'b', 'c']) await client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: slot, metadata: meta(slot) });
    await client.chat.postMessage({ channel: 'C0OTHER', text: 'elsewhere' });

    const plain = await client.conversations.history({ channel: FAKE_CHANNEL_ID, oldest: before });
    expect(plain.messages?.map((m) => m.text)).toEqual(['c', 'b', 'a']);
    expect(plain.messages?.every((m) => m.metadata === undefined && m.bot_id && m.ts)).toBe(true);
    expect(plain.has_more).toBe(false);

    const first = await client.conversations.history({ channel: FAKE_CHANNEL_ID, oldest: before, limit: 2, include_all_metadata: true });
    expect(first.messages?.map((m) => [m.text, m.metadata?.event_payload])).toEqual([
      ['c', { rollout: 'r1', slot: 'c' }],
      ['b', { rollout: 'r1', slot: 'b' }],
    ]);
    expect(first.has_more).toBe(true);
    const cursor = first.response_metadata?.next_cursor;
    expect(cursor).toBeTruthy();
    const second = await client.conversations.history({ channel: FAKE_CHANNEL_ID, oldest: before, limit: 2, include_all_metadata: true, cursor: cursor! });
    expect(second.messages?.map((m) => m.text)).toEqual(['a']);
    expect(second.has_more).toBe(false);

    // `oldest` is a time: messages before it are left out (timestamps follow the clock).
    const later = await client.conversations.history({ channel: FAKE_CHANNEL_ID, oldest: (Date.now() / 1000 + 60).toFixed(6) });
    expect(later.messages).toEqual([]);
  });

  it('a held call has taken effect when it arrives; only its answer waits', async () => {
    const hold = slack.hold('chat.postMessage');
    const pending = client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: 'in flight' });
    await hold.arrived(1);
    expect(slack.messages(FAKE_CHANNEL_ID).map((m) => m.text)).toEqual(['in flight']);
    const history = await client.conversations.history({ channel: FAKE_CHANNEL_ID });
    expect(history.messages?.map((m) => m.text)).toEqual(['in flight']);
    hold.release();
    expect((await pending).ok).toBe(true);
    expect(hold.count()).toBe(1);
  });

  it('answers missing_scope when told to, like Slack for an installation without channels:history', async () => {
    slack.failNext('conversations.history', { error: 'missing_scope', extra: { needed: 'channels:history', provided: 'chat:write' } });
    expect(await slackError(client.conversations.history({ channel: FAKE_CHANNEL_ID }))).toBe('missing_scope');
  });
});

describe('recording helpers', () => {
  it('waitFor resolves on calls made after the ack, and on calls already recorded', async () => {
    const later = new Promise((resolve, reject) => {
      setTimeout(() => {
        client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: 'later' }).then(resolve, reject);
      }, 50);
    });
    const call = await slack.waitFor('chat.postMessage', (c) => c.args.text === 'later', 2000);
    await later;
    expect(call.args.channel).toBe(FAKE_CHANNEL_ID);
    const again = await slack.waitFor('chat.postMessage');
    expect(again).toBe(call);
    await client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: 'two' });
    expect(await slack.waitForCount('chat.postMessage', 2)).toHaveLength(2);
  });

  it('waitFor rejects after the timeout and says what was recorded', async () => {
    await client.auth.test();
    await expect(slack.waitFor('chat.update', undefined, 100)).rejects.toThrow(/chat\.update.*auth\.test×1/);
  });

  it('reset() forgets calls, faults and state', async () => {
    await client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: 'x' });
    slack.failNext('auth.test');
    slack.reset();
    expect(slack.calls()).toEqual([]);
    expect(slack.messages()).toEqual([]);
    expect((await client.auth.test()).ok).toBe(true);
  });
});

describe('response_url', () => {
  it('records what the app posts, decoded', async () => {
    const url = slack.responseUrl('cmd-1');
    expect(url).toBe(`${slack.url}/response/cmd-1`);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text: 'Checking…', replace_original: false, blocks: cardBlocks }),
    });
    expect(res.status).toBe(200);
    const r = await slack.waitForResponse('cmd-1');
    expect(r.body).toEqual({ response_type: 'ephemeral', text: 'Checking…', replace_original: false, blocks: cardBlocks });
    expect(slack.responseUrl()).not.toBe(slack.responseUrl());
  });

  it('accepts five posts per URL, like Slack, and refuses the sixth', async () => {
    const url = slack.responseUrl('five');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(url, { method: 'POST', body: JSON.stringify({ text: `#${i}` }) })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 404]);
    expect(slack.responses('five').map((r) => r.rejected)).toEqual([false, false, false, false, false, true]);
  });
});

describe('Bolt App against the fake', () => {
  it('uses the fake through clientOptions.slackApiUrl', async () => {
    const app = new App({
      token: FAKE_BOT_TOKEN,
      signingSecret: FAKE_SIGNING_SECRET,
      clientOptions: { slackApiUrl: `${slack.url}/api/` },
      logLevel: LogLevel.ERROR,
    });
    const r = await app.client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: 'from bolt', blocks: cardBlocks });
    expect(r.ok).toBe(true);
    expect(slack.last('chat.postMessage')?.args.blocks).toEqual(cardBlocks);
  });
});
