import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { blockActions, button, FAKE_APP_TOKEN, FAKE_BOT_TOKEN, FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, slashCommand } from '../helpers/slack-requests';
import { blockText, type SlackHarness, startSlackHarness, TestClock } from './harness';

/**
 * Two replicas of the real app behind one "load balancer" (the test alternates between them), sharing one
 * Redis store and one Slack workspace: DESIGN §7's scale-out. Redis is the real server on 127.0.0.1.
 */
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
const prefix = `bwprep-replicas-${randomUUID().slice(0, 8)}:`;
const clock = new TestClock('2026-11-25T07:30:00Z');
let slack: FakeSlackApi;
let a: SlackHarness;
let b: SlackHarness;

beforeAll(async () => {
  slack = await startFakeSlackApi({ tokens: [FAKE_BOT_TOKEN, FAKE_APP_TOKEN] });
  const env = { BWPREP_STORE_URL: `redis://127.0.0.1:6379/0?prefix=${prefix}` };
  a = await startSlackHarness({ slack, clock, env });
  b = await startSlackHarness({ slack, clock, env });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await slack?.close();
  const redis = new Redis('redis://127.0.0.1:6379/0');
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('two replicas on one Redis store', () => {
  it('concurrent clicks on different replicas lose nothing, and both see the same card', async () => {
    await a.send(slashCommand({ text: 'status', user_id: FAKE_USERS.alice, response_url: slack.responseUrl('s') }));
    await slack.waitFor('chat.postMessage');
    await vi.waitFor(async () => expect((await b.app.service.get(ROLLOUT))?.card).toBeDefined());
    const card = (await b.app.service.get(ROLLOUT))!.card!;
    const steps = ['1a', '2a', '2b', '4a', '4b', '4c', '4d', '4e', '5b', '6'];
    // Alice (a workspace admin) clicks Done on every step, alternating replicas, all at once.
    const res = await Promise.all(
      steps.map((id, i) =>
        (i % 2 ? b : a).send(
          blockActions({
            user: FAKE_USERS.alice,
            message_ts: card.ts,
            actions: [button(ACTIONS.markDone, encodeStepRef(ROLLOUT, id))],
            response_url: slack.responseUrl(`d${id}`),
          }),
        ),
      ),
    );
    expect(res.every((r) => r.status === 200)).toBe(true);
    await vi.waitFor(async () => {
      const r = await a.app.service.get(ROLLOUT);
      expect(steps.every((id) => r?.steps[id]?.state === 'done')).toBe(true);
    });
    const audit = await b.app.store.audit.list(ROLLOUT);
    expect(audit.filter((e) => e.action === 'step.done')).toHaveLength(steps.length);
    // Whichever replica rendered last, the card converges on the full state.
    await vi.waitFor(() => expect(blockText(slack.message(card.channel, card.ts)?.blocks)).toContain('10 of 10 steps done'), { timeout: 5000 });
  });

  it('posts the 09:00 digest once, whichever replicas tick', async () => {
    clock.set('2026-11-25T08:02:00Z'); // 09:02 Amsterdam
    const ticks = await Promise.all([a.app.scheduler!.tick(), b.app.scheduler!.tick(), a.app.scheduler!.tick(), b.app.scheduler!.tick()]);
    expect(ticks.flatMap((t) => t.digests).filter((d) => d.posted)).toHaveLength(1);
    const digests = slack.calls('chat.postMessage').filter((c) => String(c.args.text).includes('readiness'));
    expect(digests).toHaveLength(1);
  });
});
