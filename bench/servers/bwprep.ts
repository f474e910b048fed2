/**
 * The real bwprep app for the ack benchmarks: startBwprep() with the real config schema, a real SQLite file
 * in a temp dir, and
 * - Slack over HTTP (Bolt HTTPReceiver on our HTTP server) against the fake Slack Web API at
 *   BENCH_SLACK_API_URL (ack.ts), and/or
 * - Teams (teams.ts) when BENCH_TEAMS_OPENID_URL is set: Bot Framework auth on, as in production
 *   (BENCH_MS_APP_ID / BENCH_MS_APP_PASSWORD), inbound tokens checked against the fake Bot Connector's
 *   published key (that OpenID metadata URL), outbound calls to the serviceUrl of each activity (the fake
 *   connector) with a token from the fake Entra ID token endpoint of the connector's process (bwprep gets it
 *   through @azure/identity, src/teams/identity.ts; the bare bot's is seeded, lib/bot-token.ts).
 * Logs at info level go to a file in the temp dir (as a deployment writes them to stdout; here not to the
 * terminal). Reports `ready` with its URL over IPC.
 */
import '../lib/links';
import { allocationProfile, loopProbe } from '../lib/loop-probe';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startBwprep } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import { createLogger } from '../../src/logging/logger';
import { configSecrets } from '../../src/main';
import { FAKE_BOT_TOKEN, FAKE_SIGNING_SECRET } from '../../test/helpers/slack-fixtures';
import { LOGIN_ORIGIN } from '../../test/fakes/microsoft-graph';
import { exitWithParent, toParent } from '../lib/child';

async function main() {
  const apiUrl = process.env.BENCH_SLACK_API_URL;
  const openIdMetadataUrl = process.env.BENCH_TEAMS_OPENID_URL;
  if (!apiUrl && !openIdMetadataUrl) throw new Error('neither BENCH_SLACK_API_URL nor BENCH_TEAMS_OPENID_URL is set');
  const appId = process.env.BENCH_MS_APP_ID ?? '';
  if (openIdMetadataUrl && (!appId || !process.env.BENCH_MS_APP_PASSWORD))
    throw new Error('Teams: BENCH_MS_APP_ID and BENCH_MS_APP_PASSWORD are required (auth stays on)');
  const dir = mkdtempSync(path.join(tmpdir(), 'bwprep-bench-'));
  const logFile = path.join(dir, 'bwprep.log');
  const config = loadConfig({
    ...(apiUrl ? { SLACK_BOT_TOKEN: FAKE_BOT_TOKEN, SLACK_SIGNING_SECRET: FAKE_SIGNING_SECRET, SLACK_API_URL: apiUrl } : {}),
    ...(openIdMetadataUrl ? { TEAMS_ENABLED: 'true', MICROSOFT_APP_ID: appId, MICROSOFT_APP_PASSWORD: process.env.BENCH_MS_APP_PASSWORD as string } : {}),
    BWPREP_STORE_URL: `sqlite://${path.join(dir, 'bwprep.sqlite')}`,
    BWPREP_LOCALE: 'en',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    // BENCH_WORK_THREAD=off: the A/B of the Slack work thread (bench/README.md, "The work thread").
    ...(process.env.BENCH_WORK_THREAD ? { BWPREP_SLACK_WORK_THREAD: process.env.BENCH_WORK_THREAD } : {}),
  });
  const destination = pino.destination({ dest: logFile, sync: false, mkdir: true });
  const logger = createLogger({ level: config.logLevel, destination, secrets: configSecrets(config) });
  // The scheduler's timer stays off: a run crossing the rollouts' 09:00 slot would post 16 digests in the
  // middle of the measurement. Digests are measured by digest.ts; start-up (startup.ts) runs it all.
  // bwprep's outbound Bot Connector token comes through @azure/identity (src/teams/identity.ts) from the
  // fake Entra ID of the connector's process (BENCH_TEAMS_LOGIN_ORIGIN), as in test/teams/harness.ts.
  const loginOrigin = process.env.BENCH_TEAMS_LOGIN_ORIGIN;
  const graphUrl = process.env.BENCH_TEAMS_GRAPH_URL;
  if (openIdMetadataUrl && (!loginOrigin || !graphUrl)) throw new Error('Teams: BENCH_TEAMS_LOGIN_ORIGIN and BENCH_TEAMS_GRAPH_URL are required');
  const teams = openIdMetadataUrl ? { openIdMetadataUrl, loginRoutes: { [LOGIN_ORIGIN]: loginOrigin as string }, graphUrl: graphUrl as string } : undefined;
  const app = await startBwprep(config, { logger, startScheduler: false, ...(teams ? { teams } : {}) });

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
  loopProbe('bwprep');
  allocationProfile('bwprep');
  toParent({ type: 'ready', url: app.url as string });
}

main().catch((e: unknown) => {
  toParent({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(1);
});
