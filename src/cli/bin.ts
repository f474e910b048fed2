#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/load';
import { StartupError } from '../config/errors';
import type { Locale } from '../core/checklist/model';
import { isLocale, t } from '../i18n';
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
  ['bwprep [serve] [--lang nl|en]', 'serve'],
  ['bwprep check [--step ID] [--json] [--lang nl|en]', 'check'],
  ['bwprep template validate <file> [--lang nl|en]', 'template'],
  ['bwprep help | --help [--lang nl|en]', 'help'],
  ['bwprep --version', 'version'],
];

/** The whole help text in one language: `--lang`, else BWPREP_LOCALE, else Dutch (see cliLocale). */
export function usage(env: NodeJS.ProcessEnv, lang?: string): string {
  const locale = cliLocale(env, lang);
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
 * Takes `--lang X` / `--lang=X` out of the arguments, wherever it stands (`bwprep --lang en --help`).
 * `lang` is '' when `--lang` has no value.
 */
export function takeLang(argv: readonly string[]): { lang?: string; rest: string[] } {
  const rest: string[] = [];
  let lang: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--lang') lang = argv[++i] ?? '';
    else if (a.startsWith('--lang=')) lang = a.slice('--lang='.length);
    else rest.push(a);
  }
  return { ...(lang !== undefined ? { lang } : {}), rest };
}

/**
 * The language of start-up messages (`bwprep serve`): `--lang`, else a valid BWPREP_LOCALE, else English,
 * the language of the settings and logs an operator reads.
 */
export function startupLocale(env: NodeJS.ProcessEnv, lang?: string): Locale {
  if (isLocale(lang)) return lang;
  const fromEnv = env.BWPREP_LOCALE?.trim();
  return isLocale(fromEnv) ? fromEnv : 'en';
}

const HELP = new Set(['help', '--help', '-h']);

/**
 * Runs one invocation. Returns the exit code, or undefined when the process should keep running
 * (`serve`: the bot or the console decides when it ends). A start-up failure (bad settings, a port in
 * use, a store that cannot be opened, a token Slack refuses) prints one message and returns 1.
 */
export async function runBin(argv: string[], io: CliIo): Promise<number | undefined> {
  const { lang, rest } = takeLang(argv);
  const locale = cliLocale(io.env, lang);
  const tr = (key: string, vars?: Record<string, string | number>) => t(locale, key, vars);
  const withLang = (args: string[]) => (lang !== undefined ? [...args, '--lang', lang] : args);
  const [cmd, ...args] = rest;
  if (lang !== undefined && !isLocale(lang) && cmd !== 'check') {
    io.stderr(`${tr('cli.bad_lang', { lang })}\n\n${usage(io.env)}\n`);
    return 2;
  }
  switch (cmd) {
    case undefined:
    case 'serve': {
      if (args.length) return unknownArgument(args[0] as string, io, lang);
      // Lazy: `import()` compiles to a require() at this point under CommonJS.
      const { main } = await import('../main');
      try {
        await main(io.env);
      } catch (err) {
        const message = startupMessage(err, startupLocale(io.env, lang));
        if (message === undefined) throw err;
        io.stderr(`${message}\n`);
        return 1;
      }
      return undefined;
    }
    case 'check': {
      const { runCheckCommand } = await import('./check');
      return runCheckCommand(withLang(args), { env: io.env, stdout: io.stdout, stderr: io.stderr });
    }
    case 'template':
      if (args[0] === 'validate' && args.slice(1).some((a) => HELP.has(a))) {
        io.stdout(`${tr('cli.template.usage')}\n`);
        return 0;
      }
      if (args[0] === 'validate') return runTemplateValidate(withLang(args.slice(1)), io);
      if (args.length === 0) {
        io.stderr(`${tr('cli.template.usage')}\n`);
        return 2;
      }
      if (HELP.has(args[0] as string)) {
        io.stdout(`${tr('cli.template.usage')}\n`);
        return 0;
      }
      io.stderr(`${tr('cli.template.unknown_subcommand', { command: args[0] as string })}\n${tr('cli.template.usage')}\n`);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      io.stdout(`${usage(io.env, lang)}\n`);
      return 0;
    case 'version':
    case '--version':
    case '-v':
      io.stdout(`bwprep ${version()}\n`);
      return 0;
    default:
      return unknownArgument(cmd, io, lang);
  }
}

/** "Unknown command" or "Unknown option", then the usage, all in one language; exit 2. */
function unknownArgument(arg: string, io: CliIo, lang: string | undefined): number {
  const locale = cliLocale(io.env, lang);
  const message = arg.startsWith('-') ? t(locale, 'cli.unknown_option', { option: arg }) : t(locale, 'cli.unknown_command', { command: arg });
  io.stderr(`${message}\n\n${usage(io.env, lang)}\n`);
  return 2;
}

/** The one message for a start-up failure bwprep knows (settings, port, store, Slack, template); else undefined. */
function startupMessage(err: unknown, locale: Locale): string | undefined {
  if (err instanceof ConfigError || err instanceof StartupError) return err.render(locale);
  return undefined;
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
  const serving = [undefined, 'serve'].includes(takeLang(process.argv.slice(2)).rest[0]);
  const exit = (code: number) => {
    process.exitCode = code;
    // A failed start may leave a library's timer or socket behind; the message is out, so end for sure.
    if (serving) setTimeout(() => process.exit(code), 500).unref();
  };
  runBin(process.argv.slice(2), io).then(
    (code) => {
      if (code !== undefined) exit(code);
    },
    (err: unknown) => {
      const message = scrubbed(err instanceof Error ? err.message : String(err));
      process.stderr.write(`${t(startupLocale(process.env, takeLang(process.argv.slice(2)).lang), 'cli.failed', { message })}\n`);
      if (err instanceof Error && err.stack && process.env.LOG_LEVEL === 'debug') process.stderr.write(`${err.stack}\n`);
      exit(1);
    },
  );
}
