import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './links';
import { formatTable, type Row } from './stats';

/** bench/results, or BENCH_RESULTS_DIR (the smoke test writes elsewhere so a developer's results stay). */
export const RESULTS_DIR = process.env.BENCH_RESULTS_DIR ?? path.join(REPO_ROOT, 'bench', 'results');

export interface BenchResult {
  bench: string;
  startedAt: string;
  durationMs: number;
  rows: Row[];
  /** Everything measured, for latest.json. */
  details: Record<string, unknown>;
  notes: string[];
}

/** The commit measured, and how many files in the working tree differed from it (others may be editing). */
export function gitInfo(): { commit?: string; subject?: string; changedFiles?: number } {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changed = git('status', '--porcelain', '--untracked-files=no');
    return { commit: git('rev-parse', '--short', 'HEAD'), subject: git('log', '-1', '--format=%s'), changedFiles: changed ? changed.split('\n').length : 0 };
  } catch {
    return {};
  }
}

export function machine() {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    totalMemMb: Math.round(os.totalmem() / 1024 / 1024),
  };
}

/** Writes bench/results/<name>.json (run.ts merges them into latest.json). */
function writeResult(r: BenchResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${r.bench}.json`);
  writeFileSync(file, `${JSON.stringify({ machine: machine(), git: gitInfo(), ...r }, null, 2)}\n`);
  return file;
}

export function readResult(name: string): (BenchResult & { machine?: unknown }) | undefined {
  try {
    return JSON.parse(readFileSync(path.join(RESULTS_DIR, `${name}.json`), 'utf8')) as BenchResult;
  } catch {
    return undefined;
  }
}

/**
 * `node dist-bench/bench/<name>.js`: runs one benchmark, writes its result file and prints the table and
 * notes; exits 1 on failure.
 */
export function runAsScript(run: () => Promise<BenchResult>): void {
  run()
    .then((r) => {
      const file = writeResult(r);
      process.stdout.write(`\n${formatTable(r.rows)}\n\n${r.notes.map((n) => `- ${n}`).join('\n')}\n\nwritten ${file}\n`);
    })
    .catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    });
}
