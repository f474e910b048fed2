import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasKey } from '../../src/i18n';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const SRC = [
  ...files(join(__dirname, '../../src/bitwarden')),
  join(__dirname, '../../src/core/verification/service.ts'),
  join(__dirname, '../../src/cli/check.ts'),
];

describe('message keys of the Bitwarden client, checks and CLI', () => {
  const keys = new Set<string>();
  for (const f of SRC) for (const m of readFileSync(f, 'utf8').matchAll(/'((?:bw|check)\.[a-z0-9_.]+)'/g)) keys.add(m[1]!);

  it('finds the keys', () => {
    expect(keys.size).toBeGreaterThan(50);
  });

  it.each(['en', 'nl'] as const)('all exist in %s', (locale) => {
    const missing = [...keys].filter((k) => !k.endsWith('.') && !hasKey(locale, k));
    expect(missing).toEqual([]);
  });

  it('policy names exist for every known PolicyType in both languages', () => {
    for (let i = 0; i <= 22; i++) for (const l of ['en', 'nl'] as const) expect(hasKey(l, `bw.policy.${i}`)).toBe(true);
  });
});
