import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { type Bwprep, startBwprep } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import type { Clock } from '../../src/core/ports';
import { createLogger } from '../../src/logging/logger';
import { configSecrets } from '../../src/main';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { attachSocketMode, type FakeSocketMode, startFakeSocketMode } from '../fakes/slack-socket';
import { registerSecret, reportToSecretGuard } from '../helpers/secret-guard';
import { expect, vi } from 'vitest';
import {
  FAKE_APP_TOKEN,
  FAKE_BOT_TOKEN,
  FAKE_CHANNEL_ID,
  FAKE_SIGNING_SECRET,
  FAKE_TEAM_ID,
  type SendOptions,
  type SlackRequest,
  sendToApp,
  slashCommand,
} from '../helpers/slack-requests';

export interface SlackHarness {
  slack: FakeSlackApi;
  /** Socket Mode only: the fake WebSocket endpoint the app connected to. */
  socket?: FakeSocketMode;
  app: Bwprep;
  dir: string;
  /** Signs and POSTs a request to the running app's /slack/events. */
  send(req: SlackRequest, opts?: SendOptions): ReturnType<typeof sendToApp>;
  /** Every log line the app wrote so far. */
  logs(): string;
  /** Restarts the app on the same store file (a new process would see the same). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real bwprep app over HTTP (real config, real SQLite file, real Bolt receiver) against a local fake
 * of the Slack Web API. Requests are signed exactly as Slack signs them.
 */
export async function startSlackHarness(
  opts: { env?: Record<string, string>; clock?: Clock; socketMode?: boolean; /** Share one fake Slack between replicas. */ slack?: FakeSlackApi } = {},
): Promise<SlackHarness> {
  const ownSlack = !opts.slack;
  const slack = opts.slack ?? (await startFakeSlackApi({ tokens: [FAKE_BOT_TOKEN, FAKE_APP_TOKEN] }));
  const socket = opts.socketMode ? await startFakeSocketMode() : undefined;
  if (socket) attachSocketMode(slack, socket);
  const dir = mkdtempSync(path.join(tmpdir(), 'bwprep-e2e-'));
  const env = {
    SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
    ...(socket ? { SLACK_APP_TOKEN: FAKE_APP_TOKEN } : { SLACK_SIGNING_SECRET: FAKE_SIGNING_SECRET }),
    SLACK_API_URL: slack.apiUrl,
    BWPREP_STORE_URL: `sqlite://${path.join(dir, 'bwprep.sqlite')}`,
    BWPREP_LOCALE: 'en',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    ...opts.env,
  };
  const config = loadConfig(env);
  let out = '';
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => {
    out += c.toString();
    reportToSecretGuard('log', c.toString());
  });
  registerSecret(...configSecrets(config));
  const logger = createLogger({ level: 'debug', destination: sink, secrets: configSecrets(config) });
  // Tests drive the scheduler with tick(); its timer would post on the wall clock.
  const start = () => startBwprep(config, { logger, startScheduler: false, ...(opts.clock ? { clock: opts.clock } : {}) });
  const h: SlackHarness = {
    slack,
    ...(socket ? { socket } : {}),
    app: await start(),
    dir,
    send: (req, o) => sendToApp(h.app.url as string, FAKE_SIGNING_SECRET, req, o),
    logs: () => out,
    restart: async () => {
      await h.app.stop();
      h.app = await start();
    },
    close: async () => {
      await h.app.stop();
      await socket?.close();
      if (ownSlack) await slack.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** A clock the test moves by hand. */
/**
 * `/bwprep status` typed by `user` in the harness's channel: creates the rollout and posts its card; resolves
 * once the card is recorded on the rollout and the work after the ack is done.
 */
export async function postFirstCard(h: SlackHarness, user: string): Promise<void> {
  await h.send(slashCommand({ text: 'status', user_id: user, response_url: h.slack.responseUrl('first-card') }));
  await h.slack.waitFor('chat.postMessage');
  const rollout = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
  await vi.waitFor(async () => expect((await h.app.service.get(rollout))?.card).toBeDefined());
  await h.app.slack!.idle();
}

export { TestClock } from '../helpers/clock';

/** The text of every section/context/header in a list of blocks, joined by newlines. */
export function blockText(blocks: unknown): string {
  const out: string[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push(o.text);
    for (const v of Object.values(o)) if (v && typeof v === 'object') walk(v);
  };
  walk(blocks);
  return out.join('\n');
}

/** The section block of one step on a rendered card. */
export function stepSection(blocks: unknown, stepId: string): string {
  const b = (blocks as { block_id?: string }[]).find((x) => x.block_id === `step:${stepId}`);
  return b ? blockText([b]) : '';
}
