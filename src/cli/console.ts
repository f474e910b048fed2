import { createInterface } from 'node:readline';
import path from 'node:path';
import type { Bwprep } from '../app';
import type { Actor, Locale, UserKey } from '../core/checklist/model';
import { conversationKey } from '../core/checklist/model';
import type { SetupInput } from '../core/checklist/settings';
import { BwprepError } from '../core/errors';
import { t, tr } from '../i18n';
import type { Requester } from '../interactions/ports';
import { SCHEDULER_ACTOR, Scheduler } from '../scheduler/scheduler';
import { CONSOLE_CONVERSATION, ConsolePlatform } from './console-platform';
import { parseSetting, SetupInputError, settingOf } from './console-setup';
import { consoleUser, DEFAULT_WIDTH, hang, plain, renderNoticeLines, wrap } from './text-renderer';

export { CONSOLE_CONVERSATION } from './console-platform';

export interface ConsoleIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** The person at the terminal, e.g. `cli:alice`. */
  user: UserKey;
  /** Cells per line; default: the terminal's width (60–120) on a TTY, else 80. */
  width?: number;
  /** Where `export` writes (default `./data/exports`, git-ignored). */
  exportDir?: string;
}

const QUIT = new Set(['quit', 'exit', 'q', ':q', 'afsluiten', 'stop']);
const CONSOLE_NAME = /^@?([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;
const SETUP_CHANGE = /^(?:setup|instellingen)\s+(\S+)\s*(.*)$/i;

/** `@alice` or `cli:alice` → `cli:alice`; anything else is not a console user. */
export function resolveConsoleUser(token: string): UserKey | undefined {
  const s = token.trim();
  if (/^cli:[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s)) return s;
  if (!s.startsWith('@')) return undefined;
  const m = CONSOLE_NAME.exec(s);
  return m ? `cli:${m[1]}` : undefined;
}

/** True when the store keeps nothing after the process ends (`sqlite://:memory:`). */
export function isMemoryStore(storeUrl: string): boolean {
  return /^sqlite:\/\/:memory:/i.test(storeUrl.trim());
}

/**
 * The terminal console (`bwprep` with no chat platform configured): a thin adapter of the application
 * layer, like Slack. It registers the `cli` ChatPlatform (src/cli/console-platform.ts), sends every typed
 * line through `app.interactions.command`, and prints each reply. The person at the terminal is an admin
 * of the console's checklist (whoever runs it holds the store anyway). Everything prints in the rollout's
 * language (a terminal does not tell a person's own). Ends on `quit`, `exit` or end of input; works with
 * piped, non-TTY input.
 *
 * `digest` previews through a Scheduler that is never started (no chat platform means no scheduled
 * digests): the same code as Slack's preview, posting to the console.
 */
export async function runConsole(app: Bwprep, io: ConsoleIo): Promise<void> {
  const tty = Boolean((io.input as { isTTY?: boolean }).isTTY);
  const columns = (io.output as { columns?: number }).columns;
  const width = io.width ?? (tty && columns ? Math.max(60, Math.min(120, columns)) : DEFAULT_WIDTH);
  const write = (text: string) => void io.output.write(`${text}\n`);
  const rolloutId = conversationKey(CONSOLE_CONVERSATION);
  const locale = async (): Promise<Locale> => (await app.service.get(rolloutId))?.settings.locale ?? app.config.defaults.locale;
  const persistent = !isMemoryStore(app.config.storeUrl);

  const platform = new ConsolePlatform({ user: io.user, write, width, exportDir: io.exportDir ?? path.resolve('data', 'exports'), locale });
  app.platforms.register(platform);
  if (!app.scheduler) {
    // Checks that cannot run before a preview are explained in the digest itself; no warning on stderr.
    const log = app.logger.child({ component: 'scheduler' });
    app.interactions.setDigest(
      new Scheduler({
        store: app.store,
        service: app.service,
        template: app.template,
        clock: app.clock,
        platforms: app.platforms,
        logger: { debug: log.debug.bind(log), info: log.info.bind(log), warn: log.info.bind(log), error: log.error.bind(log) },
        reminders: false,
        verifierTimeoutMs: app.config.scheduler.checkTimeoutMs,
        ...(app.interactions.checks ? { verifier: (r) => app.interactions.checks!.runScheduled(r, SCHEDULER_ACTOR) } : {}),
      }),
    );
  }

  const actor: Actor = { user: io.user, surface: 'console', name: consoleUser(io.user), platformAdmin: true };
  const requester: Requester = {
    actor,
    scope: { platform: 'cli', workspace: CONSOLE_CONVERSATION.workspace },
    reply: (r) => platform.reply(r),
  };
  // The shared grammar's "pick the person from the list" is chat wording; in the console people are @names.
  const resolveUser = (token: string): UserKey => {
    const user = resolveConsoleUser(token);
    if (!user) throw new BwprepError('bad_user', { key: 'console.bad_user', vars: { value: token } }, { usage: { key: 'usage.assign' } });
    return user;
  };

  const rollout = await app.interactions.rolloutFor(CONSOLE_CONVERSATION, requester);
  write(welcome(rollout.settings.locale, io.user, persistent, width));
  const envHosting = app.config.bitwarden.hosting;
  if (rollout.settings.hosting !== envHosting) {
    const L = rollout.settings.locale;
    write(
      [
        '',
        ...wrap(plain(tr(L, 'console.hosting_differs', { hosting: t(L, `hosting.${rollout.settings.hosting}`), env: t(L, `hosting.${envHosting}`) })), width),
      ].join('\n'),
    );
  }
  write('');
  await run('status');

  const rl = createInterface({ input: io.input, ...(tty ? { output: io.output, terminal: true } : { terminal: false }), crlfDelay: Infinity });
  rl.on('SIGINT', () => rl.close());
  rl.setPrompt('bwprep> ');
  const prompt = () => {
    if (tty) rl.prompt();
  };
  // `setup api-key <client_id>` alone asks for the secret on the next line, not echoed on a terminal.
  let secretFor: string | undefined;
  const rlEcho = rl as unknown as { _writeToOutput?: (s: string) => void };
  const echo = rlEcho._writeToOutput;
  const hideInput = (hide: boolean) => {
    if (tty && typeof echo === 'function') rlEcho._writeToOutput = hide ? () => undefined : echo;
  };
  prompt();
  for await (const raw of rl) {
    if (secretFor !== undefined) {
      const clientId = secretFor;
      secretFor = undefined;
      hideInput(false);
      if (tty) io.output.write('\n');
      await submit({ clientId, clientSecret: raw.trim() });
      platform.flushCard();
      prompt();
      continue;
    }
    const line = raw.replace(/^\s*\/bwprep\b/i, '').trim();
    if (line && QUIT.has(line.toLowerCase())) break;
    if (line) await run(line);
    if (secretFor !== undefined) {
      hideInput(true);
      io.output.write(`${t(await locale(), 'console.setup.secret_prompt')} `);
      continue;
    }
    prompt();
  }
  rl.close();
  const L = await locale();
  write(wrap(t(L, persistent ? 'console.bye' : 'console.bye_not_kept'), width).join('\n'));

  /** One typed line: `setup <name> <value>` changes a setting; everything else is a chat command. */
  async function run(line: string): Promise<void> {
    const change = SETUP_CHANGE.exec(line);
    if (change) await changeSetting(change[1]!, change[2]!.split(/\s+/).filter(Boolean));
    else await app.interactions.command(CONSOLE_CONVERSATION, requester, line, resolveUser);
    platform.flushCard();
  }

  /** `setup <name> <value>`: the same validation and save as the setup modal (Interactions.submitSetup). */
  async function changeSetting(name: string, args: string[]): Promise<void> {
    const L = await locale();
    const warn = (lines: string[]) => write(renderNoticeLines('warn', lines, { width }));
    let input: SetupInput;
    try {
      input = parseSetting(name, args, resolveConsoleUser);
    } catch (e) {
      if (!(e instanceof SetupInputError)) throw e;
      const lines = [plain(tr(L, e.userMessage.key, e.userMessage.vars))];
      if (e.setting) lines.push(`${t(L, 'error.usage_prefix')} setup ${e.setting} ${t(L, `console.setup.form.${e.setting}`)}`);
      else lines.push(`${t(L, 'error.usage_prefix')} ${t(L, 'console.setup.usage')}`);
      warn(lines);
      return;
    }
    if (input.clientId && !input.clientSecret) {
      secretFor = input.clientId;
      return;
    }
    await submit(input);
  }

  async function submit(input: SetupInput): Promise<void> {
    const L = await locale();
    const warn = (lines: string[]) => write(renderNoticeLines('warn', lines, { width }));
    const outcome = await app.interactions.submitSetup(requester, rolloutId, input);
    if (outcome.ok) {
      await outcome.save();
      return;
    }
    for (const [field, message] of Object.entries(outcome.errors)) {
      const setting = settingOf(field as keyof SetupInput);
      warn([`${setting}: ${plain(message)}`, `${t(L, 'error.usage_prefix')} setup ${setting} ${t(L, `console.setup.form.${setting}`)}`]);
    }
  }
}

function welcome(locale: Locale, user: UserKey, persistent: boolean, width: number): string {
  const tr = (key: string, vars?: Record<string, string | number>) => t(locale, key, vars);
  const para = (text: string) => wrap(text, width);
  const bullet = (text: string) => hang(text, width, '  • ', '    ');
  const title = tr('console.title');
  return [
    title,
    '='.repeat(title.length),
    ...para(tr('console.no_platform')),
    ...para(tr(persistent ? 'console.kept' : 'console.not_kept')),
    ...para(tr('console.you_are', { user: consoleUser(user) })),
    '',
    ...para(tr('console.connect_title')),
    ...bullet(tr('console.connect_socket')),
    ...bullet(tr('console.connect_http')),
    '',
    ...para(tr('console.commands_hint')),
  ].join('\n');
}
