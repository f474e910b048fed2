import { defineConfig } from 'vitest/config';
import base from './vitest.config.mts';

/**
 * The suite Stryker runs against each mutant (stryker.config.json).
 *
 * Only the unit and application-layer tests: they exercise the mutated logic (core, interactions, commands,
 * checks, events, store base) in-process in milliseconds. Left out on purpose:
 * - end-to-end tests that start the app or child processes (`*.e2e.test.ts`, test/cli/startup, the Bitwarden
 *   client's retry timings): each costs seconds of set-up per mutant, and with per-test coverage a mutant in the
 *   application layer is covered by dozens of them — about a minute a mutant, so 4,000 mutants would take days
 *   on two cores. The logic they reach is the layer's, and the layer's own tests must pin it;
 * - test/faults (real servers, signals), test/fuzz (random inputs would make a mutant's fate vary between runs),
 *   test/manifests (ops files, no mutated code).
 * So the score is the score of the fast tests: a mutant the e2e suite would kill but the unit suite does not
 * counts as survived, and a test at the layer is the right fix for it.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/core/**/*.test.ts',
      'test/interactions/**/*.test.ts',
      'test/digest/**/*.test.ts',
      'test/permissions/**/*.test.ts',
      'test/views/**/*.test.ts',
      'test/util/**/*.test.ts',
      'test/i18n/**/*.test.ts',
      'test/commands/**/*.test.ts',
      'test/bitwarden/{checks,evidence,events,service,edge-cases,verdicts,thresholds,i18n}.test.ts',
      'test/store/{shared,sqlite,redis,postgres,unavailable,crypto,legacy}.test.ts',
      'test/slack/{blocks,text,card}.test.ts',
      'test/teams/{cards,adaptive-cards}.test.ts',
    ],
    exclude: ['**/*.e2e.test.ts', 'node_modules/**'],
  },
});
