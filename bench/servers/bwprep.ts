/**
 * The real bwprep app for the ack benchmark: startBwprep() with the real config schema, a real SQLite file
 * in a temp dir, Slack over HTTP (Bolt HTTPReceiver on our HTTP server) and the fake Slack Web API at
 * BENCH_SLACK_API_URL. Logs at info level go to a file in the temp dir (as a deployment writes them to
 * stdout; here not to the terminal). Reports `ready` with its URL over IPC.
 */
import '../lib/links';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startBwprep } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import { createLogger } from '../../src/logging/logger';
import { configSecrets } from '../../src/main';
import { FAKE_BOT_TOKEN, FAKE_SIGNING_SECRET } from '../../test/helpers/slack-fixtures';
import { exitWithParent, toParent } from '../lib/child';

async function main() {
  const apiUrl = process.env.BENCH_SLACK_API_URL;
  if (!apiUrl) throw new Error('BENCH_SLACK_API_URL is not set');
  const dir = mkdtempSync(path.join(tmpdir(), 'bwprep-bench-'));
  const logFile = path.join(dir, 'bwprep.log');
  const config = loadConfig({
    SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
    SLACK_SIGNING_SECRET: FAKE_SIGNING_SECRET,
    SLACK_API_URL: apiUrl,
    BWPREP_STORE_URL: `sqlite://${path.join(dir, 'bwprep.sqlite')}`,
    BWPREP_LOCALE: 'en',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  });
  const destination = pino.destination({ dest: logFile, sync: false, mkdir: true });
  const logger = createLogger({ level: config.logLevel, destination, secrets: configSecrets(config) });
  // The scheduler's timer stays off: a run crossing the rollouts' 09:00 slot would post 16 digests in the
  // middle of the measurement. Digests are measured by digest.ts; start-up (startup.ts) runs it all.
  const app = await startBwprep(config, { logger, startScheduler: false });

  const logStats = () => {
    destination.flushSync();
    const counts: Record<string, number> = {};
    const samples: string[] = [];
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line) continue;
      const m = /"level":"(\w+)"/.exec(line);
      const level = m?.[1] ?? 'unknown';
      counts[level] = (counts[level] ?? 0) + 1;
      if ((level === 'error' || level === 'warn') && samples.length < 5) samples.push(line.slice(0, 400));
    }
    return { counts, samples };
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stats') toParent({ type: 'stats', logs: logStats() });
  });
  exitWithParent(async () => {
    await app.stop();
    destination.flushSync();
    rmSync(dir, { recursive: true, force: true });
  });
  toParent({ type: 'ready', url: app.url as string });
}

main().catch((e: unknown) => {
  toParent({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(1);
});
