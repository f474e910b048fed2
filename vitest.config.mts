import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fails any test during which a configured or entered secret reached a log line or a fake's recorded call.
    setupFiles: ['test/setup/secret-guard.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores on CI: keep workers bounded so the e2e suites with real servers do not starve each other.
    maxWorkers: 2,
  },
});
