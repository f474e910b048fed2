import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App, LogLevel, isValidSlackRequest, verifySlackRequest } from '@slack/bolt';
import { startFakeSlackApi, type FakeSlackApi } from '../fakes/slack-api';
import {
  FAKE_BOT_TOKEN,
  FAKE_CHANNEL_ID,
  FAKE_SIGNING_SECRET,
  FAKE_TEAM_ID,
  FAKE_USERS,
  appHomeOpened,
  blockActions,
  button,
  eventCallback,
  eventsUrl,
  nowSeconds,
  sendToApp,
  signSlackRequest,
  slackHeaders,
  slashCommand,
  stateValue,
  urlVerification,
  usersSelect,
  viewClosed,
  viewSubmission,
  type SlackRequest,
} from './slack-requests';

const verifies = (req: SlackRequest, secret: string, timestamp: number, now = Date.now()) =>
  isValidSlackRequest({
    signingSecret: secret,
    body: req.body,
    headers: { 'x-slack-signature': signSlackRequest(FAKE_SIGNING_SECRET, req.body, timestamp), 'x-slack-request-timestamp': timestamp },
    nowMilliseconds: now,
  });

describe('signSlackRequest', () => {
  it('matches the example in Slack’s signing documentation', () => {
    // The worked example from Slack's "Verifying requests from Slack" guide (a public, non-working secret).
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });

  it('is v0= + hex HMAC-SHA256 of v0:{ts}:{body}', () => {
    const body = slashCommand({ text: 'status' }).body;
    const hand = 'v0=' + createHmac('sha256', FAKE_SIGNING_SECRET).update(`v0:1700000000:${body}`).digest('hex');
    expect(signSlackRequest(FAKE_SIGNING_SECRET, body, 1700000000)).toBe(hand);
    expect(signSlackRequest(FAKE_SIGNING_SECRET, body, '1700000000')).toBe(hand);
  });

  it("verifies with Bolt's own verifier and fails with a wrong secret or a stale timestamp", () => {
    const req = blockActions({ actions: [button('bwprep.step.done', '2a')] });
    const ts = nowSeconds();
    expect(verifies(req, FAKE_SIGNING_SECRET, ts)).toBe(true);
    expect(() =>
      verifySlackRequest({
        signingSecret: FAKE_SIGNING_SECRET,
        body: req.body,
        headers: { 'x-slack-signature': signSlackRequest(FAKE_SIGNING_SECRET, req.body, ts), 'x-slack-request-timestamp': ts },
      }),
    ).not.toThrow();
    expect(verifies(req, 'another-fake-secret', ts)).toBe(false);
    expect(verifies(req, FAKE_SIGNING_SECRET, ts - 6 * 60)).toBe(false);
    expect(verifies(req, FAKE_SIGNING_SECRET, ts - 4 * 60)).toBe(true);
    const h = slackHeaders(FAKE_SIGNING_SECRET, req, { timestamp: ts, badSignature: true });
    expect(
      isValidSlackRequest({
        signingSecret: FAKE_SIGNING_SECRET,
        body: req.body,
        headers: { 'x-slack-signature': h['x-slack-signature'] as string, 'x-slack-request-timestamp': ts },
      }),
    ).toBe(false);
  });

  it('adds retry headers on request', () => {
    const h = slackHeaders(FAKE_SIGNING_SECRET, urlVerification('c'), { retryNum: 2 });
    expect(h).toMatchObject({ 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_timeout', 'content-type': 'application/json' });
  });
});

describe('request builders', () => {
  it('slashCommand: every field Slack sends, form-encoded, /bwprep', () => {
    const req = slashCommand({ text: 'assign 2a <@U0BOB|bob>', user_id: FAKE_USERS.alice, response_url: 'http://127.0.0.1:1/response/x', trigger_id: 't.1' });
    expect(req.contentType).toBe('application/x-www-form-urlencoded');
    const fields = Object.fromEntries(new URLSearchParams(req.body));
    expect(Object.keys(fields)).toEqual([
      'token',
      'team_id',
      'team_domain',
      'channel_id',
      'channel_name',
      'user_id',
      'user_name',
      'command',
      'text',
      'api_app_id',
      'is_enterprise_install',
      'response_url',
      'trigger_id',
    ]);
    expect(fields).toMatchObject({
      command: '/bwprep',
      text: 'assign 2a <@U0BOB|bob>',
      user_id: FAKE_USERS.alice,
      user_name: 'alice',
      channel_id: FAKE_CHANNEL_ID,
      team_id: FAKE_TEAM_ID,
      is_enterprise_install: 'false',
      response_url: 'http://127.0.0.1:1/response/x',
      trigger_id: 't.1',
    });
    expect(req.body).toContain('command=%2Fbwprep');
    expect(slashCommand({ enterprise_id: 'E0FAKE' }).payload).toHaveProperty('enterprise_id', 'E0FAKE');
    expect(slashCommand().payload.response_url).toMatch(/^http:\/\/127\.0\.0\.1:9\//);
  });

  it('blockActions: the full message-container shape as payload=<json>', () => {
    const req = blockActions({
      user: FAKE_USERS.bob,
      channel: FAKE_CHANNEL_ID,
      message_ts: '1700000001.000100',
      message: { text: 'card', blocks: [{ type: 'divider' }] },
      actions: [button('bwprep.step.done', '2a', { block_id: 'step-2a' }), usersSelect('bwprep.step.assign', FAKE_USERS.carol)],
      response_url: 'http://127.0.0.1:1/response/a',
      trigger_id: 't.2',
    });
    const fields = new URLSearchParams(req.body);
    expect([...fields.keys()]).toEqual(['payload']);
    const p = JSON.parse(fields.get('payload') as string);
    expect(p).toEqual(req.payload);
    expect(p).toMatchObject({
      type: 'block_actions',
      user: { id: FAKE_USERS.bob, username: 'bob', name: 'bob', team_id: FAKE_TEAM_ID },
      api_app_id: expect.any(String),
      token: expect.any(String),
      trigger_id: 't.2',
      team: { id: FAKE_TEAM_ID, domain: expect.any(String) },
      is_enterprise_install: false,
      container: { type: 'message', message_ts: '1700000001.000100', channel_id: FAKE_CHANNEL_ID, is_ephemeral: false },
      channel: { id: FAKE_CHANNEL_ID, name: 'bitwarden-rollout' },
      message: { type: 'message', ts: '1700000001.000100', text: 'card', blocks: [{ type: 'divider' }] },
      state: { values: {} },
      response_url: 'http://127.0.0.1:1/response/a',
    });
    expect(p.actions).toEqual([
      {
        type: 'button',
        action_id: 'bwprep.step.done',
        block_id: 'step-2a',
        value: '2a',
        text: { type: 'plain_text', text: 'bwprep.step.done', emoji: true },
        action_ts: expect.stringMatching(/^\d+\.\d{6}$/),
      },
      {
        type: 'users_select',
        action_id: 'bwprep.step.assign',
        block_id: 'b-bwprep.step.assign',
        selected_user: FAKE_USERS.carol,
        action_ts: expect.any(String),
      },
    ]);
  });

  it('blockActions from the App Home has a view container and no channel/message/response_url', () => {
    const p = blockActions({ view: { id: 'V0HOME', type: 'home' }, actions: [button('bwprep.home.refresh')] }).payload;
    expect(p.container).toEqual({ type: 'view', view_id: 'V0HOME' });
    expect(p).toMatchObject({ view: { id: 'V0HOME', type: 'home' } });
    expect(p).not.toHaveProperty('channel');
    expect(p).not.toHaveProperty('response_url');
  });

  it('viewSubmission and viewClosed carry callback_id, private_metadata and state.values', () => {
    const values = { lang: { v: stateValue.staticSelect('nl', 'Nederlands') }, owner: { v: stateValue.usersSelect(FAKE_USERS.bob) } };
    const req = viewSubmission({ user: FAKE_USERS.alice, view: { callback_id: 'bwprep.setup', private_metadata: '{"r":"1"}', state: { values } } });
    const p = JSON.parse(new URLSearchParams(req.body).get('payload') as string);
    expect(p).toMatchObject({
      type: 'view_submission',
      user: { id: FAKE_USERS.alice },
      view: { type: 'modal', callback_id: 'bwprep.setup', private_metadata: '{"r":"1"}', state: { values } },
      response_urls: [],
    });
    expect(p.view.state.values.lang.v.selected_option.value).toBe('nl');
    expect(viewClosed({ view: { callback_id: 'bwprep.setup' } }).payload).toMatchObject({ type: 'view_closed', is_cleared: false });
  });

  it('eventCallback / appHomeOpened / urlVerification are JSON with ids and authorizations', () => {
    const req = appHomeOpened(FAKE_USERS.bob);
    expect(req.contentType).toBe('application/json');
    const p = JSON.parse(req.body);
    expect(p).toMatchObject({
      type: 'event_callback',
      team_id: FAKE_TEAM_ID,
      api_app_id: expect.any(String),
      event_id: expect.stringMatching(/^Ev/),
      event_time: expect.any(Number),
      event: { type: 'app_home_opened', user: FAKE_USERS.bob, tab: 'home', channel: expect.stringMatching(/^D/), event_ts: expect.any(String) },
      authorizations: [expect.objectContaining({ team_id: FAKE_TEAM_ID, is_bot: true })],
    });
    expect(eventCallback({ type: 'app_home_opened', user: 'U1' }, { event_id: 'Ev1' }).payload.event_id).toBe('Ev1');
    expect(JSON.parse(urlVerification('abc').body)).toEqual({ token: expect.any(String), challenge: 'abc', type: 'url_verification' });
  });

  it('eventsUrl appends /slack/events only to a bare base URL', () => {
    expect(eventsUrl('http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000/slack/events');
    expect(eventsUrl('http://127.0.0.1:3000/')).toBe('http://127.0.0.1:3000/slack/events');
    expect(eventsUrl('http://127.0.0.1:3000/custom/path')).toBe('http://127.0.0.1:3000/custom/path');
  });
});

describe('sendToApp against a real Bolt HTTP app and the fake Slack API', () => {
  let slack: FakeSlackApi;
  let app: App;
  let server: Server;
  let base: string;
  const seen: Array<{ kind: string; retryNum?: number; payload: unknown }> = [];

  beforeAll(async () => {
    slack = await startFakeSlackApi();
    app = new App({
      token: FAKE_BOT_TOKEN,
      signingSecret: FAKE_SIGNING_SECRET,
      clientOptions: { slackApiUrl: slack.apiUrl },
      logLevel: LogLevel.ERROR,
    });
    app.command('/bwprep', async ({ command, ack, respond, client, context }) => {
      seen.push({ kind: 'command', payload: command, ...(context.retryNum !== undefined ? { retryNum: context.retryNum } : {}) });
      await ack({ response_type: 'ephemeral', text: `ack: ${command.text}` });
      await respond({ response_type: 'ephemeral', replace_original: false, text: `later: ${command.text}` });
      await client.chat.postMessage({ channel: command.channel_id, text: `card for ${command.user_id}` });
    });
    app.action('bwprep.step.done', async ({ ack, body, action, client }) => {
      await ack();
      seen.push({ kind: 'action', payload: action });
      const b = body as unknown as { container: { channel_id: string; message_ts: string } };
      await client.chat.update({ channel: b.container.channel_id, ts: b.container.message_ts, text: 'updated' });
    });
    app.view('bwprep.setup', async ({ ack, view }) => {
      seen.push({ kind: 'view', payload: view });
      await ack({ response_action: 'errors', errors: { lang: 'Pick nl or en' } });
    });
    app.event('app_home_opened', async ({ event, client }) => {
      seen.push({ kind: 'event', payload: event });
      await client.views.publish({ user_id: event.user, view: { type: 'home', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'home' } }] } });
    });
    server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.stop();
    await slack.close();
  });
  beforeEach(() => {
    slack.reset();
    seen.length = 0;
  });

  it('a signed slash command is acked; respond() and chat.postMessage reach the fake', async () => {
    const res = await sendToApp(base, FAKE_SIGNING_SECRET, slashCommand({ text: 'status', response_url: slack.responseUrl('c1') }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ response_type: 'ephemeral', text: 'ack: status' });
    expect((await slack.waitForResponse('c1')).body).toMatchObject({ text: 'later: status', response_type: 'ephemeral' });
    const post = await slack.waitFor('chat.postMessage');
    expect(post.args).toMatchObject({ channel: FAKE_CHANNEL_ID, text: `card for ${FAKE_USERS.alice}` });
  });

  it('a bad signature and a stale timestamp are refused with 401', async () => {
    const req = slashCommand({ text: 'status', response_url: slack.responseUrl('c2') });
    expect((await sendToApp(base, FAKE_SIGNING_SECRET, req, { badSignature: true })).status).toBe(401);
    expect((await sendToApp(base, FAKE_SIGNING_SECRET, req, { timestamp: nowSeconds() - 6 * 60 })).status).toBe(401);
    expect((await sendToApp(base, 'another-fake-secret', req)).status).toBe(401);
    expect(seen).toEqual([]);
  });

  it('block_actions reach the action listener, which updates the message', async () => {
    const msg = slack.seedMessage({ channel: FAKE_CHANNEL_ID, text: 'card' });
    const res = await sendToApp(
      base,
      FAKE_SIGNING_SECRET,
      blockActions({ user: FAKE_USERS.bob, message_ts: msg.ts, actions: [button('bwprep.step.done', '2a')] }),
    );
    expect(res.status).toBe(200);
    const upd = await slack.waitFor('chat.update');
    expect(upd.args).toMatchObject({ channel: FAKE_CHANNEL_ID, ts: msg.ts, text: 'updated' });
    expect(slack.message(FAKE_CHANNEL_ID, msg.ts)?.text).toBe('updated');
    expect(seen[0]?.payload).toMatchObject({ action_id: 'bwprep.step.done', value: '2a' });
  });

  it('view_submission answers with field errors', async () => {
    const res = await sendToApp(
      base,
      FAKE_SIGNING_SECRET,
      viewSubmission({ view: { callback_id: 'bwprep.setup', state: { values: { lang: { v: stateValue.plainText('fr') } } } } }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ response_action: 'errors', errors: { lang: 'Pick nl or en' } });
  });

  it('events are delivered with retry numbers; url_verification is answered with the challenge', async () => {
    const res = await sendToApp(base, FAKE_SIGNING_SECRET, appHomeOpened(FAKE_USERS.carol), { retryNum: 1 });
    expect(res.status).toBe(200);
    const pub = await slack.waitFor('views.publish');
    expect(pub.args.user_id).toBe(FAKE_USERS.carol);
    expect(slack.homeView(FAKE_USERS.carol)?.view).toMatchObject({ type: 'home' });

    const cmd = await sendToApp(base, FAKE_SIGNING_SECRET, slashCommand({ text: 'help', response_url: slack.responseUrl('c3') }), {
      retryNum: 2,
      retryReason: 'http_timeout',
    });
    expect(cmd.status).toBe(200);
    expect(seen.find((s) => s.kind === 'command')?.retryNum).toBe(2);

    const uv = await sendToApp(base, FAKE_SIGNING_SECRET, urlVerification('the-challenge'));
    expect(uv.status).toBe(200);
    expect(uv.body).toEqual({ challenge: 'the-challenge' });
  });
});
