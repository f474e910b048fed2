import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCALES_DIR } from '../../src/i18n';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import { blockActions, button, FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, type SlackRequest, slashCommand } from '../helpers/slack-requests';
import { startSlackHarness, type SlackHarness } from '../slack/harness';
import { RUNS, FUZZ_TIMEOUT } from './localized';

/**
 * End-to-end fuzz over HTTP: signed requests with arbitrary command texts and malformed block_actions
 * payloads, posted to the running app. Nothing answers 500, nothing reaches the "unexpected error" path,
 * and every reply the user sees is a rendered message (no raw i18n key, no unfilled placeholder).
 * Run counts are small on purpose (CPU is scarce); FC_SEED reproduces a failure.
 */
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
/** Top-level namespaces of the catalogue (`error`, `usage`, `card`…): a word.word in a reply starting with one is suspect. */
const NAMESPACES = new Set(Object.keys(JSON.parse(readFileSync(path.join(LOCALES_DIR, 'en.json'), 'utf8')) as object));
let h: SlackHarness;
let n = 0;
let logOffset = 0;

beforeAll(async () => {
  h = await startSlackHarness();
  const res = await h.send(slashCommand({ text: 'status', user_id: FAKE_USERS.alice, response_url: h.slack.responseUrl('seed') }));
  expect(res.status).toBe(200);
  await h.slack.waitFor('chat.postMessage');
  await h.app.slack!.idle();
});
afterAll(async () => {
  await h?.close();
});

/** What the app logged since the last call. */
function newLogs(): string {
  const all = h.logs();
  const out = all.slice(logOffset);
  logOffset = all.length;
  return out;
}

/** Every text the user could see from this request: response_url posts and DMs/ephemerals since `since`. */
function userVisibleTexts(responseId: string, sinceCalls: number): string[] {
  const posts = h.slack.responses(responseId).map((r) => JSON.stringify(r.body));
  const calls = h.slack
    .calls()
    .slice(sinceCalls)
    .filter((c) => ['chat.postMessage', 'chat.postEphemeral', 'chat.update', 'views.open', 'views.publish', 'files.completeUploadExternal'].includes(c.method))
    .map((c) => JSON.stringify(c.args));
  return [...posts, ...calls];
}

async function sendAndCheck(req: SlackRequest, responseId: string): Promise<string[]> {
  const before = h.slack.calls().length;
  const t0 = Date.now();
  const res = await h.send(req);
  if (process.env.FUZZ_DEBUG && res.status !== 200) console.log(res.status, Date.now() - t0, JSON.stringify(req.payload));
  expect(res.status).toBeLessThan(500);
  await h.app.slack!.idle();
  const logs = newLogs();
  expect(logs.split('\n').filter((l) => /unexpected error|unhandled Slack error|"level":("error"|50)/.test(l))).toEqual([]);
  const texts = userVisibleTexts(responseId, before);
  for (const text of texts) {
    expect(text).not.toContain('{{');
    // A raw i18n key (`error.bad_usage`) means a message was not rendered; text the user typed is echoed as is.
    const keys = [...text.matchAll(/\b([a-z_]+)(\.[a-z0-9_]+)+\b/g)]
      .map((m) => m[0])
      .filter((k) => NAMESPACES.has(k.split('.')[0]!) && !req.body.includes(encodeURIComponent(k)) && !req.body.includes(k));
    expect(keys).toEqual([]);
  }
  return texts;
}

const COMMAND_WORDS = [
  'status',
  'help',
  'mine',
  'assign',
  'unassign',
  'done',
  'reopen',
  'skip',
  'due',
  'lang',
  'export',
  'klaar',
  'toewijzen',
  'overslaan',
  'taal',
  'digest',
  'check',
  'setup',
];
const arg = fc.oneof(
  fc.constantFrom('1a', '2a', '4e', '99', '6', '<@U0BOB>', '<@U0NOBODY>', '<@U0BOB|bob>', 'none', '2026-12-31', '2026-02-30', 'nl', 'en', 'xx', 'csv'),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);
const commandText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.tuple(fc.constantFrom(...COMMAND_WORDS), fc.array(arg, { maxLength: 3 })).map(([w, a]) => [w, ...a].join(' ')),
);

describe('fuzz over HTTP: signed slash commands', () => {
  it(
    'any text: never a 500, never an internal error, every reply a localized message',
    async () => {
      await fc.assert(
        fc.asyncProperty(commandText, fc.constantFrom(FAKE_USERS.alice, FAKE_USERS.bob, FAKE_USERS.carol), async (text, user) => {
          const id = `fz-cmd-${++n}`;
          const seen = await sendAndCheck(slashCommand({ text, user_id: user, response_url: h.slack.responseUrl(id) }), id);
          expect(seen.length).toBeGreaterThan(0); // always an answer: a reply, or the card
        }),
        RUNS(30),
      );
    },
    FUZZ_TIMEOUT(60_000),
  );
});

describe('fuzz over HTTP: malformed signed block_actions', () => {
  const actionId = fc.constantFrom(...Object.values(ACTIONS), 'unknown_action', '');
  const value = fc.oneof(
    fc.constantFrom(encodeStepRef(ROLLOUT, '1a'), encodeStepRef(ROLLOUT, '99z'), encodeStepRef('slack:TOTHER:C1', '1a'), '@', '1a@', '@x', 'x@y@z', ''),
    fc.string({ maxLength: 20 }),
  );
  const blockId = fc.oneof(fc.constantFrom('step:1a', 'step:', 'step:zz', 'b-1', ''), fc.string({ maxLength: 10 }));
  /** A well-formed click, then one random field of the payload or of its action replaced by arbitrary JSON or dropped. */
  const payload = fc
    .tuple(actionId, value, blockId, fc.boolean(), fc.constantFrom('none', 'payload', 'action'), fc.nat(), fc.boolean(), fc.jsonValue({ maxDepth: 2 }))
    .map(([a, v, b, fromHome, where, k, drop, junk]) => {
      const req = blockActions({
        user: FAKE_USERS.bob,
        ...(fromHome ? { view: { id: 'V0HOME' } } : { channel: FAKE_CHANNEL_ID }),
        actions: [button(a, v, { block_id: b })],
      });
      const p = structuredClone(req.payload) as Record<string, unknown>;
      const target = where === 'action' ? ((p.actions as Record<string, unknown>[])[0] as Record<string, unknown>) : p;
      if (where !== 'none') {
        // response_url stays Slack's (the app posts to it: a junk host would only measure DNS timeouts).
        const keys = Object.keys(target).filter((x) => (x !== 'type' || where === 'action') && x !== 'response_url');
        const key = keys[k % keys.length] as string;
        if (drop) delete target[key];
        else target[key] = junk;
      }
      return p;
    });

  it(
    'never a 500, never an internal error, every reply a localized message',
    async () => {
      await fc.assert(
        fc.asyncProperty(payload, async (p) => {
          const id = `fz-act-${++n}`;
          if (!('view' in p)) p.response_url = h.slack.responseUrl(id);
          const req: SlackRequest = {
            kind: 'block_actions',
            contentType: 'application/x-www-form-urlencoded',
            body: new URLSearchParams({ payload: JSON.stringify(p) }).toString(),
            payload: p,
          };
          await sendAndCheck(req, id);
        }),
        RUNS(40),
      );
    },
    FUZZ_TIMEOUT(60_000),
  );
});
