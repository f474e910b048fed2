import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { FAKE_APP_TOKEN, FAKE_BOT_ID, FAKE_BOT_TOKEN, FAKE_BOT_USER_ID, FAKE_SIGNING_SECRET, FAKE_TEAM_ID } from '../helpers/slack-fixtures';
import { startSlackHarness } from '../slack/harness';
import { BUILT_IN_TEMPLATE } from '../../src/templates';
import { type BuiltBinary, buildBinary, stackLines } from './binary';

/**
 * Every way the first start can fail, each through the real `bwprep` binary in a child process: one
 * message on stderr that says what is wrong and which setting to change, exit code 1, no stack trace,
 * and no "listening" announcement before it.
 */

let bwprep: BuiltBinary;
let slack: FakeSlackApi;
const dir = mkdtempSync(join(tmpdir(), 'bwprep-startup-'));

// Transpiling all of src/ is CPU-bound: 3 s on an idle machine, over the 20 s hook default when other
// processes take both cores (seen with four test runs at once). A build step, not a measured figure.
beforeAll(async () => {
  bwprep = buildBinary();
  slack = await startFakeSlackApi({ tokens: [FAKE_BOT_TOKEN] });
}, 120_000);
afterAll(async () => {
  bwprep?.remove();
  await slack?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const base = () => ({ BWPREP_STORE_URL: `sqlite://${join(mkdtempSync(join(dir, 's-')), 'bwprep.sqlite')}`, HOST: '127.0.0.1', PORT: '0' });
const slackHttp = () => ({ ...base(), SLACK_BOT_TOKEN: FAKE_BOT_TOKEN, SLACK_SIGNING_SECRET: FAKE_SIGNING_SECRET, SLACK_API_URL: slack.apiUrl });

async function failsWith(env: Record<string, string>, args: string[] = []): Promise<string> {
  const r = await bwprep.run(args, env);
  expect(r.code, r.stderr).toBe(1);
  expect(stackLines(r.stdout + r.stderr)).toEqual([]);
  expect(r.stdout).not.toContain('listening');
  expect(r.stderr).not.toContain('Error:');
  return r.stderr.trim();
}

describe('start-up failures of the real binary: one message, exit 1, no stack trace', () => {
  it.each(['invalid_auth', 'token_revoked', 'account_inactive'])(
    'Slack answers auth.test with %s: names SLACK_BOT_TOKEN and what Slack said',
    async (error) => {
      slack.failNext('auth.test', { error });
      const message = await failsWith({ ...slackHttp(), BWPREP_LOCALE: 'en' });
      expect(message).toMatch(/^Slack does not accept SLACK_BOT_TOKEN \(/);
      expect(message).toContain(`(${error})`);
      expect(message.split('\n')).toHaveLength(1);
      expect(message).not.toContain(FAKE_BOT_TOKEN);
    },
  );

  it('says it in Dutch when BWPREP_LOCALE=nl, and --lang wins over it', async () => {
    slack.failNext('auth.test', { error: 'invalid_auth' });
    expect(await failsWith({ ...slackHttp(), BWPREP_LOCALE: 'nl' })).toMatch(/^Slack accepteert SLACK_BOT_TOKEN niet \(invalid_auth\)/);
    slack.failNext('auth.test', { error: 'invalid_auth' });
    expect(await failsWith({ ...slackHttp(), BWPREP_LOCALE: 'nl' }, ['serve', '--lang', 'en'])).toMatch(/^Slack does not accept SLACK_BOT_TOKEN/);
  });

  it('an unreachable Slack API names the URL and SLACK_BOT_TOKEN', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/api/`;
    const message = await failsWith({ ...slackHttp(), SLACK_API_URL: url });
    expect(message).toContain(`cannot reach the Slack API at ${url} to check SLACK_BOT_TOKEN`);
    expect(message).toContain('ECONNREFUSED');
  });

  it('Socket Mode: an app-level token Slack refuses names SLACK_APP_TOKEN', async () => {
    const env: Record<string, string> = { ...slackHttp(), SLACK_APP_TOKEN: FAKE_APP_TOKEN };
    delete env.SLACK_SIGNING_SECRET;
    const message = await failsWith(env);
    expect(message).toMatch(/^Slack does not accept SLACK_APP_TOKEN \(invalid_auth\)/);
  });

  it('a port in use names PORT and HOST', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const { port } = busy.address() as { port: number };
    try {
      const message = await failsWith({ ...slackHttp(), PORT: String(port) });
      expect(message).toBe(
        `Port ${port} on 127.0.0.1 is already in use by another program. Stop that program, or set PORT (and HOST if needed) to a free port, then start again.`,
      );
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });

  it('an SQLite file that cannot be opened names the path and BWPREP_STORE_URL', async () => {
    const notADir = join(dir, 'plain-file');
    writeFileSync(notADir, 'not a folder');
    const message = await failsWith({ BWPREP_STORE_URL: `sqlite://${notADir}/bwprep.sqlite` });
    expect(message).toMatch(new RegExp(`^bwprep cannot open its SQLite store ${notADir}/bwprep.sqlite \\(`));
    expect(message).toContain('BWPREP_STORE_URL');
  });

  it('Redis not answering names the URL without the password', async () => {
    const port = await closedPort();
    const message = await failsWith({ ...base(), BWPREP_STORE_URL: `redis://:fake-redis-password@127.0.0.1:${port}/0` });
    expect(message).toMatch(new RegExp(`^The Redis store at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0 does not answer \\(.*ECONNREFUSED`));
    expect(message).toContain('BWPREP_STORE_URL');
    expect(message).not.toContain('fake-redis-password');
    expect(message).not.toContain('Connection is closed');
  });

  it('PostgreSQL not answering names the URL without the password', async () => {
    const port = await closedPort();
    const message = await failsWith({ ...base(), BWPREP_STORE_URL: `postgres://postgres:fake-pg-password@127.0.0.1:${port}/test` });
    expect(message).toMatch(
      new RegExp(`^bwprep cannot use the PostgreSQL store at postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${port}/test \\(.*ECONNREFUSED`),
    );
    expect(message).not.toContain('fake-pg-password');
  });

  it('a store URL that cannot be used names BWPREP_STORE_URL', async () => {
    const message = await failsWith({ ...base(), BWPREP_STORE_URL: 'redis://127.0.0.1:6379/not-a-number' });
    expect(message).toMatch(/^BWPREP_STORE_URL cannot be used: redis database must be a number, got "not-a-number"\./);
  });

  it('settings errors are sentences in our words, never zod’s, and localized', async () => {
    const message = await failsWith({ ...base(), BWPREP_LOCALE: 'de', BW_CLIENT_ID: 'organization.00000000-0000-4000-8000-000000000000' });
    expect(message.split('\n')).toEqual([
      'bwprep cannot start: 2 settings are missing or invalid.',
      '  - BWPREP_LOCALE must be nl or en.',
      '  - BW_CLIENT_SECRET is missing: BW_CLIENT_ID is set, and BW_CLIENT_ID and BW_CLIENT_SECRET go together (the organization API key). Set both or neither.',
      'Set them in the environment or in a .env file (see .env.example), then start again.',
    ]);
    const nl = await failsWith({ ...base(), BWPREP_LOCALE: 'nl', PORT: 'eighty' });
    expect(nl).toContain('bwprep kan niet starten: 1 instelling ontbreekt of is ongeldig.');
    expect(nl).toContain('  - PORT moet een geheel getal van 0 tot en met 65535 zijn, zoals 3000.');
    expect(nl).not.toMatch(/Invalid|expected/);
  });

  it('an invalid BWPREP_TEMPLATE lists its problems in plain words before anything starts', async () => {
    const tpl = JSON.parse(JSON.stringify(require(BUILT_IN_TEMPLATE))) as { steps: Record<string, unknown>[] };
    delete tpl.steps[3]!.hours;
    const file = join(dir, 'custom.json');
    writeFileSync(file, JSON.stringify(tpl));
    const message = await failsWith({ ...base(), BWPREP_LOCALE: 'en', BWPREP_TEMPLATE: file });
    expect(message.split('\n')).toEqual([
      `BWPREP_TEMPLATE names the template ${file}, which has 1 problem (check it with: bwprep template validate ${file}):`,
      '  steps[3].hours is required.',
    ]);
  });
});

describe('a start that works', () => {
  it('checks the token with auth.test before it listens, once, and keeps who the bot is', async () => {
    const h = await startSlackHarness();
    try {
      expect(await h.app.slack?.installation()).toEqual({ teamId: FAKE_TEAM_ID, botUserId: FAKE_BOT_USER_ID, botId: FAKE_BOT_ID });
      // Bolt got the bot's ids, so it does not call auth.test again (where a refusal was unhandled).
      expect(h.slack.calls('auth.test')).toHaveLength(1);
      const logs = h.logs();
      expect(logs.indexOf('Slack accepted the bot token')).toBeGreaterThan(-1);
      expect(logs.indexOf('bwprep listening')).toBeGreaterThan(logs.indexOf('Slack accepted the bot token'));
    } finally {
      await h.close();
    }
  });
});
