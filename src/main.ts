import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import pino from 'pino';
import { type StartOptions, startBwprep } from './app';
import { type Config, loadConfig } from './config/load';
import { createLogger } from './logging/logger';

/** Every configured secret value, so the logger can mask it wherever it turns up. */
export function configSecrets(c: Config): string[] {
  return [
    c.slack?.botToken,
    c.slack?.signingSecret,
    c.slack?.appToken,
    c.teams?.appPassword,
    c.bitwarden.clientSecret,
    c.encryptionKey?.toString('hex'),
    c.encryptionKey?.toString('base64'),
  ].filter((s): s is string => Boolean(s));
}

/**
 * `bwprep` / `bwprep serve`: run the bot; with no chat platform configured, open the terminal console.
 * Throws a ConfigError (every wrong setting) or a StartupError (port in use, store unreachable, Slack
 * refused the token, invalid BWPREP_TEMPLATE) before anything is announced; the binary prints it as one
 * message (src/cli/bin.ts).
 */
/**
 * Runs bwprep from the environment until SIGTERM/SIGINT. `start` adds start-up options that have no
 * environment variable (the fault tests route Teams' Microsoft endpoints to local fakes with it).
 */
export async function main(env: NodeJS.ProcessEnv = process.env, start: Pick<StartOptions, 'teams'> = {}): Promise<void> {
  if (env === process.env && existsSync('.env')) process.loadEnvFile('.env');
  const config: Config = loadConfig(env);
  const consoleMode = !config.slack && !config.teams;
  // In the console, stdout belongs to the conversation: logs go to stderr and only warnings show.
  const logger = createLogger({
    level: consoleMode && config.logLevel === 'info' ? 'warn' : config.logLevel,
    secrets: configSecrets(config),
    ...(consoleMode ? { destination: pino.destination(2) } : {}),
  });
  const app = await startBwprep(config, { logger, ...start });

  if (consoleMode) {
    const { runConsole } = await import('./cli/console');
    await runConsole(app, { input: process.stdin, output: process.stdout, user: `cli:${safeUser()}` });
    await app.stop();
    return;
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Bound: new requests are refused at once; work in flight gets DRAIN_TIMEOUT_MS (7 s); past 10 s, exit 1.
    // Armed before anything that could throw (a log write to a closed stdout), so the bound always holds.
    const force = setTimeout(() => {
      try {
        logger.error({ signal }, 'shutdown took longer than 10 s; exiting anyway');
      } finally {
        process.exit(1);
      }
    }, 10_000);
    force.unref();
    try {
      logger.info({ signal }, 'shutting down');
      await app.stop();
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
    logger.info({ signal }, 'stopped');
    process.exit(0);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    shutdown(signal).catch((err: unknown) => {
      // shutdown() logs its own failures and exits 1; this is a throw before its guard (a log write to a closed stdout).
      process.stderr.write(`bwprep: shutdown on ${signal} failed: ${String(err)}\n`);
      process.exit(1);
    });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

function safeUser(): string {
  try {
    return userInfo().username.replace(/[^A-Za-z0-9._-]/g, '') || 'admin';
  } catch {
    return 'admin';
  }
}
