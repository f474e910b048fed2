/**
 * Benchmark 2 — start-up time and idle RSS (DESIGN §8).
 *
 * Spawns, one after the other and RUNS times each (interleaved):
 *   - baseline: `node -e` with a bare `http.createServer().listen(0)`;
 *   - reference: the bare Bolt app of the ack benchmark (servers/bare-bolt.js);
 *   - bwprep: servers/startup-app.js, which runs src/main.ts main() — the same code path as `bwprep serve`
 *     (config from the environment, Slack over HTTP against a fake Slack Web API, SQLite in a temp dir,
 *     PORT=0, JSON logs on stdout).
 * Measures the time from spawn to the first answer on /healthz (for the baselines: to any HTTP answer on
 * their port), then RSS (VmRSS from /proc/<pid>/status) after IDLE_MS of idling.
 *
 * Run alone: npx tsc -p tsconfig.bench.json && node dist-bench/bench/startup.js
 */
import './lib/links';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { startFakeSlackApi } from '../test/fakes/slack-api';
import { FAKE_BOT_TOKEN, FAKE_SIGNING_SECRET } from '../test/helpers/slack-fixtures';
import { kbToMb, procStatusKb } from './lib/proc';
import { type BenchResult, runAsScript } from './lib/results';
import { median, round, type Row, sleep } from './lib/stats';

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 3);
const IDLE_MS = Number(process.env.BENCH_STARTUP_IDLE_MS ?? 5000);
const START_TIMEOUT_MS = 20_000;

type Variant = 'node-http' | 'bare-bolt' | 'bwprep';

interface Sample {
  startMs: number;
  /** RSS right after the first answer. */
  rssAtReadyMb?: number | undefined;
  /** RSS after IDLE_MS idle. */
  rssIdleMb?: number | undefined;
  hwmMb?: number | undefined;
}

const NODE_HTTP = `require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',function(){process.stdout.write(JSON.stringify({benchListening:'http://127.0.0.1:'+this.address().port})+'\\n')})`;

async function once(variant: Variant, slackApiUrl: string): Promise<Sample> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bwprep-startup-'));
  const servers = path.join(__dirname, 'servers');
  const args =
    variant === 'node-http' ? ['-e', NODE_HTTP] : variant === 'bare-bolt' ? [path.join(servers, 'bare-bolt.js')] : [path.join(servers, 'startup-app.js')];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(variant === 'bwprep'
      ? {
          SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
          SLACK_SIGNING_SECRET: FAKE_SIGNING_SECRET,
          SLACK_API_URL: slackApiUrl,
          BWPREP_STORE_URL: `sqlite://${path.join(dir, 'bwprep.sqlite')}`,
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'info',
        }
      : { BENCH_SLACK_API_URL: slackApiUrl }),
  };
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid as number;
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${variant}: no listening line within ${START_TIMEOUT_MS} ms; stderr: ${stderr.slice(0, 500)}`)),
        START_TIMEOUT_MS,
      );
      child.once('exit', (code) => reject(new Error(`${variant}: exited (${code}) before listening; stderr: ${stderr.slice(0, 500)}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        try {
          const j = JSON.parse(line) as { benchListening?: string; msg?: string; port?: number };
          const u = j.benchListening ?? (j.msg === 'bwprep listening' && j.port ? `http://127.0.0.1:${j.port}` : undefined);
          if (u) {
            clearTimeout(timer);
            resolve(u);
          }
        } catch {
          /* not JSON */
        }
      });
    });
    // First answer on /healthz (bwprep must answer 200; the baselines answer whatever their routing says).
    for (;;) {
      try {
        const res = await request(`${url}/healthz`);
        await res.body.text();
        if (variant !== 'bwprep' || res.statusCode === 200) break;
      } catch {
        /* not yet */
      }
      if (performance.now() - t0 > START_TIMEOUT_MS) throw new Error(`${variant}: /healthz not answering`);
      await sleep(2);
    }
    const startMs = round(performance.now() - t0);
    const rssAtReadyMb = kbToMb(procStatusKb(pid, 'VmRSS'));
    await sleep(IDLE_MS);
    return { startMs, rssAtReadyMb, rssIdleMb: kbToMb(procStatusKb(pid, 'VmRSS')), hwmMb: kbToMb(procStatusKb(pid, 'VmHWM')) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      process.kill(pid, 'SIGTERM');
      const t = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runStartup(log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<BenchResult> {
  const startedAt = new Date();
  const slack = await startFakeSlackApi();
  const samples: Record<Variant, Sample[]> = { 'node-http': [], 'bare-bolt': [], bwprep: [] };
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const v of ['node-http', 'bare-bolt', 'bwprep'] as Variant[]) {
        const s = await once(v, slack.apiUrl);
        log(`startup: ${v} run ${i + 1}/${RUNS}: ready in ${s.startMs} ms, RSS idle ${s.rssIdleMb} MB`);
        samples[v].push(s);
      }
    }
  } finally {
    await slack.close();
  }
  const med = (v: Variant, k: keyof Sample) => round(median(samples[v].map((s) => s[k] as number)), 1);
  const rows: Row[] = [
    {
      bench: 'startup',
      metric: 'start-up to /healthz (median)',
      value: med('bwprep', 'startMs'),
      baseline: med('node-http', 'startMs'),
      unit: 'ms',
      ratio: round(med('bwprep', 'startMs') / med('node-http', 'startMs')),
    },
    {
      bench: 'startup',
      metric: `idle RSS after ${IDLE_MS / 1000} s (median)`,
      value: med('bwprep', 'rssIdleMb'),
      baseline: med('node-http', 'rssIdleMb'),
      unit: 'MB',
      ratio: round(med('bwprep', 'rssIdleMb') / med('node-http', 'rssIdleMb')),
    },
    {
      bench: 'startup',
      metric: 'bare Bolt: start-up (median)',
      value: med('bare-bolt', 'startMs'),
      baseline: med('node-http', 'startMs'),
      unit: 'ms',
      ratio: round(med('bare-bolt', 'startMs') / med('node-http', 'startMs')),
    },
    {
      bench: 'startup',
      metric: 'bare Bolt: idle RSS (median)',
      value: med('bare-bolt', 'rssIdleMb'),
      baseline: med('node-http', 'rssIdleMb'),
      unit: 'MB',
      ratio: round(med('bare-bolt', 'rssIdleMb') / med('node-http', 'rssIdleMb')),
    },
  ];
  const notes = [
    `bwprep vs bare Bolt: start-up ${round(med('bwprep', 'startMs') / med('bare-bolt', 'startMs'))}×, idle RSS ${round(med('bwprep', 'rssIdleMb') / med('bare-bolt', 'rssIdleMb'))}×`,
    'DESIGN §8 sets no numeric target for start-up and idle RSS; the figures are reported only.',
  ];
  return {
    bench: 'startup',
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    rows,
    details: { runs: RUNS, idleMs: IDLE_MS, samples },
    notes,
  };
}

if (require.main === module) runAsScript(runStartup);
