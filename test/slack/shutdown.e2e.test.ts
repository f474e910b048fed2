import { describe, expect, it, vi } from 'vitest';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import { blockActions, button, FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, slashCommand } from '../helpers/slack-requests';
import { startSlackHarness, TestClock } from './harness';

const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;

describe('stopping bwprep while Slack is slow to answer', () => {
  it('stops after its drain bound when a card update never gets its answer, instead of waiting for Slack', async () => {
    const h = await startSlackHarness();
    try {
      expect((await h.send(slashCommand({ text: 'status', user_id: FAKE_USERS.alice, response_url: h.slack.responseUrl('s') }))).status).toBe(200);
      await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === FAKE_CHANNEL_ID);
      // Slack takes the card update but never answers it: the click's work stays in flight.
      const held = h.slack.hold('chat.update');
      const click = blockActions({
        user: FAKE_USERS.alice,
        channel: FAKE_CHANNEL_ID,
        actions: [button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '2a'))],
        response_url: h.slack.responseUrl('c'),
      });
      expect((await h.send(click)).status).toBe(200);
      await held.arrived(1);
      // The change itself is stored before its card update.
      expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done');
      // stop() must not wait for an answer Slack never gives: the drain waits its bound for the work in
      // flight, says so, and then the connections are cut. (Before, closing the connection pool waited for
      // that answer up to its 30-s request timeout, past main's 10-s exit.) The answer is released only after.
      await h.app.stop();
      expect(h.logs()).toMatch(/work still in flight after the drain timeout/);
      held.release();
    } finally {
      await h.slack.close();
    }
  });

  it('a digest post Slack never answers does not hold the stop past its drain bound either', async () => {
    const clock = new TestClock(new Date('2026-11-25T07:30:00Z'));
    const h = await startSlackHarness({ clock });
    try {
      await h.send(slashCommand({ text: 'status', user_id: FAKE_USERS.alice, response_url: h.slack.responseUrl('s') }));
      await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === FAKE_CHANNEL_ID);
      await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card).toBeDefined());
      clock.set('2026-11-25T08:01:00Z'); // 09:01 in Amsterdam: the digest is due
      const held = h.slack.hold('chat.postMessage');
      h.app.scheduler!.start(); // the timer's tick, as in production
      await held.arrived(1);
      // Before, stop() waited for the whole tick first (up to the pool's 30-s timeout), outside the drain.
      await h.app.stop();
      expect(h.logs()).toMatch(/work still in flight after the drain timeout/);
      held.release();
    } finally {
      await h.slack.close();
    }
  });
});
