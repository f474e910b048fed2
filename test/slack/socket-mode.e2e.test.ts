import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import { appHomeOpened, blockActions, button, FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, slashCommand } from '../helpers/slack-requests';
import { blockText, type SlackHarness, startSlackHarness, stepSection } from './harness';

const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
let h: SlackHarness;

beforeAll(async () => {
  h = await startSlackHarness({ socketMode: true });
  await h.socket?.connected();
});
afterAll(async () => {
  await h?.close();
});

describe('Slack over Socket Mode (SLACK_APP_TOKEN set)', () => {
  it('opens the connection with the app token and serves no /slack/events endpoint', async () => {
    const open = h.slack.last('apps.connections.open');
    expect(open?.token).toMatch(/^xapp-/);
    const res = await fetch(`${h.app.url}/slack/events`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect((await fetch(`${h.app.url}/healthz`)).status).toBe(200);
  });

  it('acks a slash command envelope and posts the checklist card', async () => {
    const ack = await h.socket!.send(
      'slash_commands',
      slashCommand({ text: 'status', user_id: FAKE_USERS.bob, response_url: h.slack.responseUrl('sm-1') }).payload,
    );
    expect(ack.envelope_id).toBeTruthy();
    const post = await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === FAKE_CHANNEL_ID);
    expect(blockText(post.args.blocks)).toContain('0 of 10 steps done');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card).toBeDefined());
  });

  it('handles a button click envelope and updates the living card', async () => {
    const card = (await h.app.service.get(ROLLOUT))!.card!;
    const req = blockActions({
      user: FAKE_USERS.alice,
      message_ts: card.ts,
      actions: [button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '1a'))],
      response_url: h.slack.responseUrl('sm-2'),
    });
    await h.socket!.send('interactive', req.payload);
    const update = await h.slack.waitFor('chat.update', (c) => c.args.ts === card.ts);
    expect(stepSection(update.args.blocks, '1a')).toContain('☑️');
  });

  it('publishes the App Home from an events_api envelope', async () => {
    const ev = appHomeOpened(FAKE_USERS.alice);
    await h.socket!.send('events_api', ev.payload, { retry_attempt: 0, retry_reason: '' });
    await h.slack.waitFor('views.publish', (c) => c.args.user_id === FAKE_USERS.alice);
  });
});
