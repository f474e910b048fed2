import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeStepRef } from '../../src/views/actions';
import { blockActions, button, FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, type SlackRequest, slashCommand } from '../helpers/slack-requests';
import { type SlackHarness, startSlackHarness } from './harness';

/** Shrunk counterexamples of test/fuzz/slack-http.fuzz.test.ts, kept as ordinary tests. */
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
let h: SlackHarness;

beforeAll(async () => {
  h = await startSlackHarness();
  await h.send(slashCommand({ text: 'status', user_id: FAKE_USERS.alice, response_url: h.slack.responseUrl('seed') }));
  await h.slack.waitFor('chat.postMessage');
  await h.app.slack!.idle();
});
afterAll(async () => {
  await h?.close();
});

/** A signed block_actions request with `edit` applied to the payload of a normal "mark done" click. */
function click(edit: (p: Record<string, unknown>) => void): SlackRequest {
  const req = blockActions({ user: FAKE_USERS.bob, channel: FAKE_CHANNEL_ID, actions: [button('mark_done', encodeStepRef(ROLLOUT, '1a'))] });
  const p = structuredClone(req.payload);
  edit(p);
  return { ...req, payload: p, body: new URLSearchParams({ payload: JSON.stringify(p) }).toString() };
}

async function expectNothingChanged(): Promise<void> {
  await h.app.slack!.idle();
  expect((await h.app.service.get(ROLLOUT))?.steps['1a']?.state).toBe('open');
  expect(h.logs()).not.toMatch(/"level":"error"|unexpected error/);
}

describe('malformed signed Slack payloads', () => {
  it('an action id this version does not know is acknowledged at once (not Bolt’s 404 after 3 s)', async () => {
    const res = await h.send(click((p) => ((p.actions as Record<string, unknown>[])[0]!.action_id = 'unknown_action')));
    expect(res.status).toBe(200);
    await expectNothingChanged();
  });

  it('an action id that is not a string is acknowledged and dropped', async () => {
    const res = await h.send(click((p) => ((p.actions as Record<string, unknown>[])[0]!.action_id = { V: 1 })));
    expect(res.status).toBe(200);
    await expectNothingChanged();
  });

  it('a block_id or a value that is not a string is refused as a bad payload, not an internal error', async () => {
    for (const edit of [{ block_id: 0, value: '' }, { value: 42 }]) {
      const id = `bad-${JSON.stringify(edit)}`;
      const res = await h.send(
        click((p) => {
          p.response_url = h.slack.responseUrl(id);
          Object.assign((p.actions as Record<string, unknown>[])[0]!, edit);
        }),
      );
      expect(res.status).toBe(200);
      await expectNothingChanged();
      expect(String((await h.slack.waitForResponse(id)).body.text)).toMatch(/^⚠️/);
    }
  });

  it('`actions` that is not a list is a 400, not a 500', async () => {
    const res = await h.send(click((p) => (p.actions = { V: 3.5e-323 })));
    expect(res.status).toBe(400);
    await expectNothingChanged();
    expect(h.logs()).toContain('malformed Slack payload refused');
  });
});
