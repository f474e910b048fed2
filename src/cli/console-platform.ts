import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConversationRef, Locale, MessageRef, UserKey } from '../core/checklist/model';
import type { PostedDigest } from '../core/digest/ports';
import { t, tr } from '../i18n';
import type { ChatPlatform, DirectMessage, ExportFile, Reply, UserProfile } from '../interactions/ports';
import type { CheckReportView } from '../views/check-report';
import type { ChecklistView } from '../views/checklist';
import type { DigestView } from '../views/digest';
import { renderSetupText } from './console-setup';
import {
  consoleUser,
  hang,
  plain,
  renderCheckReportText,
  renderChecklistText,
  renderDigestText,
  renderHelpText,
  renderMineText,
  renderNoticeLines,
  renderReminderText,
} from './text-renderer';

/** The console's one conversation: its rollout id is `cli:local:console`. */
export const CONSOLE_CONVERSATION: ConversationRef = { platform: 'cli', workspace: 'local', channel: 'console' };

export interface ConsoleTerminal {
  /** The person at the terminal, `cli:<os user>`. */
  user: UserKey;
  /** Prints a block of text (a newline is added). */
  write(text: string): void;
  /** Cells per line. */
  width: number;
  /** Where `export` writes its files (default `./data/exports`). */
  exportDir: string;
  /** The language of the console's conversation now (the rollout's). */
  locale(): Promise<Locale>;
}

/**
 * The terminal console as a chat platform (the application layer's ports, src/interactions/ports.ts): the
 * "conversation" is the terminal, so posting the card prints the checklist table, the digest and the
 * check report print, and DMs to the person at the terminal print (nobody else can be reached here).
 *
 * A card update prints nothing at once: the console keeps the newest view and, once the command is done,
 * `flushCard()` prints its readiness line under the command's answer when it moved. `checking…` prints
 * at once (a check can take seconds).
 */
export class ConsolePlatform implements ChatPlatform {
  readonly id = 'cli' as const;
  private seq = 0;
  private pending: ChecklistView | undefined;
  /** The readiness line the person last saw, so an unchanged one is not printed again. */
  private shown: string | undefined;

  constructor(private readonly term: ConsoleTerminal) {}

  readonly directory = {
    profile: async (user: UserKey): Promise<UserProfile> => {
      // Console people are names typed after @; the person at the terminal is its admin (they hold the store).
      if (!user.startsWith('cli:')) return { user, exists: false, missing: 'unknown', platformAdmin: false };
      return { user, exists: true, name: consoleUser(user), platformAdmin: user === this.term.user };
    },
  };

  readonly cards = {
    post: async (_c: ConversationRef, view: ChecklistView): Promise<MessageRef> => {
      this.pending = undefined;
      this.shown = plain(view.readinessLine);
      this.term.write(renderChecklistText(view, { width: this.term.width }));
      return { platform: 'cli', channel: 'console', ts: `${Date.now()}.${++this.seq}` };
    },
    update: async (_ref: MessageRef, view: ChecklistView, opts: { checking?: boolean } = {}): Promise<void> => {
      if (opts.checking) this.term.write(renderNoticeLines('wait', [t(view.locale, 'card.checking')], { width: this.term.width }));
      else this.pending = view;
    },
    // A printed table cannot be changed; there is nothing to retire.
    retire: async (_ref: MessageRef, _locale: Locale): Promise<void> => undefined,
  };

  readonly publisher = {
    postDigest: async (_c: ConversationRef, view: DigestView): Promise<PostedDigest> => {
      this.term.write(renderDigestText(view, { width: this.term.width }));
      return { ref: { platform: 'cli', channel: 'console', ts: `${Date.now()}.${++this.seq}` } };
    },
    postCheckReport: async (_c: ConversationRef, view: CheckReportView): Promise<void> => {
      this.term.write(renderCheckReportText(view, { width: this.term.width }));
    },
  };

  readonly notifier = {
    send: async (user: UserKey, message: DirectMessage): Promise<boolean> => {
      if (user !== this.term.user) return false;
      const width = this.term.width;
      const body =
        message.kind === 'notice'
          ? message.lines.flatMap((l) => hang(plain(l), width, '  ')).join('\n')
          : message.kind === 'check_report'
            ? renderCheckReportText(message.view, { width })
            : renderReminderText(message.view, { width });
      this.term.write(`✉ ${t(await this.term.locale(), 'console.dm')}\n${body}`);
      return true;
    },
  };

  /** The readiness line of the card after the command's changes, when it moved (once per command). */
  flushCard(): void {
    const view = this.pending;
    this.pending = undefined;
    const line = view && plain(view.readinessLine);
    if (!line || line === this.shown) return;
    this.shown = line;
    this.term.write(hang(line, this.term.width, '  ').join('\n'));
  }

  /** What the person at the terminal alone sees: every Reply kind as text. */
  async reply(reply: Reply): Promise<void> {
    const width = this.term.width;
    switch (reply.kind) {
      case 'notice':
        this.term.write(renderNoticeLines(reply.tone, reply.lines, { width }));
        return;
      case 'help': {
        const locale = await this.term.locale();
        // The console's own words: its setup line replaces the chat one, and it has no card buttons.
        const view = {
          ...reply.view,
          intro: tr(locale, 'console.help_intro'),
          lines: reply.view.lines.filter((l) => !l.some((x) => typeof x === 'object' && 'command' in x && x.command === 'setup')),
        };
        this.term.write(renderHelpText(view, [tr(locale, 'console.setup.usage'), tr(locale, 'console.quit_usage')], width));
        return;
      }
      case 'mine': {
        const locale = await this.term.locale();
        this.term.write(renderMineText(reply.view.empty ? { ...reply.view, empty: t(locale, 'console.mine_none') } : reply.view, width));
        return;
      }
      case 'check_report':
        this.term.write(renderCheckReportText(reply.view, { width }));
        return;
      case 'setup':
        this.term.write(renderSetupText(reply.form, { width }));
        return;
      case 'file': {
        const file = this.save(reply.file);
        const shown = path.relative(process.cwd(), file);
        const where = shown && !shown.startsWith('..') && !path.isAbsolute(shown) ? shown : file;
        const locale = await this.term.locale();
        this.term.write(renderNoticeLines('ok', [reply.file.comment, t(locale, 'console.exported', { file: where })], { width }));
        return;
      }
    }
  }

  /** Writes an export under the export folder; an earlier file of the same name is kept (`-2`, `-3`…). */
  private save(file: ExportFile): string {
    mkdirSync(this.term.exportDir, { recursive: true });
    const ext = path.extname(file.filename);
    const base = file.filename.slice(0, file.filename.length - ext.length);
    let target = path.join(this.term.exportDir, file.filename);
    for (let n = 2; existsSync(target); n++) target = path.join(this.term.exportDir, `${base}-${n}${ext}`);
    writeFileSync(target, file.content, { flag: 'wx' });
    return path.resolve(target);
  }
}
