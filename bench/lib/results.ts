import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './links';
import type { Row } from './stats';

export const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

export interface BenchResult {
  bench: string;
  startedAt: string;
  durationMs: number;
  rows: Row[];
  /** Everything measured, for latest.json. */
  details: Record<string, unknown>;
  notes: string[];
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
export function writeResult(r: BenchResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${r.bench}.json`);
  writeFileSync(file, `${JSON.stringify({ machine: machine(), ...r }, null, 2)}\n`);
  return file;
}

export function readResult(name: string): (BenchResult & { machine?: unknown }) | undefined {
  try {
    return JSON.parse(readFileSync(path.join(RESULTS_DIR, `${name}.json`), 'utf8')) as BenchResult;
  } catch {
    return undefined;
  }
}
