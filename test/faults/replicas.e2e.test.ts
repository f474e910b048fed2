import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { blockActions, button, FAKE_APP_TOKEN, FAKE_BOT_TOKEN, FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, slashCommand } from '../helpers/slack-requests';
import { type SlackHarness, startSlackHarness } from '../slack/harness';
import { postgresServer, redisServer, type TestServer } from './servers';

/**
 * Three replicas of the real app on one Redis, then on one PostgreSQL, each started by this test on its own
 * port (issue 11 §4):
 * 200 signed clicks at once, spread over the replicas, every one of them a "Done" on one of 10 steps
 * (20 clicks a step, as impatient users do). Each change must happen exactly once, in state and in the
 * audit log, and every other click must get the "already done" notice — no error, no lost reply.
 */
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
const STEPS = ['1a', '2a', '2b', '4a', '4b', '4c', '4d', '4e', '5b', '6'];
const CLICKS_PER_STEP = 20;
const backends: [string, (dir: string) => Promise<TestServer>, (s: TestServer) => string][] = [
  ['Redis', redisServer, (s) => s.url('/0?prefix=r3:')],
  ['PostgreSQL', postgresServer, (s) => s.url('?schema=r3')],
];

describe.each(backends)('three replicas on one %s', (_name, startServer, storeUrl) => {
  let dir: string;
  let server: TestServer;
  let slack: FakeSlackApi;
  const replicas: SlackHarness[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bwprep-replicas3-'));
    chmodSync(dir, 0o755); // the postgres OS user must reach its cluster directory
    server = await startServer(path.join(dir, 'server'));
    slack = await startFakeSlackApi({ tokens: [FAKE_BOT_TOKEN, FAKE_APP_TOKEN] });
    for (let i = 0; i < 3; i++) replicas.push(await startSlackHarness({ slack, env: { BWPREP_STORE_URL: storeUrl(server) } }));
  }, 60_000);
  afterAll(async () => {
    for (const r of replicas) await r.close();
    await slack?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('200 concurrent clicks: every change exactly once in state and audit, every other click told it is already done', async () => {
    const [a] = replicas as [SlackHarness];
    await a.send(slashCommand({ text: 'status', user_id: FAKE_USERS.alice, response_url: slack.responseUrl('status') }));
    await slack.waitFor('chat.postMessage');
    await a.app.slack!.idle();
    const before = (await a.app.service.get(ROLLOUT))!;

    const clicks = STEPS.flatMap((step) => Array.from({ length: CLICKS_PER_STEP }, (_, k) => ({ step, id: `click-${step}-${k}` })));
    const res = await Promise.all(
      clicks.map(({ step, id }, i) =>
        replicas[i % 3]!.send(
          blockActions({
            user: FAKE_USERS.alice,
            message_ts: before.card!.ts,
            actions: [button(ACTIONS.markDone, encodeStepRef(ROLLOUT, step))],
            response_url: slack.responseUrl(id),
          }),
          { timeoutMs: 30_000 },
        ),
      ),
    );
    expect(res.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    for (const r of replicas) await r.app.slack!.idle();

    // State: all ten steps done, and exactly ten versions later (one write per change, none for the no-ops).
    const after = (await replicas[2]!.app.service.get(ROLLOUT))!;
    expect(STEPS.filter((s) => after.steps[s]?.state !== 'done')).toEqual([]);
    expect(after.version).toBe(before.version + STEPS.length);
    // Audit: each change exactly once.
    const done = (await replicas[1]!.app.store.audit.list(ROLLOUT)).filter((e) => e.action === 'step.done').map((e) => e.stepId);
    expect([...done].sort()).toEqual([...STEPS].sort());
    // Every other click got the "already done" notice; no click got an error.
    const replies = clicks.flatMap(({ id }) => slack.responses(id).map((r) => String(r.body.text)));
    expect(replies.filter((t) => !t.startsWith('ℹ️'))).toEqual([]);
    expect(replies).toHaveLength(clicks.length - STEPS.length);
    // The living card converges on the full state, whichever replica rendered last.
    await vi.waitFor(() => expect(JSON.stringify(slack.message(before.card!.channel, before.card!.ts)?.blocks)).toContain('10 of 10 steps done'), {
      timeout: 10_000,
    });
    for (const r of replicas) expect(r.logs()).not.toMatch(/unexpected error|"level":"error"/);
  }, 120_000);
});
