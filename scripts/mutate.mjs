#!/usr/bin/env node
/**
 * `npm run mutate -- [area]`: StrykerJS over one area of the logic issue 11 names, each with its own
 * incremental file (reports/incremental/<area>.json), so a rerun after a change re-tests only what the change
 * touched, and runs of different areas do not overwrite each other's results. Without an area: everything
 * in stryker.config.json (slow: hours on two cores). Survivors appear in reports/live-<area>.txt as they are
 * found; the HTML and JSON reports (reports/mutation/mutation.*) at the end. Extra arguments go to Stryker.
 */
import { spawnSync } from 'node:child_process';

const AREAS = {
  core: ['src/core/**/*.ts'],
  interactions: ['src/interactions/**/*.ts'],
  verification: ['src/bitwarden/checks/**/*.ts', 'src/bitwarden/events.ts'],
  'commands-store': ['src/commands/**/*.ts', 'src/store/shared.ts'],
};

const argv = process.argv.slice(2);
const name = argv[0] && !argv[0].startsWith('-') ? argv.shift() : 'all';
if (name !== 'all' && !AREAS[name]) {
  console.error(`unknown area "${name}": one of ${Object.keys(AREAS).join(', ')} (or none for all)`);
  process.exit(2);
}
const args = [
  'stryker',
  'run',
  ...(name === 'all' ? [] : ['--mutate', AREAS[name].join(',')]),
  '--incrementalFile',
  `reports/incremental/${name}.json`,
  '--appendPlugins',
  './test/mutation/live-reporter.mjs',
  '--reporters',
  'clear-text,progress,html,json,live',
  ...argv,
];
const r = spawnSync('npx', args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
