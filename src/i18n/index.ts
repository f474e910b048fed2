import { readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type i18n } from 'i18next';
import { LOCALES, type Locale, type Message } from '../core/checklist/model';
import { type Inline, joinRich, parseTagged, plainText, type Rich, VAR_CLOSE, VAR_OPEN } from '../views/rich';

/** locales/ sits two levels above both src/i18n and dist/i18n. */
export const LOCALES_DIR = path.resolve(__dirname, '..', '..', 'locales');

export type Vars = Record<string, string | number | undefined>;
export type T = (key: string, vars?: Vars) => string;

let instance: i18n | undefined;

function load(): i18n {
  if (instance) return instance;
  const resources: Record<string, { translation: Record<string, unknown> }> = {};
  for (const l of LOCALES) {
    resources[l] = { translation: JSON.parse(readFileSync(path.join(LOCALES_DIR, `${l}.json`), 'utf8')) };
  }
  const inst = i18next.createInstance();
  // initAsync:false makes init synchronous with in-memory resources; its promise has settled when it returns.
  inst
    .init({
      resources,
      lng: 'en',
      fallbackLng: 'en',
      initAsync: false,
      interpolation: { escapeValue: false },
      returnNull: false,
      // No console output from a library: stdout belongs to the terminal console and to JSON logs.
      showSupportNotice: false,
    } as Parameters<typeof inst.init>[0])
    .catch((err: unknown) => process.emitWarning(`bwprep: the translations could not be loaded: ${String(err)}`));
  instance = inst;
  return inst;
}

export function isLocale(x: unknown): x is Locale {
  return typeof x === 'string' && (LOCALES as readonly string[]).includes(x);
}

/** Maps a platform locale (`nl-NL`, `en-GB`, `nl`) to a supported one, or undefined. */
export function toLocale(platformLocale: string | undefined | null): Locale | undefined {
  if (!platformLocale) return undefined;
  const base = platformLocale.toLowerCase().split(/[-_]/)[0];
  return isLocale(base) ? base : undefined;
}

/**
 * Rendered strings, per locale, keyed by key + vars. Cards, digests and reports render the same labels,
 * titles and states again and again, and an i18next lookup costs 10–20 µs (a card makes ~70); the
 * catalogues never change at run time, so a rendered string can be reused. Bounded: cleared when full.
 */
const rendered: Record<string, Map<string, string>> = {};
const RENDERED_MAX = 20_000;

function cacheKey(key: string, vars: Vars | undefined): string | undefined {
  if (!vars) return key;
  let k = key;
  for (const name in vars) {
    const v = vars[name];
    if (v !== undefined && typeof v !== 'string' && typeof v !== 'number') return undefined;
    // The type is part of the key: plurals treat 1 and "1" alike today, but the cache must not assume it.
    k += `\u0000${name}\u0001${v === undefined ? 'u' : typeof v === 'number' ? `n${v}` : `s${v}`}`;
  }
  return k;
}

function translator(locale: Locale): T {
  const fixed = load().getFixedT(locale);
  const cache = (rendered[locale] ??= new Map());
  return (key, vars) => {
    const k = cacheKey(key, vars);
    const hit = k === undefined ? undefined : cache.get(k);
    if (hit !== undefined) return hit;
    const out = fixed(key, vars as Record<string, unknown>) as unknown as string;
    if (k !== undefined) {
      if (cache.size >= RENDERED_MAX) cache.clear();
      cache.set(k, out);
    }
    return out;
  };
}

const translators: Partial<Record<Locale, T>> = {};

/**
 * The locale string with its tags and variables as they are (for `tr`, which parses them). Cached.
 */
function raw(locale: Locale, key: string, vars?: Vars): string {
  const fn = (translators[locale] ??= translator(locale));
  return fn(key, vars);
}

/**
 * A locale string as plain text: labels, titles, plain-text fields. A string with tags (`<b>`, `<cmd>` …)
 * loses them here (a command shows bare); use `tr` where the text is shown with formatting.
 */
export function t(locale: Locale, key: string, vars?: Vars): string {
  const s = raw(locale, key, vars);
  return s.includes('</') ? plainText(parseTagged(s)) : s;
}

/** Vars with these names hold UserKeys (`slack:U…`) and are shown as a person by each renderer. */
const USER_VARS = ['owner', 'user', 'by'] as const;

/** Vars with these names hold comma-separated UserKeys (`slack:U0ADA,slack:U0EVE`), shown as a list of people. */
const USER_LIST_VARS = ['admins'] as const;

/** Vars with these names hold YYYY-MM-DD dates, formatted in the reader's locale. */
const DATE_VARS = ['date', 'due', 'goLive'] as const;

/**
 * Vars with these names hold Bitwarden policy type numbers (`"0,3"`), shown as the policy names of the
 * reader's language ("Two-step login (0), Single organization (3)"). Stored check summaries keep numbers,
 * never names, so one stored message reads right in both languages. Messages stored by release 0.1.0 carry
 * `policies_en` / `policies_nl` instead; those are read as they are.
 */
const POLICY_LIST_VARS = ['policies'] as const;

/**
 * Vars with these names hold a nested message: the var is its key and `<name>.<var>` entries are its
 * variables (e.g. an endpoint error's reason). Rendered in the reader's language like the outer message.
 * Summaries of earlier builds with `<name>_en` / `<name>_nl` are read as they are.
 */
const MESSAGE_VARS = ['reason'] as const;

/** A variable of a rich message: plain text, a number (plurals), or structured spans. */
export type RichVar = string | number | undefined | Inline | Rich;
export type RichVars = Record<string, RichVar>;

/** "Single organization (3)"; an unknown number shows as "#23". */
export function policyName(locale: Locale, type: number): string {
  const key = `bw.policy.${type}`;
  return hasKey(locale, key) ? `${t(locale, key)} (${type})` : `#${type}`;
}

/**
 * A locale string as structured text: its tags (`<b>`, `<i>`, `<code>`, `<cmd>`) become spans and every
 * variable is substituted after parsing, so a variable's text (a user's note) is never read as markup.
 * Numbers pass through to i18next (plurals); user, date and policy vars become their typed spans.
 */
export function tr(locale: Locale, key: string, vars?: RichVars): Rich {
  if (!vars) return parseTagged(raw(locale, key));
  const spans: Rich[] = [];
  const iv: Vars = {};
  for (const name in vars) {
    const v = vars[name];
    if (v === undefined) continue;
    if (typeof v === 'number') {
      iv[name] = v;
      continue;
    }
    iv[name] = `${VAR_OPEN}${spans.length}${VAR_CLOSE}`;
    spans.push(varSpans(locale, name, v));
  }
  return parseTagged(raw(locale, key, iv), spans);
}

function varSpans(locale: Locale, name: string, v: string | Inline | Rich): Rich {
  if (Array.isArray(v)) return v;
  if (typeof v !== 'string') return [v];
  if ((USER_VARS as readonly string[]).includes(name) && v) return [{ user: v }];
  if ((USER_LIST_VARS as readonly string[]).includes(name)) {
    const people = v.split(',').filter(Boolean);
    return people.length
      ? joinRich(
          people.map((u) => [{ user: u }]),
          ', ',
        )
      : ['—'];
  }
  if ((DATE_VARS as readonly string[]).includes(name) && /^\d{4}-\d{2}-\d{2}$/.test(v)) return [formatDate(locale, v)];
  if ((POLICY_LIST_VARS as readonly string[]).includes(name) && /^\d+(,\d+)*$/.test(v)) {
    return [
      v
        .split(',')
        .map((n) => policyName(locale, Number(n)))
        .join(', '),
    ];
  }
  return [v];
}

/** A stored Message as structured text in a locale (see `tr`). */
export function renderRich(locale: Locale, m: Message): Rich {
  const vars: RichVars = { ...(m.vars ?? {}) };
  for (const name of MESSAGE_VARS) {
    const key = vars[name];
    if (typeof key !== 'string' || !hasKey(locale, key)) continue;
    const inner: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(m.vars ?? {})) {
      if (k.startsWith(`${name}.`)) {
        inner[k.slice(name.length + 1)] = v;
        delete vars[k];
      }
    }
    vars[name] = renderRich(locale, { key, vars: inner });
  }
  for (const name of MESSAGE_VARS) {
    const legacy = vars[`${name}_${locale}`];
    if (vars[name] === undefined && legacy !== undefined) vars[name] = legacy;
  }
  // Summaries stored by release 0.1.0 name the policies in both languages as separate variables.
  for (const name of POLICY_LIST_VARS) {
    const legacy = vars[`${name}_${locale}`];
    if (vars[name] === undefined && legacy !== undefined) vars[name] = legacy;
  }
  return tr(locale, m.key, vars);
}

/** A stored Message as plain text: people through `formatUser` (default: the bare platform id). */
export function render(locale: Locale, m: Message, formatUser: (key: string) => string = plainUser): string {
  return plainText(renderRich(locale, m), { user: formatUser });
}

/** `slack:U0BOB` → `U0BOB`: the fallback when no platform formatter is given. */
export function plainUser(key: string): string {
  const i = key.indexOf(':');
  return i >= 0 ? key.slice(i + 1) : key;
}

export function hasKey(locale: Locale, key: string): boolean {
  return load().exists(key, { lng: locale, fallbackLng: false } as never);
}

// ---- formatting -----------------------------------------------------------------------------

const BCP47: Record<Locale, string> = { en: 'en-GB', nl: 'nl-NL' };

// Intl formatters are costly to build; cards and digests format hundreds of values, so keep one per shape.
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function cached<F extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => F): F {
  let f = formatters.get(key) as F | undefined;
  if (!f) {
    f = make();
    formatters.set(key, f);
  }
  return f;
}

/** 4.5 → "4.5" (en) / "4,5" (nl); whole numbers without decimals. */
function formatNumber(locale: Locale, n: number): string {
  return cached(`n:${locale}`, () => new Intl.NumberFormat(BCP47[locale], { maximumFractionDigits: 2 })).format(n);
}

/** formatHours results by locale and number: a card shows an estimate per step, from a handful of values. */
const hoursText = new Map<string, string>();
const HOURS_TEXT_MAX = 1_000;

/** Hours with unit: "4.5 h" / "4,5 uur". Cached (Intl's format costs more than the rest of a step's line). */
export function formatHours(locale: Locale, n: number): string {
  const key = `${locale}:${n}`;
  let s = hoursText.get(key);
  if (s === undefined) {
    s = t(locale, 'format.hours', { hours: formatNumber(locale, n) });
    if (hoursText.size >= HOURS_TEXT_MAX) hoursText.clear();
    hoursText.set(key, s);
  }
  return s;
}

/** YYYY-MM-DD → "25 Nov 2026" / "25 nov. 2026"; long: "25 November 2026" / "25 november 2026". */
export function formatDate(locale: Locale, ymd: string, style: 'short' | 'long' = 'short'): string {
  const d = new Date(`${ymd}T12:00:00Z`);
  // An impossible date (2026-02-30) would roll over to another day: show it as typed instead.
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== ymd) return ymd;
  return cached(
    `d:${locale}:${style}`,
    () => new Intl.DateTimeFormat(BCP47[locale], { day: 'numeric', month: style === 'long' ? 'long' : 'short', year: 'numeric', timeZone: 'UTC' }),
  ).format(d);
}

/** An instant in a time zone: "25 Nov 2026, 09:00". */
export function formatDateTime(locale: Locale, iso: string, timeZone: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return cached(
    `dt:${locale}:${timeZone}`,
    () =>
      new Intl.DateTimeFormat(BCP47[locale], { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false, timeZone }),
  ).format(d);
}
