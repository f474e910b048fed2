import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.mts';

/**
 * The suite Stryker runs against each mutant (stryker.config.json): everything that exercises the mutated
 * logic, minus what cannot help and only costs time or determinism there — the fault tests (real servers,
 * child processes), the property-based fuzz tests (random inputs would make a mutant's fate vary between
 * runs) and the ops-file tests.
 */
export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: ['test/faults/**', 'test/fuzz/**', 'test/manifests/**', 'node_modules/**'],
    },
  }),
);
