import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLACK_WORK_CAPACITY } from '../../src/slack/app';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import { blockActions, button, FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, slashCommand } from '../helpers/slack-requests';
import { type SlackHarness, startSlackHarness } from './harness';

const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
let h: SlackHarness;

beforeAll(async () => {
  h = await startSlackHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('a full post-ack work queue', () => {
  it('acks, answers "busy, try again", counts it, changes nothing; once there is room the same click works', async () => {
    const status = await h.send(slashCommand({ text: 'status', user_id: FAKE_USERS.alice, response_url: h.slack.responseUrl('prime') }));
    expect(status.status).toBe(200);
    await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === FAKE_CHANNEL_ID);

    // Fill the queue through its own API: every slot taken, every backlog place waiting.
    const work = h.app.slack!.work;
    const held = await Promise.all(Array.from({ length: SLACK_WORK_CAPACITY.concurrency }, () => work.acquire()));
    const waiting = Array.from({ length: SLACK_WORK_CAPACITY.maxBacklog }, () => work.acquire());
    expect(work.stats()).toMatchObject({ running: SLACK_WORK_CAPACITY.concurrency, waiting: SLACK_WORK_CAPACITY.maxBacklog });

    const click = blockActions({
      user: FAKE_USERS.alice,
      channel: FAKE_CHANNEL_ID,
      actions: [button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '1a'))],
      response_url: h.slack.responseUrl('busy-click'),
    });
    const res = await h.send(click);
    expect(res.status).toBe(200);
    const reply = await h.slack.waitForResponse('busy-click');
    expect(reply.body.response_type).toBe('ephemeral');
    expect(String(reply.body.text)).toContain('too busy');
    const cmd = await h.send(slashCommand({ text: 'done 1a', user_id: FAKE_USERS.alice, response_url: h.slack.responseUrl('busy-cmd') }));
    expect(cmd.status).toBe(200);
    expect(String((await h.slack.waitForResponse('busy-cmd')).body.text)).toContain('too busy');
    expect((await h.app.service.get(ROLLOUT))?.steps['1a']?.state).toBe('open');
    const metrics = await (await fetch(`${h.app.url}/metrics`)).text();
    expect(metrics).toMatch(/^bwprep_work_dropped_total\{queue="slack"\} 2$/m);

    // Room again: each waiting holder lets go as soon as it gets its slot.
    for (const release of held) release();
    await Promise.all(waiting.map((p) => p.then((release) => release())));
    await work.onIdle();
    await h.send(
      blockActions({
        user: FAKE_USERS.alice,
        channel: FAKE_CHANNEL_ID,
        actions: [button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '1a'))],
        response_url: h.slack.responseUrl('again'),
      }),
    );
    await work.onIdle();
    expect((await h.app.service.get(ROLLOUT))?.steps['1a']?.state).toBe('done');
  });
});
