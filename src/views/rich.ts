import type { UserKey } from '../core/checklist/model';

/**
 * Structured text for view models: meaning, never markup. Every renderer (Block Kit mrkdwn, the terminal,
 * Adaptive Card markdown) formats these spans its own way, and escapes plain text exactly once.
 *
 * A `string` span is plain text exactly as a person typed or a locale file says it: `*412*` in a note is
 * four characters plus two asterisks, never bold.
 */
export type Inline =
  | string
  /** Emphasised label ("Readiness:"). */
  | { strong: Rich }
  /** Secondary text (a timestamp, "unassigned"). */
  | { em: Rich }
  /** Literal code or a value to copy (`BW_CLIENT_ID`, `/invite @bwprep`). */
  | { code: string }
  /** A bwprep command with its arguments, without the platform prefix: `done <step> [note]`. */
  | { command: string }
  /** A person, platform-qualified (`slack:U0BOB`, `teams:<aadObjectId>`, `cli:alice`). */
  | { user: UserKey }
  /** A chat conversation (a Slack channel, a Teams channel or chat). */
  | { conversation: { platform: string; channel: string; name?: string } }
  /** A link with its label. */
  | { link: string; label: Rich };

export type Rich = Inline[];

/** Tags a locale string may use (and nothing else): `<b>…</b>`, `<i>…</i>`, `<code>…</code>`, `<cmd>…</cmd>`. */
const TAGS = { b: 'strong', i: 'em', code: 'code', cmd: 'command' } as const;
type Tag = keyof typeof TAGS;
const TAG_RE = /<(\/?)(b|i|code|cmd)>/g;

/** Marker characters (Unicode private use) that stand in for a variable while a locale string is parsed. */
export const VAR_OPEN = '\uE000';
export const VAR_CLOSE = '\uE001';
const VAR_RE = /\uE000(\d+)\uE001/g;

/**
 * Parses a locale string with tags into spans; `vars[i]` replaces the marker `\uE000i\uE001`. Variables are
 * substituted after parsing, so user text in a variable can never open a tag. Unknown `<…>` text (such as
 * `<step>` in a usage line) is plain text. Unbalanced tags are treated as text too.
 */
export function parseTagged(s: string, vars: readonly Rich[] = []): Rich {
  const root: Rich = [];
  const stack: { tag: Tag; out: Rich }[] = [];
  const cur = () => stack[stack.length - 1]?.out ?? root;
  let last = 0;
  const pushText = (text: string) => {
    if (!text) return;
    const out = cur();
    let at = 0;
    for (const m of text.matchAll(VAR_RE)) {
      if (m.index > at) appendText(out, text.slice(at, m.index));
      for (const v of vars[Number(m[1])] ?? []) typeof v === 'string' ? appendText(out, v) : out.push(v);
      at = m.index + m[0].length;
    }
    if (at < text.length) appendText(out, text.slice(at));
  };
  for (const m of s.matchAll(TAG_RE)) {
    const closing = m[1] === '/';
    const tag = m[2] as Tag;
    if (!closing) {
      pushText(s.slice(last, m.index));
      stack.push({ tag, out: [] });
      last = m.index + m[0].length;
    } else if (stack.length && stack[stack.length - 1]!.tag === tag) {
      pushText(s.slice(last, m.index));
      const { out } = stack.pop()!;
      cur().push(wrap(tag, out));
      last = m.index + m[0].length;
    }
  }
  pushText(s.slice(last));
  // An unclosed tag: keep its content as plain text (with the tag dropped), never lose words.
  while (stack.length) {
    const { out } = stack.pop()!;
    for (const x of out) typeof x === 'string' ? appendText(cur(), x) : cur().push(x);
  }
  return root;
}

function wrap(tag: Tag, out: Rich): Inline {
  switch (TAGS[tag]) {
    case 'strong':
      return { strong: out };
    case 'em':
      return { em: out };
    case 'code':
      return { code: plainText(out) };
    case 'command':
      return { command: plainText(out) };
  }
}

function appendText(out: Rich, text: string): void {
  const prev = out[out.length - 1];
  if (typeof prev === 'string') out[out.length - 1] = prev + text;
  else out.push(text);
}

/** Joins rich pieces with a separator (plain text). */
export function joinRich(parts: readonly Rich[], sep: string): Rich {
  const out: Rich = [];
  parts.forEach((p, i) => {
    if (i) appendText(out, sep);
    for (const x of p) typeof x === 'string' ? appendText(out, x) : out.push(x);
  });
  return out;
}

/** Concatenates spans and rich pieces into one Rich. */
export function rich(...parts: (Inline | Rich | undefined | false)[]): Rich {
  const out: Rich = [];
  for (const p of parts) {
    if (p === undefined || p === false) continue;
    const list = Array.isArray(p) ? p : [p];
    for (const x of list) typeof x === 'string' ? appendText(out, x) : out.push(x);
  }
  return out;
}

export interface PlainOptions {
  /** How a person shows; default: the id without its platform (`slack:U0BOB` → `U0BOB`). */
  user?: (key: UserKey) => string;
  /** How a command shows; default: as typed in a terminal, bare (`done 2a`). */
  command?: (cmd: string) => string;
  /** How a conversation shows; default `#name`, else its id. */
  conversation?: (c: { platform: string; channel: string; name?: string }) => string;
}

/** The text a person reads, with no markup at all (terminal, file exports, notification fallbacks). */
export function plainText(r: Rich, o: PlainOptions = {}): string {
  let s = '';
  for (const x of r) {
    if (typeof x === 'string') s += x;
    else if ('strong' in x) s += plainText(x.strong, o);
    else if ('em' in x) s += plainText(x.em, o);
    else if ('code' in x) s += x.code;
    else if ('command' in x) s += o.command ? o.command(x.command) : x.command;
    else if ('user' in x) s += o.user ? o.user(x.user) : x.user.replace(/^[a-z]+:/, '');
    else if ('conversation' in x)
      s += o.conversation ? o.conversation(x.conversation) : x.conversation.name ? `#${x.conversation.name}` : x.conversation.channel;
    else if ('link' in x) {
      const label = plainText(x.label, o);
      s += label && label !== x.link ? `${label} (${x.link})` : x.link;
    }
  }
  return s;
}

/**
 * A person mentioned inside user text (a note, a skip reason). Stored platform-neutral as `<@` + UserKey + `>`
 * (`<@slack:U0BOB>`): each platform adapter rewrites its own mention syntax to this on the way in (Slack:
 * src/slack/text.ts), so the stored note stays plain text and every renderer can show the person its own way.
 */
const TEXT_MENTION_RE = /<@([a-z]+:[^\s<>|]+)>/g;

/** The stored form of a mention inside user text: `slack:U0BOB` → `<@slack:U0BOB>`. */
export function textMention(user: UserKey): string {
  return `<@${user}>`;
}

/** User text as spans: stored mentions become `{ user }` spans, the rest stays plain text. */
export function userText(text: string): Rich {
  const out: Rich = [];
  let at = 0;
  for (const m of text.matchAll(TEXT_MENTION_RE)) {
    if (m.index > at) appendText(out, text.slice(at, m.index));
    out.push({ user: m[1] as UserKey });
    at = m.index + m[0].length;
  }
  if (at < text.length) appendText(out, text.slice(at));
  return out;
}

/** User text for files and terminals: a stored mention shows as `@` + the person (default: their bare id). */
export function userTextPlain(text: string, formatUser: (key: UserKey) => string = (k) => k.replace(/^[a-z]+:/, '')): string {
  return text.replace(TEXT_MENTION_RE, (_m, key: string) => `@${formatUser(key)}`);
}
