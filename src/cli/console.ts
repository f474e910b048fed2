import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { executeCommand, type Reply } from '../commands/execute';
import { type Command, parseCommand } from '../commands/parse';
import type { Actor, ConversationRef, Locale, Message, Rollout, UserKey } from '../core/checklist/model';
import type { ChecklistService } from '../core/checklist/service';
import type { Template } from '../core/checklist/template';
import { isBwprepError } from '../core/errors';
import type { Clock } from '../core/ports';
import { t } from '../i18n';
import { scrub } from '../logging/logger';
import { buildChecklistView } from '../views/checklist';
import { buildHelpView, buildMineView } from '../views/text';
import { consoleUser, plain, renderChecklistText, renderHelpText, renderMineText, renderNoticeText, wrap } from './text-renderer';

export type DelegatedCommand = Extract<Command, { name: 'check' | 'digest' | 'setup' | 'export' }>;

export interface ConsoleDeps {
  service: ChecklistService;
  template: Template;
  clock: Clock;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** The person at the terminal, e.g. `cli:alice`. */
  user: UserKey;
  /** Language of the console's output (default: the rollout's language). `lang` changes both. */
  locale?: Locale;
  /**
   * Serves `check`, `digest`, `setup` and `export`, which need services beyond the checklist. Return the
   * text to print, or undefined when the command is not available here (the console then says so). The
   * rollout it gets carries the console's current language in `settings.locale`.
   */
  onCommand?: (cmd: DelegatedCommand, rollout: Rollout) => Promise<string | undefined>;
}

/** The console's one conversation: its rollout id is `cli:local:console`. */
export const CONSOLE_CONVERSATION: ConversationRef = { platform: 'cli', workspace: 'local', channel: 'console' };

const WIDTH = 100;
const QUIT = new Set(['quit', 'exit', 'q', ':q', 'afsluiten', 'stop']);
const CONSOLE_NAME = /^@?([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;

/** `@alice` or `cli:alice` → `cli:alice`; anything else is not a console user. */
export function resolveConsoleUser(token: string): UserKey | undefined {
  const s = token.trim();
  if (/^cli:[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s)) return s;
  if (!s.startsWith('@')) return undefined;
  const m = CONSOLE_NAME.exec(s);
  return m ? `cli:${m[1]}` : undefined;
}

/**
 * The terminal console (`bwprep` with no chat platform configured): a readline loop over the same command
 * grammar and ChecklistService as Slack, rendered as plain text. The person at the terminal is an admin
 * of the console's checklist (whoever runs it has the store anyway). Ends on `quit`, `exit` or end of
 * input; works with piped, non-TTY input.
 */
export async function runConsole(deps: ConsoleDeps): Promise<void> {
  const { service, template, clock, output } = deps;
  const actor: Actor = { user: deps.user, surface: 'console', name: consoleUser(deps.user), platformAdmin: true };
  const write = (text: string) => void output.write(`${text}\n`);

  let rollout = await service.ensureRollout(CONSOLE_CONVERSATION, actor);
  let locale: Locale = deps.locale ?? rollout.settings.locale;
  const tr = (key: string, vars?: Record<string, string | number>) => t(locale, key, vars);

  write(welcome(locale, deps.user));
  write('');
  write(renderChecklistText(buildChecklistView(template, rollout, clock.now(), locale)));

  const tty = Boolean((deps.input as { isTTY?: boolean }).isTTY);
  const rl = createInterface({ input: deps.input, ...(tty ? { output, terminal: true } : { terminal: false }), crlfDelay: Infinity });
  rl.on('SIGINT', () => rl.close());
  rl.setPrompt('bwprep> ');
  const prompt = () => {
    if (tty) rl.prompt();
  };
  prompt();

  for await (const raw of rl) {
    const line = raw.replace(/^\s*\/bwprep\b/i, '').trim();
    if (!line) {
      prompt();
      continue;
    }
    if (QUIT.has(line.toLowerCase())) break;
    try {
      rollout = (await service.get(rollout.id)) ?? (await service.ensureRollout(CONSOLE_CONVERSATION, actor));
      const cmd = parseCommand(line, { resolveUser: resolveConsoleUser });
      const reply = await executeCommand(service, rollout, cmd, actor);
      if (cmd.name === 'lang' && reply.kind === 'notice') locale = cmd.locale;
      write(await renderReply(reply));
    } catch (e) {
      write(renderError(e));
    }
    prompt();
  }
  rl.close();
  write(tr('console.bye'));

  async function renderReply(reply: Reply): Promise<string> {
    rollout = reply.rollout;
    switch (reply.kind) {
      case 'card':
        return renderChecklistText(buildChecklistView(template, reply.rollout, clock.now(), locale));
      case 'help':
        return renderHelpText(buildHelpView(locale), [tr('console.quit_usage')]);
      case 'mine':
        return renderMineText(buildMineView(template, reply.rollout, deps.user, locale));
      case 'notice': {
        const notice = renderNoticeText(locale, reply.notice, { kind: reply.changed ? 'ok' : 'info' });
        if (!reply.changed) return notice;
        // The living card of the console: after a change, where the rollout stands now.
        return `${notice}\n  ${plain(buildChecklistView(template, reply.rollout, clock.now(), locale).readinessLine)}`;
      }
      case 'delegate': {
        // The hook renders in the rollout's language; hand it the console's, so one session speaks one language.
        const view = { ...reply.rollout, settings: { ...reply.rollout.settings, locale } };
        // A terminal is one person's own conversation: linking it to a chat rollout makes no sense.
        if (reply.command.name === 'link' || reply.command.name === 'unlink') return renderNoticeText(locale, { key: 'console.delegate.link' }, { kind: 'info' });
        const text = deps.onCommand ? await deps.onCommand(reply.command, view) : undefined;
        return text ?? renderNoticeText(locale, { key: `console.delegate.${reply.command.name}` }, { kind: 'info' });
      }
    }
  }

  function renderError(e: unknown): string {
    if (isBwprepError(e)) {
      // The shared grammar's "not a Slack user" reads wrong here: in the console people are @names.
      const message: Message = e.userMessage.key === 'error.bad_user' ? { ...e.userMessage, key: 'console.bad_user' } : e.userMessage;
      return renderNoticeText(locale, message, { kind: 'error', ...(e.usage ? { usage: e.usage } : {}) });
    }
    const ref = randomUUID().slice(0, 8);
    const detail = e instanceof Error ? e.message : String(e);
    return `${renderNoticeText(locale, { key: 'error.internal', vars: { ref } }, { kind: 'error' })}\n  (${scrub(detail)})`;
  }
}

function welcome(locale: Locale, user: UserKey): string {
  const tr = (key: string, vars?: Record<string, string | number>) => plain(t(locale, key, vars));
  const para = (text: string) => wrap(text, WIDTH);
  const bullet = (text: string) => wrap(text, WIDTH - 4).map((l, i) => (i ? `    ${l}` : `  • ${l}`));
  const title = tr('console.title');
  return [
    title,
    '='.repeat(title.length),
    ...para(tr('console.no_platform')),
    ...para(tr('console.you_are', { user: consoleUser(user) })),
    '',
    ...para(tr('console.connect_title')),
    ...bullet(tr('console.connect_socket')),
    ...bullet(tr('console.connect_http')),
    '',
    ...para(tr('console.commands_hint')),
  ].join('\n');
}
