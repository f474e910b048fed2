import { request } from 'node:http';
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

  it('`/bwprep __proto__` and other Object.prototype names: the localized "unknown command", not an internal error', async () => {
    for (const word of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const id = `proto-${word}`;
      const res = await h.send(slashCommand({ text: word, user_id: FAKE_USERS.alice, response_url: h.slack.responseUrl(id) }));
      expect(res.status).toBe(200);
      // As typed (mrkdwn keeps underscores literal with word joiners), in the asker's language.
      const reply = String((await h.slack.waitForResponse(id)).body.text).replace(/\u2060/g, '');
      expect(reply).toContain(`"${word}"`);
      expect(reply).toMatch(/help/);
    }
    await expectNothingChanged();
    expect(({} as Record<string, unknown>).state).toBeUndefined(); // nothing reached Object.prototype
  });

  it('`actions` that is not a list is a 400, not a 500', async () => {
    const res = await h.send(click((p) => (p.actions = { V: 3.5e-323 })));
    expect(res.status).toBe(400);
    await expectNothingChanged();
    expect(h.logs()).toContain('malformed Slack payload refused');
  });
});

describe('request bodies /slack/events will not read', () => {
  /** Sends only the headers (not one byte of a body) and resolves with the status and Connection header. */
  const headersOnly = (headers: Record<string, string>) =>
    new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = request(new URL('/slack/events', h.app.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      });
      req.once('response', (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
        req.destroy();
      });
      req.once('error', reject);
      req.flushHeaders();
    });

  it('a declared body over 1 MiB is refused with 413 before it is read, and the connection closed', async () => {
    expect(await headersOnly({ 'content-length': String(2 * 1024 * 1024) })).toEqual({ status: 413, connection: 'close' });
  });

  it('a body without a declared length (chunked) is refused with 411: Slack always declares it', async () => {
    expect(await headersOnly({ 'transfer-encoding': 'chunked' })).toEqual({ status: 411, connection: 'close' });
  });

  it('an ordinary signed request of the same connection type still works', async () => {
    const res = await h.send(slashCommand({ text: 'help', user_id: FAKE_USERS.bob, response_url: h.slack.responseUrl('len-ok') }));
    expect(res.status).toBe(200);
  });
});
