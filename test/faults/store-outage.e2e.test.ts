import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { t } from '../../src/i18n';
import { FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, slashCommand } from '../helpers/slack-requests';
import { type SlackHarness, startSlackHarness } from '../slack/harness';
import { serverTempDir, STORE_SERVERS, type TestServer } from './servers';

/**
 * The store goes away mid-run and comes back (issue 11 §4), against real servers this test starts on its
 * own ports: /readyz turns 503 within 5 s (polled), a command is told "temporarily unavailable, nothing
 * was changed", nothing is half-written, and service resumes when the store returns — no restart.
 */
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
const { bob } = FAKE_USERS; // en-GB

describe.each(STORE_SERVERS)('%s: the store stops mid-run', (_name, startServer, storeUrl) => {
  let dir: string;
  let server: TestServer;
  let h: SlackHarness;
  let n = 0;

  beforeAll(async () => {
    dir = serverTempDir('fault');
    server = await startServer(path.join(dir, 'server'));
    h = await startSlackHarness({ env: { BWPREP_STORE_URL: storeUrl(server, 'fault') } });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function command(text: string): Promise<string> {
    const id = `c${++n}`;
    const res = await h.send(slashCommand({ text, user_id: bob, response_url: h.slack.responseUrl(id) }));
    expect(res.status).toBe(200);
    await h.app.slack!.idle();
    return String((await h.slack.waitForResponse(id, undefined, 10_000)).body.text);
  }
  const readyz = async () => (await fetch(`${h.app.url}/readyz`)).status;

  it('503 on /readyz, a localized "nothing was changed", nothing half-written; then it resumes with no restart', async () => {
    // A working rollout with one change and its audit.
    await h.send(slashCommand({ text: 'status', user_id: bob, response_url: h.slack.responseUrl('s') }));
    await h.slack.waitFor('chat.postMessage');
    expect(await command('done 1a')).toMatch(/^✅/);
    const before = (await h.app.store.rollouts.get(ROLLOUT))!;
    const auditBefore = await h.app.store.audit.list(ROLLOUT);
    expect(await readyz()).toBe(200);

    await server.stop();
    await vi.waitFor(async () => expect(await readyz()).toBe(503), { timeout: 5_000, interval: 100 });

    const refused = await command('done 2a');
    expect(refused).toBe(`⚠️ ${t('en', 'error.store_unavailable')}`);
    expect(h.logs()).not.toMatch(/unexpected error/);

    await server.start();
    await vi.waitFor(async () => expect(await readyz()).toBe(200), { timeout: 15_000, interval: 100 });
    // Nothing half-written: the refused change left no state and no audit entry behind.
    const after = (await h.app.store.rollouts.get(ROLLOUT))!;
    expect(after.version).toBe(before.version);
    expect(after.steps['2a']?.state).toBe('open');
    expect(await h.app.store.audit.list(ROLLOUT)).toEqual(auditBefore);

    // Same process, same connections: the next command works.
    await vi.waitFor(async () => expect(await command('done 2a')).toMatch(/^✅/), { timeout: 15_000, interval: 200 });
    const resumed = (await h.app.store.rollouts.get(ROLLOUT))!;
    expect(resumed.steps['2a']?.state).toBe('done');
    expect((await h.app.store.audit.list(ROLLOUT)).filter((a) => a.action === 'step.done').map((a) => a.stepId)).toEqual(['1a', '2a']);
  }, 90_000);
});
