#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { t } from '../i18n';
import { type CliIo, cliLocale, runTemplateValidate } from './template';
import { wrap } from './text-renderer';

/**
 * The `bwprep` binary. Subcommands are loaded lazily, so `bwprep template validate` and `--help` work
 * even when the bot's own modules (Slack, store drivers) cannot load.
 */

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const COMMANDS: [string, string][] = [
  ['bwprep [serve]', 'serve'],
  ['bwprep check [--step ID] [--json] [--lang nl|en]', 'check'],
  ['bwprep template validate <file> [--lang nl|en]', 'template'],
  ['bwprep help | --help', 'help'],
  ['bwprep --version', 'version'],
];

export function usage(env: NodeJS.ProcessEnv): string {
  const locale = cliLocale(env);
  const tr = (key: string) => t(locale, key);
  return [
    tr('cli.usage.title'),
    '',
    tr('cli.usage.heading'),
    ...COMMANDS.flatMap(([cmd, key]) => [`  ${cmd}`, ...wrap(tr(`cli.usage.${key}`), 90).map((l) => `      ${l}`)]),
    '',
    ...wrap(tr('cli.usage.env'), 96),
  ].join('\n');
}

/**
 * Runs one invocation. Returns the exit code, or undefined when the process should keep running
 * (`serve`: the bot or the console decides when it ends).
 */
export async function runBin(argv: string[], io: CliIo): Promise<number | undefined> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'serve': {
      // Lazy: `import()` compiles to a require() at this point under CommonJS.
      const { main } = await import('../main');
      await main();
      return undefined;
    }
    case 'check': {
      const { runCheckCommand } = await import('./check');
      return runCheckCommand(rest, { env: io.env, stdout: io.stdout, stderr: io.stderr });
    }
    case 'template':
      if (rest[0] === 'validate') return runTemplateValidate(rest.slice(1), io);
      io.stderr(`${t(cliLocale(io.env), 'cli.template.usage')}\n`);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      io.stdout(`${usage(io.env)}\n`);
      return 0;
    case 'version':
    case '--version':
    case '-v':
      io.stdout(`bwprep ${version()}\n`);
      return 0;
    default:
      io.stderr(`${t(cliLocale(io.env), 'cli.unknown_command', { command: cmd })}\n\n${usage(io.env)}\n`);
      return 2;
  }
}

/** Masks token-shaped text in a message we print (a library error may echo a URL with a password). */
function scrubbed(text: string): string {
  try {
    const { scrub } = require('../logging/logger') as typeof import('../logging/logger');
    return scrub(text.replace(/\/\/([^:/@\s]+):[^@\s]+@/g, '//$1:***@'));
  } catch {
    return text;
  }
}

if (require.main === module) {
  const io: CliIo = {
    env: process.env,
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
  };
  runBin(process.argv.slice(2), io).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (err: unknown) => {
      const message = scrubbed(err instanceof Error ? err.message : String(err));
      process.stderr.write(`${t(cliLocale(process.env), 'cli.failed', { message })}\n`);
      if (err instanceof Error && err.stack && process.env.LOG_LEVEL === 'debug') process.stderr.write(`${err.stack}\n`);
      process.exitCode = 1;
    },
  );
}
