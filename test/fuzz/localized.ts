import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { Locale, Message } from '../../src/core/checklist/model';
import { isBwprepError } from '../../src/core/errors';
import { hasKey, LOCALES_DIR, render, t } from '../../src/i18n';

/** A message whose key exists in both locales and renders in both without throwing. */
export function expectLocalizedMessage(m: Message | undefined, what = 'message'): void {
  expect(m, what).toBeDefined();
  for (const locale of ['en', 'nl'] as const) {
    expect(hasKey(locale, m!.key), `${what} key ${m!.key} in ${locale}`).toBe(true);
    expect(render(locale, m!).length).toBeGreaterThan(0);
  }
}

/** What a refusal must be: a BwprepError with a localized message (and usage, when it has one). */
export function expectLocalizedRefusal(e: unknown): void {
  if (!isBwprepError(e)) throw new Error(`not a BwprepError: ${e instanceof Error ? e.stack : String(e)}`);
  expectLocalizedMessage(e.userMessage, `error ${e.code}`);
  if (e.usage) expectLocalizedMessage(e.usage, `usage of ${e.code}`);
}

/** Runs `fn`; returns its value, or checks that what it threw is a localized refusal (and returns undefined). */
export function refusesLocalized<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    expectLocalizedRefusal(e);
    return undefined;
  }
}

/**
 * Property-run settings: CPU is scarce. A seed from FC_SEED reproduces a failure. Under CI the seed is fixed
 * (a landing must not depend on the draw; new counterexamples are found by running the fuzz tests locally,
 * where every run draws a new seed); FC_SEED=random draws one under CI too. FC_RUNS_FACTOR multiplies every
 * property's run count (`npm run fuzz`: 20×, a fresh seed) for a deeper search than the suite's.
 */
const CI_SEED = 20261130;
const seed = (): number | undefined => {
  const s = process.env.FC_SEED;
  if (s && s !== 'random') return Number(s);
  return process.env.CI && s !== 'random' ? CI_SEED : undefined;
};
const factor = (): number => {
  const f = Number(process.env.FC_RUNS_FACTOR ?? 1);
  return Number.isFinite(f) && f > 0 ? f : 1;
};
/**
 * A property test's time limit, in ms, grown with FC_RUNS_FACTOR: a property cut off by the limit would go
 * on running beside the next one, whose checks would then see its traffic.
 */
export const FUZZ_TIMEOUT = (ms: number): number => Math.round(ms * Math.max(1, factor()));
export const RUNS = (n: number) => {
  const fixed = seed();
  return { numRuns: Math.max(1, Math.round(n * factor())), ...(fixed !== undefined ? { seed: fixed } : {}) };
};

/** Letters and digits only, lower case: what is left of a text once markup, escapes, icons and spacing are gone. */
const skeleton = (s: string): string =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');

interface Template {
  key: string;
  re: RegExp;
}

const catalogues: Partial<Record<Locale, Template[]>> = {};

/** A catalogue string as a pattern over skeletons: each variable matches anything, a <cmd> may gain its `@bwprep` prefix. */
function templateRe(s: string): RegExp | undefined {
  const parts = s.split(/\{\{[^}]*\}\}/).map((lit) =>
    lit
      .split('<cmd>')
      .map((p) => skeleton(p.replace(/<\/?(?:b|i|code|cmd)>/g, '')))
      .join('(?:bwprep)?'),
  );
  // Too little literal text to tell it from anything else ("{{hours}} h", "–"): never the whole of a refusal.
  if (skeleton(parts.join('')).replace(/bwprep/g, '').length < 4) return undefined;
  return new RegExp(`^${parts.join('.*')}$`, 's');
}

function catalogue(locale: Locale): Template[] {
  const cached = catalogues[locale];
  if (cached) return cached;
  const out: Template[] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'string') {
        const re = templateRe(v);
        if (re) out.push({ key: `${prefix}${k}`, re });
      } else if (v && typeof v === 'object') walk(v as Record<string, unknown>, `${prefix}${k}.`);
    }
  };
  walk(JSON.parse(readFileSync(path.join(LOCALES_DIR, `${locale}.json`), 'utf8')) as Record<string, unknown>, '');
  catalogues[locale] = out;
  return out;
}

/** The keys of `locale` whose strings, filled in, read as the skeleton `s` (a usage line is "Usage:" + a usage string). */
function matchKeys(locale: Locale, s: string): string[] {
  const all = catalogue(locale);
  const whole = all.filter((x) => x.re.test(s)).map((x) => x.key);
  if (whole.length) return whole;
  const prefix = skeleton(t(locale, 'error.usage_prefix'));
  if (s.startsWith(prefix)) return all.filter((x) => x.key.startsWith('usage.') && x.re.test(s.slice(prefix.length))).map((x) => `error.usage_prefix+${x.key}`);
  return [];
}

/** Notice tone icons of the Teams and Slack renderers (ℹ️ would read as the letter i once normalised). */
const TONE_ICON = /^\s*(?:✅|ℹ️|⚠️|⏳|💤|❌)\s*/u;

/**
 * Checks that `text`, a refusal or notice as a chat platform rendered it (Markdown, escapes, a tone icon, lines
 * separated by blank lines), is made of catalogue strings of `locale` with their variables filled in — not a raw
 * exception message, not an i18n key, not English for a Dutch reader. Without `locale` either language will do.
 * `alsoOther` lists keys that may legitimately come in the other language (a language switch answers in the new one).
 * Returns the matched keys, one list per line.
 */
export function expectLocalizedText(text: string, locale: Locale | undefined, what = 'text', alsoOther: readonly string[] = []): string[][] {
  const paragraphs = text.replace(TONE_ICON, '').split(/\n\n/);
  const found: string[][] = [];
  const locales: Locale[] = locale ? [locale] : ['en', 'nl'];
  for (let i = 0; i < paragraphs.length; i++) {
    let keys: string[] = [];
    // A variable (a reason the user typed) may itself hold a blank line: try the next paragraphs joined to this one.
    let j = i;
    for (; j < paragraphs.length && !keys.length; j++) {
      const s = skeleton(paragraphs.slice(i, j + 1).join('\n\n'));
      if (!s) {
        keys = ['(blank)'];
        break;
      }
      keys = locales.flatMap((l) => matchKeys(l, s));
      if (!keys.length && locale) keys = matchKeys(locale === 'en' ? 'nl' : 'en', s).filter((k) => alsoOther.includes(k));
    }
    if (!keys.length) throw new Error(`${what}: "${paragraphs[i]}" is not a ${locale ?? 'en or nl'} catalogue string (in ${JSON.stringify(text)})`);
    found.push(keys);
    i = Math.max(i, j - 1);
  }
  return found;
}
