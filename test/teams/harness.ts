import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { type Bwprep, startBwprep } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import type { Clock } from '../../src/core/ports';
import { createLogger } from '../../src/logging/logger';
import { configSecrets } from '../../src/main';
import type { TeamsRuntime } from '../../src/teams';
import { type FakeBotConnector, startFakeBotConnector } from '../fakes/bot-connector';
import { type FakeMicrosoft, LOGIN_ORIGIN } from '../fakes/microsoft-graph';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { registerSecret, reportToSecretGuard } from '../helpers/secret-guard';
import { FAKE_BOT_TOKEN, FAKE_SIGNING_SECRET, type SlackRequest, sendToApp } from '../helpers/slack-requests';
import { type Activity, type PostResult, postActivity } from './activities';

/** Obviously fake Bot Framework credentials. */
export const FAKE_MS_APP_ID = '00000000-0000-4000-8000-0000000000b0';
export const FAKE_MS_APP_PASSWORD = 'fake-teams-app-password-not-a-secret';

export interface TeamsHarness {
  connector: FakeBotConnector;
  app: Bwprep;
  teams: TeamsRuntime;
  post(activity: Activity, opts?: { token?: string }): Promise<PostResult>;
  logs(): string;
  close(): Promise<void>;
}

/**
 * Starts the real app on a fresh SQLite file with `env` (over the defaults below), its debug log captured
 * and scanned by the suite's secret guard. Shared by the Teams-only and the Slack+Teams harnesses.
 */
async function startApp(
  connector: FakeBotConnector,
  env: Record<string, string>,
  opts: { clock?: Clock; microsoft?: FakeMicrosoft },
): Promise<{ app: Bwprep; logs(): string; dispose(): void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bwprep-teams-'));
  const config = loadConfig({
    BWPREP_STORE_URL: `sqlite://${path.join(dir, 'bwprep.sqlite')}`,
    BWPREP_LOCALE: 'en',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    ...env,
  });
  let out = '';
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => {
    out += c.toString();
    reportToSecretGuard('log', c.toString());
  });
  registerSecret(...configSecrets(config));
  const logger = createLogger({ level: 'debug', destination: sink, secrets: configSecrets(config) });
  const app = await startBwprep(config, {
    logger,
    startScheduler: false,
    ...(opts.clock ? { clock: opts.clock } : {}),
    teams: {
      openIdMetadataUrl: connector.openIdMetadataUrl,
      // Token requests and Graph go to the fake Microsoft services when a test starts them.
      ...(opts.microsoft ? { loginRoutes: { [LOGIN_ORIGIN]: opts.microsoft.loginOrigin }, graphUrl: opts.microsoft.graphUrl } : {}),
    },
  });
  return { app, logs: () => out, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The real bwprep app (real config, SQLite file, HTTP server) with Teams enabled, against a local fake
 * Bot Connector. Without `env.MICROSOFT_APP_ID` it runs with TEAMS_ALLOW_UNAUTHENTICATED=true; with
 * one, botbuilder validates tokens against the fake connector's published signing key.
 */
export async function startTeamsHarness(
  opts: {
    env?: Record<string, string>;
    /** Tests drive `app.scheduler.tick()` with it. */ clock?: Clock;
    /** Entra ID tokens and Graph from this fake (with MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD in `env`). */
    microsoft?: FakeMicrosoft;
  } = {},
): Promise<TeamsHarness> {
  const connector = await startFakeBotConnector();
  const { app, logs, dispose } = await startApp(
    connector,
    { TEAMS_ENABLED: 'true', ...(opts.env?.MICROSOFT_APP_ID ? {} : { TEAMS_ALLOW_UNAUTHENTICATED: 'true' }), ...opts.env },
    opts,
  );
  return {
    connector,
    app,
    teams: app.teams as TeamsRuntime,
    post: (a, o) => postActivity(app.url as string, a, o),
    logs,
    close: async () => {
      await app.stop();
      await connector.close();
      dispose();
    },
  };
}

export interface CrossPlatformHarness {
  slack: FakeSlackApi;
  connector: FakeBotConnector;
  app: Bwprep;
  /** Signs and POSTs a Slack request to the app's /slack/events. */
  sendSlack(req: SlackRequest): ReturnType<typeof sendToApp>;
  /** POSTs a Teams activity to the app's /api/messages. */
  post(activity: Activity): Promise<PostResult>;
  logs(): string;
  close(): Promise<void>;
}

/**
 * Slack AND Teams in one bwprep process (one HTTP server, one store), each against its local fake:
 * the Slack Web API fake and the Bot Connector fake. Requests to Slack are signed as Slack signs them;
 * Teams runs with TEAMS_ALLOW_UNAUTHENTICATED=true.
 */
export async function startCrossPlatformHarness(opts: { env?: Record<string, string> } = {}): Promise<CrossPlatformHarness> {
  const slack = await startFakeSlackApi({ tokens: [FAKE_BOT_TOKEN] });
  const connector = await startFakeBotConnector();
  const { app, logs, dispose } = await startApp(
    connector,
    {
      SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
      SLACK_SIGNING_SECRET: FAKE_SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      TEAMS_ENABLED: 'true',
      TEAMS_ALLOW_UNAUTHENTICATED: 'true',
      ...opts.env,
    },
    {},
  );
  return {
    slack,
    connector,
    app,
    sendSlack: (req) => sendToApp(app.url as string, FAKE_SIGNING_SECRET, req),
    post: (a) => postActivity(app.url as string, a),
    logs,
    close: async () => {
      await app.stop();
      await slack.close();
      await connector.close();
      dispose();
    },
  };
}
