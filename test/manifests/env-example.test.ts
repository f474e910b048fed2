import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { envSchema } from '../../src/config/schema';

const root = path.resolve(__dirname, '..', '..');
const text = readFileSync(path.join(root, '.env.example'), 'utf8');
const lines = text.split('\n');

/** KEY=value lines that are set. */
const set = new Map<string, string>();
/** Every variable mentioned as a setting, set or commented out (`# KEY=value`). */
const mentioned = new Set<string>();
for (const line of lines) {
  const active = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
  if (active) {
    set.set(active[1] as string, active[2] as string);
    mentioned.add(active[1] as string);
  }
  const commented = /^#\s*(?:Example:\s*)?([A-Z][A-Z0-9_]*)=/.exec(line);
  if (commented) mentioned.add(commented[1] as string);
}

describe('.env.example', () => {
  const schemaKeys = Object.keys(envSchema.shape).sort();

  it('lists every variable of src/config/schema.ts, and nothing else', () => {
    expect([...mentioned].sort()).toEqual(schemaKeys);
  });

  it('explains every variable in a comment right above it', () => {
    for (const key of schemaKeys) {
      const i = lines.findIndex((l) => l.startsWith(`${key}=`) || l.startsWith(`# ${key}=`));
      expect(i, key).toBeGreaterThan(0);
      let j = i - 1;
      while (j >= 0 && /^(# Example:|[A-Z][A-Z0-9_]*=)/.test(lines[j] as string)) j--;
      expect(lines[j] ?? '', `comment above ${key}`).toMatch(/^# \S/);
    }
  });

  it('loads as it is (copying it to .env gives a working default configuration)', () => {
    const config = loadConfig(Object.fromEntries(set));
    expect(config.slack).toBeUndefined();
    expect(config.storeUrl).toBe('sqlite://./data/bwprep.sqlite');
    expect(config.defaults).toMatchObject({ locale: 'nl', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] });
    expect(config.http).toMatchObject({ port: 3000, host: '0.0.0.0' });
  });

  it('every variable is in the README settings table', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((x) => x.startsWith('Settings')) ?? '';
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    const documented = new Set(rows.flatMap((r) => [...(r.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] as string)));
    expect(schemaKeys.filter((k) => !documented.has(k))).toEqual([]);
    expect([...documented].filter((k) => !schemaKeys.includes(k))).toEqual([]);
  });

  it('holds no real-looking secrets', () => {
    for (const [key, value] of set) if (/(_TOKEN|_SECRET|_PASSWORD|_KEY)$/.test(key)) expect(value, key).toBe('');
    expect(text).not.toMatch(/xox[bpa]-\d/);
    for (const m of text.matchAll(/Example: ([A-Z_]+)=(\S+)/g)) expect(m[2], m[1]).toMatch(/fake|0000|example|U0ALICE|internal-ca|^organization\.0{8}/);
  });
});
