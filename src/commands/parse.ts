import type { Locale, UserKey } from '../core/checklist/model';
import { BwprepError } from '../core/errors';

/** The command grammar of DESIGN §4, shared by Slack, Teams and the terminal console. */
export type Command =
  | { name: 'help' }
  | { name: 'status' }
  | { name: 'mine' }
  | { name: 'assign'; step: string; user: UserKey }
  | { name: 'unassign'; step: string }
  | { name: 'done'; step: string; note?: string }
  | { name: 'reopen'; step: string }
  | { name: 'skip'; step: string; reason: string }
  | { name: 'due'; step: string; date: string | null }
  | { name: 'check'; step?: string }
  | { name: 'digest' }
  | { name: 'setup' }
  | { name: 'lang'; locale: Locale }
  | { name: 'export'; format: 'csv' | 'md' | 'json' }
  /** Without a code: ask for a one-time code (admins). With a code: bind this conversation to that rollout. */
  | { name: 'link'; code?: string }
  | { name: 'unlink' };

export const COMMAND_NAMES = [
  'help',
  'status',
  'mine',
  'assign',
  'unassign',
  'done',
  'reopen',
  'skip',
  'due',
  'check',
  'digest',
  'setup',
  'lang',
  'export',
  'link',
  'unlink',
] as const;

/**
 * Dutch aliases a Dutch-speaking admin might type, in the forms people use: the infinitive, the
 * imperative and the participle (`heropenen`, `heropen`). The canonical names stay English (as in the
 * manifest). The Dutch help lists them beside each command (usage.* in locales/nl.json); a test keeps the
 * two in step.
 */
export const ALIASES: Record<string, (typeof COMMAND_NAMES)[number]> = {
  hulp: 'help',
  '?': 'help',
  lijst: 'status',
  list: 'status',
  mijn: 'mine',
  toewijzen: 'assign',
  eigenaar: 'assign',
  vrijgeven: 'unassign',
  klaar: 'done',
  afronden: 'done',
  afgerond: 'done',
  gedaan: 'done',
  heropen: 'reopen',
  heropenen: 'reopen',
  overslaan: 'skip',
  deadline: 'due',
  vervaldatum: 'due',
  controleer: 'check',
  controleren: 'check',
  controle: 'check',
  overzicht: 'digest',
  instellingen: 'setup',
  instellen: 'setup',
  taal: 'lang',
  language: 'lang',
  exporteer: 'export',
  exporteren: 'export',
  koppel: 'link',
  koppelen: 'link',
  ontkoppel: 'unlink',
  ontkoppelen: 'unlink',
};

/** A link code as people type it: 6–12 of A–Z, 0–9 and '-', case-insensitive. */
const LINK_CODE_RE = /^[A-Z0-9-]{6,12}$/;

export interface ParseContext {
  /** Turns a platform mention token (`<@U123|bob>`, `<at>Bob</at>`) into a UserKey, or undefined. */
  resolveUser(token: string): UserKey | undefined;
}

const usage = (name: string) => ({ key: `usage.${name}` });

function needStep(name: string, step: string | undefined): string {
  if (!step) throw new BwprepError('bad_usage', { key: 'error.missing_step' }, { usage: usage(name) });
  return step;
}

/** The command a word names (its canonical name or a Dutch alias, any case), or undefined. */
export function commandName(word: string): (typeof COMMAND_NAMES)[number] | undefined {
  const w = word.toLowerCase();
  if ((COMMAND_NAMES as readonly string[]).includes(w)) return w as (typeof COMMAND_NAMES)[number];
  // Own properties only: `__proto__` or `constructor` would read Object.prototype's (found by fuzzing).
  return Object.hasOwn(ALIASES, w) ? ALIASES[w] : undefined;
}

/**
 * Parses the text after `/bwprep` (or after the Teams mention). Empty text means `status`.
 * Throws BwprepError with a `usage` hint on anything malformed.
 */
export function parseCommand(text: string, ctx: ParseContext): Command {
  const trimmed = text.replace(/\u00a0/g, ' ').trim();
  if (!trimmed) return { name: 'status' };
  // Stryker disable next-line StringLiteral: equivalent — splitting a non-empty trimmed string always yields a first word
  const [head = '', ...rest] = trimmed.split(/\s+/);
  const name = commandName(head);
  if (!name) throw new BwprepError('unknown_command', { key: 'error.unknown_command', vars: { command: head } }, { usage: { key: 'usage.help' } });
  const args = rest;
  const tail = (from: number) => args.slice(from).join(' ');
  switch (name) {
    case 'help':
    case 'status':
    case 'mine':
    case 'digest':
    case 'setup':
    case 'unlink':
      return { name };
    case 'link': {
      if (!args[0]) return { name };
      const code = args[0].toUpperCase();
      if (!LINK_CODE_RE.test(code)) throw new BwprepError('bad_usage', { key: 'error.bad_link_code', vars: { value: args[0] } }, { usage: usage(name) });
      return { name, code };
    }
    case 'assign': {
      const step = needStep(name, args[0]);
      const who = tail(1);
      if (!who) throw new BwprepError('bad_usage', { key: 'error.missing_user' }, { usage: usage(name) });
      const user = ctx.resolveUser(who);
      if (!user) throw new BwprepError('bad_user', { key: 'error.bad_user', vars: { value: who } }, { usage: usage(name) });
      return { name, step, user };
    }
    case 'unassign':
    case 'reopen':
      return { name, step: needStep(name, args[0]) };
    case 'done': {
      const note = tail(1);
      return { name, step: needStep(name, args[0]), ...(note ? { note: note.slice(0, 500) } : {}) };
    }
    case 'skip': {
      const step = needStep(name, args[0]);
      const reason = tail(1);
      if (!reason) throw new BwprepError('bad_usage', { key: 'error.skip_reason' }, { usage: usage(name) });
      return { name, step, reason: reason.slice(0, 500) };
    }
    case 'due': {
      const step = needStep(name, args[0]);
      const date = args[1];
      if (!date) throw new BwprepError('bad_usage', { key: 'error.missing_date' }, { usage: usage(name) });
      if (['none', 'clear', 'geen', '-'].includes(date.toLowerCase())) return { name, step, date: null };
      return { name, step, date };
    }
    case 'check':
      return args[0] ? { name, step: args[0] } : { name };
    case 'lang': {
      const raw = args[0];
      // Without an argument: say which languages there are, not '"" is not a language'.
      if (!raw) throw new BwprepError('bad_usage', { key: 'error.missing_locale' }, { usage: usage(name) });
      const l = raw.toLowerCase();
      if (l !== 'nl' && l !== 'en') throw new BwprepError('bad_usage', { key: 'error.bad_locale', vars: { value: raw } }, { usage: usage(name) });
      return { name, locale: l };
    }
    case 'export': {
      const raw = args[0] ?? 'md';
      const f = raw.toLowerCase();
      if (f !== 'csv' && f !== 'md' && f !== 'json')
        throw new BwprepError('bad_usage', { key: 'error.bad_export', vars: { value: raw } }, { usage: usage(name) });
      return { name, format: f };
    }
  }
}
