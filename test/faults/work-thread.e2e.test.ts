import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { blockActions, button, FAKE_CHANNEL_ID, FAKE_SIGNING_SECRET, FAKE_USERS, sendToApp, slashCommand } from '../helpers/slack-requests';
import { buildApp, type ChildApp, killChildren, slackChildEnv, startChildApp } from './child-app';
import { ROLLOUT } from './seed';

/**
 * The Slack work thread (src/work-thread/, issue 12): the built bwprep in a child process, as `npm start`
 * runs it. Commands and clicks are acked by the main thread and their work (store, card, replies) is done in
 * the work thread; what a user sees must be the same as with the work in one thread, /metrics must count the
 * work done over there, and SIGTERM must finish work handed over before the process exits.
 */
let dir: string;
let mainJs: string;
let slack: FakeSlackApi;
const READY = /"msg":"Slack work thread ready/;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bwprep-wt-'));
  mainJs = buildApp(path.join(dir, 'build'));
  slack = await startFakeSlackApi();
}, 60_000);
afterEach(() => killChildren());
afterAll(async () => {
  await slack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = (storeFile: string, extra: Record<string, string> = {}) => slackChildEnv(slack.apiUrl, storeFile, extra);

/** `/bwprep status`, then alice marks 1a done on the card: what a user sees, and what is stored. */
async function statusThenClick(app: ChildApp, tag: string): Promise<{ cardTs: string }> {
  slack.reset();
  const st = await sendToApp(
    app.url,
    FAKE_SIGNING_SECRET,
    slashCommand({ text: 'status', user_id: FAKE_USERS.alice, response_url: slack.responseUrl(`${tag}-status`) }),
  );
  expect(st.status).toBe(200);
  const card = await slack.waitFor('chat.postMessage', (c) => c.args.channel === FAKE_CHANNEL_ID);
  const cardTs = String(card.response.ts);
  const click = await sendToApp(
    app.url,
    FAKE_SIGNING_SECRET,
    blockActions({
      user: FAKE_USERS.alice,
      message_ts: cardTs,
      actions: [button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '1a'))],
      response_url: slack.responseUrl(`${tag}-click`),
    }),
  );
  expect(click.status).toBe(200);
  await slack.waitFor('chat.update', (c) => c.args.ts === cardTs && JSON.stringify(c.args.blocks).includes('1 of 10 steps done'));
  return { cardTs };
}

describe('the Slack work thread', () => {
  it('does the work of commands and clicks after the main thread acked them; /metrics counts it once', async () => {
    const storeFile = path.join(mkdtempSync(path.join(dir, 'run-')), 'bwprep.sqlite');
    const app = await startChildApp(mainJs, dir, env(storeFile));
    // It serves at once; the thread is ready a moment later (work arriving meanwhile waits for it).
    await expect.poll(() => app.logs(), { timeout: 15_000, interval: 50 }).toMatch(READY);
    await statusThenClick(app, 'on');
    // A second click on the same step is answered privately through its response_url, from the work thread.
    await sendToApp(
      app.url,
      FAKE_SIGNING_SECRET,
      blockActions({ user: FAKE_USERS.alice, actions: [button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '1a'))], response_url: slack.responseUrl('on-again') }),
    );
    const again = await slack.waitForResponse('on-again');
    // In alice's own language: her Slack profile (users.info, read in the work thread) says Dutch.
    expect(JSON.stringify(again.body)).toContain('Stap 1a is al afgerond.');

    // /metrics is served by the main thread and sums in the work thread's counters; process metrics once.
    // (An action is counted when its work ends, after its card update: polled, not timed.)
    const metricsText = async () => (await fetch(`${app.url}/metrics`)).text();
    await expect.poll(metricsText, { timeout: 10_000, interval: 100 }).toMatch(/^bwprep_actions_total\{platform="slack",action="mark_done",outcome="ok"\} 2$/m);
    const metrics = await metricsText();
    expect(metrics).toMatch(/^bwprep_commands_total\{platform="slack",command="status",outcome="ok"\} 1$/m);
    expect(metrics.match(/^bwprep_process_cpu_user_seconds_total /gm)).toHaveLength(1);

    app.process.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    const store = await openStore(`sqlite://${storeFile}`);
    try {
      const r = (await store.rollouts.get(ROLLOUT))!;
      expect(r.steps['1a']?.state).toBe('done');
      expect((await store.audit.list(ROLLOUT)).filter((a) => a.action === 'step.done')).toHaveLength(1);
    } finally {
      await store.close();
    }
    expect(app.logs()).not.toMatch(/"level":"(error|fatal)"/);
  }, 60_000);

  it('SIGTERM while the work thread posts a card: the post and its bookkeeping finish before exit 0', async () => {
    const storeFile = path.join(mkdtempSync(path.join(dir, 'run-')), 'bwprep.sqlite');
    const app = await startChildApp(mainJs, dir, env(storeFile));
    slack.reset();
    // The card post of `/bwprep status` is held at the fake Slack: SIGTERM arrives while the work thread
    // waits on it; only after the post does it record the card in the store.
    let arrived!: () => void;
    const held = new Promise<void>((r) => (arrived = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    slack.override('chat.postMessage', async (args) => {
      arrived();
      await gate;
      return { ok: true, channel: args.channel, ts: '1700000000.424242', message: { text: args.text } };
    });
    try {
      const st = await sendToApp(
        app.url,
        FAKE_SIGNING_SECRET,
        slashCommand({ text: 'status', user_id: FAKE_USERS.alice, response_url: slack.responseUrl('term-status') }),
      );
      expect(st.status).toBe(200);
      await held;
      app.process.kill('SIGTERM');
      // Stops accepting at once, and waits for the work it handed over (it says so: an event, not a sleep).
      await expect
        .poll(
          async () =>
            fetch(`${app.url}/readyz`).then(
              () => 'open',
              () => 'refused',
            ),
          { timeout: 5_000, interval: 50 },
        )
        .toBe('refused');
      await expect
        .poll(() => app.logs(), { timeout: 5_000, interval: 20 })
        .toMatch(/"inFlight":1,"msg":"waiting for the work handed to the Slack work thread"/);
      expect(app.process.exitCode).toBeNull();
      release();
      expect(await app.exited).toEqual({ code: 0, signal: null });
    } finally {
      release();
      slack.override('chat.postMessage', undefined);
    }
    const store = await openStore(`sqlite://${storeFile}`);
    try {
      expect((await store.rollouts.get(ROLLOUT))?.card?.ts).toBe('1700000000.424242');
    } finally {
      await store.close();
    }
    expect(app.logs()).not.toMatch(/after the drain timeout|"level":"(error|fatal)"/);
  }, 60_000);

  it('BWPREP_SLACK_WORK_THREAD=off keeps the work in the main thread, with the same result', async () => {
    const storeFile = path.join(mkdtempSync(path.join(dir, 'run-')), 'bwprep.sqlite');
    const app = await startChildApp(mainJs, dir, env(storeFile, { BWPREP_SLACK_WORK_THREAD: 'off' }));
    await statusThenClick(app, 'off');
    expect(app.logs()).not.toMatch(READY);
    app.process.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('=on with a store only one thread can see refuses to start, saying why and what to do', async () => {
    const app = startChildApp(mainJs, dir, { ...env('unused'), BWPREP_STORE_URL: 'sqlite://:memory:', BWPREP_SLACK_WORK_THREAD: 'on' });
    await expect(app).rejects.toThrow(
      /BWPREP_SLACK_WORK_THREAD is on, but the store is in memory \(sqlite:\/\/:memory:\), where a second thread cannot see it/,
    );
  }, 30_000);
});
