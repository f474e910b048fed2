import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { DIGEST_POST_ALLOWANCE_SECONDS } from '../../src/config/schema';
import { reportToSecretGuard } from '../helpers/secret-guard';
import { FAKE_BOT_TOKEN, FAKE_SIGNING_SECRET } from '../helpers/slack-requests';

const ROOT = join(__dirname, '..', '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/**
 * Transpiles all of src/ to CommonJS under `outDir` (no type check: quick) and links locales/, templates/
 * and node_modules/ beside it, so `node outDir/src/main.js` is the real bwprep in a child process that a
 * test can SIGKILL or SIGTERM. Returns the path of the compiled main.js.
 */
export function buildApp(outDir: string): string {
  for (const file of tsFiles(join(ROOT, 'src'))) {
    const out = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: file,
    }).outputText;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, js);
  }
  for (const d of ['locales', 'templates', 'node_modules']) symlinkSync(join(ROOT, d), join(outDir, d), 'dir');
  return join(outDir, 'src', 'main.js');
}

export interface ChildApp {
  process: ChildProcess;
  /** Base URL once it listens. */
  url: string;
  /** Every log line so far (JSON, one per line). */
  logs(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
// Also when the test worker itself goes away.
process.once('exit', () => killChildren());

/** SIGKILLs every child still running (a test that failed half-way must not leave a bwprep behind). */
export function killChildren(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  running.clear();
}

/**
 * For a restart after a SIGKILL: the scheduler ticks every second, with the smallest digest lease the config
 * accepts (check timeout + DIGEST_POST_ALLOWANCE_SECONDS), so a dead process's lease lapses as soon as it can.
 * `env` holds the settings; `recoveryMs` bounds how long the restarted process may take to settle the slot.
 */
export const FAST_RESTART = (() => {
  const intervalS = 1;
  const checkTimeoutS = 1;
  const leaseS = checkTimeoutS + DIGEST_POST_ALLOWANCE_SECONDS;
  return {
    intervalS,
    leaseS,
    env: {
      BWPREP_SCHEDULER_INTERVAL_SECONDS: String(intervalS),
      BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS: String(checkTimeoutS),
      BWPREP_DIGEST_LEASE_SECONDS: String(leaseS),
    },
    recoveryMs: (leaseS + 2 * intervalS) * 1000 + 15_000,
  };
})();

/** The environment of a child bwprep on Slack over HTTP (the fake Slack API at `slackApiUrl`) and an SQLite file. */
export function slackChildEnv(slackApiUrl: string, storeFile: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
    SLACK_SIGNING_SECRET: FAKE_SIGNING_SECRET,
    SLACK_API_URL: slackApiUrl,
    BWPREP_STORE_URL: `sqlite://${storeFile}`,
    BWPREP_LOCALE: 'en',
    PORT: '0',
    HOST: '127.0.0.1',
    ...extra,
  };
}

/**
 * Starts `node main.js` with `env` (cwd `cwd`, no .env there) and waits for its "bwprep listening" line.
 * `start` is passed to `main()` as its start-up options (JSON: plain data only).
 */
export async function startChildApp(mainJs: string, cwd: string, env: Record<string, string>, start: Record<string, unknown> = {}): Promise<ChildApp> {
  const entry = `require(${JSON.stringify(mainJs)}).main(process.env, ${JSON.stringify(start)}).catch((e) => { console.error(e); process.exit(70); })`;
  const child = spawn(process.execPath, ['-e', entry], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  const onData = (c: Buffer) => {
    out += c.toString();
    reportToSecretGuard('log', c.toString());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /"port":(\d+)[^\n]*"msg":"bwprep listening"/.exec(out);
      if (m) {
        child.stdout!.off('data', check);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    child.stdout!.on('data', check);
    exited.then(({ code, signal }) => reject(new Error(`child exited (${code ?? signal}) before listening:\n${out}`)), reject);
  });
  return { process: child, url, logs: () => out, exited };
}
