/**
 * `npm run bench` (after `tsc -p tsconfig.bench.json`): runs every benchmark, one after the other, each in
 * its own process (so one's heap and JIT state don't colour the next), then prints one summary table and
 * writes bench/results/latest.json.
 *
 *   npm run bench                 # all
 *   npm run bench -- ack startup  # some
 */
import './lib/links';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gitInfo, machine, readResult, RESULTS_DIR } from './lib/results';
import { formatTable, type Row } from './lib/stats';

const ALL = ['ack', 'teams', 'startup', 'verify', 'digest'] as const;

function main() {
  const asked = process.argv.slice(2);
  const names = asked.length ? asked : [...ALL];
  const unknown = names.filter((n) => !(ALL as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${ALL.join(', ')})`);
  const started = new Date();
  const git = gitInfo();
  const outcome: Record<string, { status: 'ok' | 'failed' | 'missing'; exitCode?: number | null; durationMs?: number }> = {};
  for (const name of names) {
    const file = path.join(__dirname, `${name}.js`);
    if (!existsSync(file)) {
      outcome[name] = { status: 'missing' };
      process.stderr.write(`\n== ${name}: not built (${file} missing)\n`);
      continue;
    }
    process.stderr.write(`\n== ${name}\n`);
    const t0 = Date.now();
    // A hard cap so a wedged benchmark cannot hold the machine: 10 minutes.
    const r = spawnSync(process.execPath, [file], { stdio: 'inherit', timeout: 10 * 60_000, killSignal: 'SIGKILL' });
    outcome[name] = { status: r.status === 0 ? 'ok' : 'failed', exitCode: r.status, durationMs: Date.now() - t0 };
  }
  const results: Record<string, unknown> = {};
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const name of names) {
    const r = outcome[name]?.status === 'ok' ? readResult(name) : undefined;
    if (!r) {
      rows.push({ bench: name, metric: `(${outcome[name]?.status ?? 'not run'})`, value: undefined });
      continue;
    }
    results[name] = r;
    rows.push(...r.rows);
    notes.push(...r.notes.map((n) => `${name}: ${n}`));
  }
  const latest = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machine(),
    git,
    loadavgAtEnd: os.loadavg(),
    outcome,
    summary: rows,
    results,
  };
  const file = path.join(RESULTS_DIR, 'latest.json');
  writeFileSync(file, `${JSON.stringify(latest, null, 2)}\n`);
  const m = machine();
  process.stdout.write(
    `\nbwprep benchmarks at ${git.commit ?? 'unknown commit'}${git.changedFiles ? ` (+${git.changedFiles} uncommitted files in the tree)` : ''} — ${m.cpus} CPUs (${m.cpuModel ?? 'unknown'}), node ${m.node}, load average at the end ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(
        ' ',
      )}\nratios are against the baseline measured in the same run\n\n${formatTable(rows)}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n\nwritten ${file}\n`,
  );
  if (Object.values(outcome).some((o) => o.status !== 'ok')) process.exitCode = 1;
}

main();
