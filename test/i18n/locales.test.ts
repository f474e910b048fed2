import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * locales/en.json and locales/nl.json must stay in step: same keys, same {{placeholders}} per key,
 * no empty strings, complete i18next (JSON v4) plural pairs. Keys are added with
 * `node scripts/i18n-add.js fragment.json`, never by hand.
 */
const root = path.resolve(__dirname, '..', '..');
const LANGS = ['en', 'nl'] as const;
/** CLDR plural categories of English and Dutch (cardinal): one, other. i18next also knows _zero. */
const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;
const ALLOWED_PLURALS = new Set(['zero', 'one', 'other']);

type Flat = Map<string, unknown>;

function flatten(obj: unknown, prefix = '', out: Flat = new Map()): Flat {
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, obj);
  return out;
}

const raw = Object.fromEntries(LANGS.map((l) => [l, readFileSync(path.join(root, 'locales', `${l}.json`), 'utf8')])) as Record<(typeof LANGS)[number], string>;
const flat = Object.fromEntries(LANGS.map((l) => [l, flatten(JSON.parse(raw[l]))])) as Record<(typeof LANGS)[number], Flat>;
const en = flat.en;
const nl = flat.nl;

/**
 * Interpolation names: {{name}}, {{- name}} (unescaped), {{value, format}} → value. A variable suffixed
 * with the file's own language (`{{policies_en}}` in en.json, `{{policies_nl}}` in nl.json: the caller
 * passes one per language) counts as the same placeholder `policies_<lang>`.
 */
function placeholders(s: string, lang: string): string[] {
  const names = new Set<string>();
  for (const m of s.matchAll(/\{\{\s*-?\s*([^},\s]+)\s*(?:,[^}]*)?\}\}/g)) {
    const name = m[1] as string;
    names.add(name.endsWith(`_${lang}`) ? `${name.slice(0, -lang.length)}<lang>` : name);
  }
  return [...names].sort();
}

/** Nesting references: $t(key) or $t(key, {...}). */
function nestings(s: string): string[] {
  return [...s.matchAll(/\$t\(\s*([^,)\s]+)/g)].map((m) => m[1] as string);
}

const resolves = (dict: Flat, key: string) => dict.has(key) || dict.has(`${key}_one`) || dict.has(`${key}_other`);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('locales', () => {
  it('both files are objects of strings (nested), with unique keys per object', () => {
    for (const l of LANGS) {
      for (const [key, value] of flat[l]) expect(typeof value, `${l}: ${key}`).toBe('string');
      // JSON.parse keeps the last of two equal keys silently; the merge script never writes duplicates,
      // but a hand edit could. Compare the number of "key": occurrences with the flattened count.
      const keyCount = [...raw[l].matchAll(/^\s*"[^"]+"\s*:/gm)].length;
      const objectCount = [...raw[l].matchAll(/^\s*"[^"]+"\s*:\s*\{/gm)].length;
      expect(keyCount - objectCount, `${l}: duplicate keys`).toBe(flat[l].size);
    }
  });

  it('en and nl have the same keys', () => {
    const onlyEn = [...en.keys()].filter((k) => !nl.has(k));
    const onlyNl = [...nl.keys()].filter((k) => !en.has(k));
    expect({ onlyEn, onlyNl }).toEqual({ onlyEn: [], onlyNl: [] });
  });

  it('every key has the same {{placeholders}} in both languages', () => {
    const diffs: string[] = [];
    for (const [key, value] of en) {
      const other = nl.get(key);
      if (typeof value !== 'string' || typeof other !== 'string') continue;
      const a = placeholders(value, 'en').join(',');
      const b = placeholders(other, 'nl').join(',');
      if (a !== b) diffs.push(`${key}: en {${a}} ≠ nl {${b}}`);
    }
    expect(diffs).toEqual([]);
  });

  it('has no empty or whitespace-only strings and no broken {{ }} pairs', () => {
    const bad: string[] = [];
    for (const l of LANGS) {
      for (const [key, value] of flat[l]) {
        if (typeof value !== 'string') continue;
        if (value.trim() === '') bad.push(`${l}: ${key} is empty`);
        if ((value.match(/\{\{/g) ?? []).length !== (value.match(/\}\}/g) ?? []).length) bad.push(`${l}: ${key} has unbalanced {{ }}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('plural keys come in complete i18next v4 pairs (_one and _other) in both languages', () => {
    const bad: string[] = [];
    for (const l of LANGS) {
      const bases = new Map<string, Set<string>>();
      for (const key of flat[l].keys()) {
        if (/_plural$/.test(key)) bad.push(`${l}: ${key} uses the old _plural suffix; use _one/_other`);
        const m = PLURAL_SUFFIX.exec(key);
        if (!m) continue;
        const base = key.slice(0, -m[0].length);
        const set = bases.get(base) ?? new Set<string>();
        set.add(m[1] as string);
        bases.set(base, set);
      }
      for (const [base, forms] of bases) {
        for (const f of forms) if (!ALLOWED_PLURALS.has(f)) bad.push(`${l}: ${base}_${f} is not a plural form of ${l}`);
        if (!forms.has('one') || !forms.has('other')) bad.push(`${l}: ${base} needs both _one and _other (has ${[...forms].join(', ')})`);
        if (flat[l].has(base)) bad.push(`${l}: ${base} exists both bare and with plural suffixes`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('$t() nestings point at existing keys', () => {
    const bad: string[] = [];
    for (const l of LANGS)
      for (const [key, value] of flat[l])
        if (typeof value === 'string') for (const ref of nestings(value)) if (!resolves(flat[l], ref)) bad.push(`${l}: ${key} → $t(${ref})`);
    expect(bad).toEqual([]);
  });

  it('every literal key used in src/ exists', () => {
    const patterns = [
      /\bkey:\s*['"]([a-z_]+(?:\.[a-z0-9_]+)+)['"]/g, // { key: 'error.unknown_command' }
      /\bt\(\s*[^,()'"]+,\s*['"]([a-z_]+(?:\.[a-z0-9_]+)+)['"]/g, // t(locale, 'card.title')
      /\b(?:t|tr|T)\(\s*['"]([a-z_]+(?:\.[a-z0-9_]+)+)['"]/g, // tr('card.title') with a fixed translator
    ];
    const missing = new Set<string>();
    let seen = 0;
    for (const file of sourceFiles(path.join(root, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const re of patterns)
        for (const m of text.matchAll(re)) {
          seen++;
          if (!resolves(en, m[1] as string)) missing.add(`${m[1]} (${path.relative(root, file)})`);
        }
    }
    expect(seen).toBeGreaterThan(0);
    expect([...missing]).toEqual([]);
  });

  it('no string carries platform markup: Slack mrkdwn, mention or channel syntax, or a /bwprep spelling', () => {
    // Views carry structured text; renderers format it. Locale strings may only use our tags.
    const rules: [string, RegExp][] = [
      ['Slack bold', /(^|[\s(])\*[^*\s][^*]*\*(?=$|[\s.,:;!?)])/],
      ['Slack italic', /(^|[\s(])_[^_\s][^_]*_(?=$|[\s.,:;!?)])/],
      ['Slack strike', /(^|[\s(])~[^~\s][^~]*~(?=$|[\s.,:;!?)])/],
      ['backtick code', /`/],
      ['Slack mention or channel', /<[@#!]/],
      ['Slack link', /<https?:[^>]*\|/],
      ['platform command spelling', /\/bwprep\b/],
    ];
    const bad: string[] = [];
    for (const l of LANGS)
      for (const [key, value] of flat[l])
        if (typeof value === 'string') for (const [what, re] of rules) if (re.test(value)) bad.push(`${l}: ${key} (${what}): ${value}`);
    expect(bad).toEqual([]);
  });

  it('tags are ours and balanced: <b>, <i>, <code>, <cmd>', () => {
    const bad: string[] = [];
    for (const l of LANGS)
      for (const [key, value] of flat[l]) {
        if (typeof value !== 'string') continue;
        const stack: string[] = [];
        for (const m of value.matchAll(/<(\/?)(b|i|code|cmd)>/g)) {
          if (!m[1]) stack.push(m[2]!);
          else if (stack.pop() !== m[2]) bad.push(`${l}: ${key}`);
        }
        if (stack.length) bad.push(`${l}: ${key}`);
      }
    expect(bad).toEqual([]);
  });
});
