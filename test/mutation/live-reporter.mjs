/**
 * A Stryker reporter ("live") that appends each survived (S) or uncovered (N) mutant to
 * `reports/live-<area>.txt` the moment it is tested, as `S file:line Mutator: "replacement" | source line`.
 * Stryker writes its own reports only at the end of a run, which takes an hour for src/interactions on two
 * cores; with this list the tests for the first survivors can be written while the run goes on.
 * Loaded by scripts/mutate.mjs (`--appendPlugins`); uses Stryker's plugin API only.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { PluginKind, declareClassPlugin, commonTokens } from '@stryker-mutator/api/plugin';

class LiveReporter {
  static inject = [commonTokens.options];
  constructor(options) {
    this.file = `reports/live-${(options.incrementalFile || 'all').replace(/^.*\/|\.json$/g, '')}.txt`;
    this.src = new Map();
  }
  line(file, n) {
    if (!this.src.has(file)) this.src.set(file, readFileSync(file, 'utf8').split('\n'));
    return (this.src.get(file)[n - 1] ?? '').trim().slice(0, 110);
  }
  onMutantTested(r) {
    if (r.status !== 'Survived' && r.status !== 'NoCoverage') return;
    const l = r.location.start.line;
    appendFileSync(
      this.file,
      `${r.status === 'Survived' ? 'S' : 'N'} ${r.fileName}:${l} ${r.mutatorName}: ${JSON.stringify((r.replacement ?? '').slice(0, 60))} | ${this.line(r.fileName, l)}\n`,
    );
  }
}
export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'live', LiveReporter)];
