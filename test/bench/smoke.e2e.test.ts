import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm run bench` still runs: the benchmarks' servers and fakes speak the wire formats the app expects.
 *
 * Why a test: the benchmarks are not run by CI, and once one broke unnoticed for a day (the Teams benchmark
 * waited for login.microsoftonline.com after bwprep's outbound token moved to @azure/identity; every
 * priming request timed out). This builds the benchmarks as `npm run bench` does and runs `ack` and `teams`
 * with the smallest windows: every server starts, primes, takes load and stops, and every request is
 * answered. No figure is judged here (a loaded CI machine makes them meaningless; bench/README.md says how
 * to measure); only that each benchmark finishes and that no request failed.
 */

const ROOT = join(__dirname, '..', '..');
const results = mkdtempSync(join(tmpdir(), 'bwprep-bench-smoke-'));

afterAll(() => rmSync(results, { recursive: true, force: true }));

interface Row {
  bench: string;
  metric: string;
  value?: number | string;
}

const TINY = {
  BENCH_RESULTS_DIR: results,
  BENCH_ACK_RPS: '50',
  BENCH_ACK_SECONDS: '1',
  BENCH_ACK_ROUNDS: '1',
  BENCH_ACK_WARMUP_SECONDS: '0.5',
  BENCH_ACK_SAT_SECONDS: '1',
  BENCH_ACK_SAT_ROUNDS: '1',
  BENCH_ACK_CONCURRENCY: '4',
  BENCH_TEAMS_RPS: '20',
  BENCH_TEAMS_SECONDS: '1',
  BENCH_TEAMS_ROUNDS: '1',
  BENCH_TEAMS_SAT_SECONDS: '1',
  BENCH_TEAMS_SAT_ROUNDS: '1',
  BENCH_TEAMS_CONCURRENCY: '4',
  BENCH_TEAMS_CONVERSATIONS: '4',
};

describe('npm run bench (smallest windows)', () => {
  it('builds, and `ack` and `teams` run to the end with every request answered', { timeout: 300_000 }, () => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.bench.json')], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    const run = spawnSync(process.execPath, [join(ROOT, 'dist-bench', 'bench', 'run.js'), 'ack', 'teams'], {
      cwd: ROOT,
      env: { ...process.env, ...TINY },
      encoding: 'utf8',
      timeout: 240_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output.slice(-4000)).toBe(0);
    const latest = JSON.parse(readFileSync(join(results, 'latest.json'), 'utf8')) as { outcome: Record<string, { status: string }>; summary: Row[] };
    expect(latest.outcome).toMatchObject({ ack: { status: 'ok' }, teams: { status: 'ok' } });
    const row = (bench: string, metric: RegExp) => {
      const found = latest.summary.find((r) => r.bench === bench && metric.test(r.metric));
      expect(found, `${bench}: no row matching ${metric}`).toBeDefined();
      return found as Row;
    };
    // Every request answered with 200, at a fixed rate and in the closed loop, by bwprep and its baselines.
    expect(row('ack', /^non-200 \+ transport errors @/).value).toBe(0);
    expect(row('ack', /^non-200 \+ errors ×/).value).toBe(0);
    expect(Number(row('ack', /^work done\/s ×/).value)).toBeGreaterThan(0);
    expect(row('teams', /^non-200 \+ transport errors @/).value).toBe(0);
    expect(row('teams', /^non-200 \+ errors closed loop/).value).toBe(0);
    expect(Number(row('teams', /^answers\/s closed loop/).value)).toBeGreaterThan(0);
  });
});
