import { expect } from 'vitest';
import type { Message } from '../../src/core/checklist/model';
import { isBwprepError } from '../../src/core/errors';
import { hasKey, render } from '../../src/i18n';

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
 * where every run draws a new seed); FC_SEED=random draws one under CI too.
 */
const CI_SEED = 20261130;
const seed = (): number | undefined => {
  const s = process.env.FC_SEED;
  if (s && s !== 'random') return Number(s);
  return process.env.CI && s !== 'random' ? CI_SEED : undefined;
};
export const RUNS = (n: number) => {
  const fixed = seed();
  return { numRuns: n, ...(fixed !== undefined ? { seed: fixed } : {}) };
};
