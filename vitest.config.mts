import { stripVTControlCharacters } from 'node:util';
import { disableDefaultColors } from 'tinyrainbow';
import { defineConfig } from 'vitest/config';

/**
 * CI logs are plain text: no colour codes when CI is set (unless FORCE_COLOR asks for them).
 * Vitest colours through tinyrainbow, which decided before this file ran (it turns colour ON when CI is
 * set) and pre-coloured a few symbols (the ✓ per file) at import. So: NO_COLOR for the test workers,
 * tinyrainbow's shared colours off, and escape codes stripped from what this process still writes.
 */
if (process.env.CI && process.env.CI !== 'false' && !('FORCE_COLOR' in process.env)) {
  process.env.NO_COLOR = '1';
  disableDefaultColors();
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      write(typeof chunk === 'string' ? stripVTControlCharacters(chunk) : chunk, ...rest)) as typeof stream.write;
  }
}

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
