import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';

/**
 * Real store servers that a test starts, stops and restarts on its own free port — never the shared
 * instances on 6379/5432. Data lives in the test's temp directory and survives a restart (Redis with an
 * append-only file, PostgreSQL in its own cluster), so "the store came back" means the same data.
 */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  port: number;
  url(suffix?: string): string;
  start(): Promise<void>;
  /** Stops the server (SIGTERM for Redis, `pg_ctl stop -m fast` for PostgreSQL) and waits until it has exited. */
  stop(): Promise<void>;
  /** Crashes it: SIGKILL for Redis, `pg_ctl stop -m immediate` (no shutdown checkpoint; WAL recovery at the next start). */
  kill(): Promise<void>;
}

async function waitUntil(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ok()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function accepts(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** `redis-server` on a free port, AOF on (fsync always) in `dir`. */
export async function redisServer(dir: string): Promise<TestServer> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  let child: ChildProcess | undefined;
  const server: TestServer = {
    port,
    url: (suffix = '') => `redis://127.0.0.1:${port}${suffix}`,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'],
        { stdio: 'ignore' },
      );
      const started = child;
      const exited = new Promise<void>((_, reject) => started.once('exit', (code) => reject(new Error(`redis-server exited ${code} at start`))));
      await Promise.race([waitUntil(`redis on ${port}`, () => accepts(port)), exited]);
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
  async function end(signal: NodeJS.Signals): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    await gone;
    child = undefined;
  }
  await server.start();
  return server;
}

function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const p = path.join(root, v, 'bin', name);
    if (existsSync(p)) return p;
  }
  throw new Error(`no ${name} under ${root}/*/bin`);
}

/** A PostgreSQL cluster initialised in `dir` (initdb, trust auth) and run with pg_ctl as the `postgres` OS user. */
export async function postgresServer(dir: string): Promise<TestServer> {
  const port = await freePort();
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  mkdirSync(sock, { recursive: true });
  chmodSync(dir, 0o777);
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(sock, uid, gid);
  const asPostgres = (bin: string, args: string[]) => {
    const cmd = [pgBin(bin), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    try {
      return execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', cmd], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`${bin} failed: ${String((e as { stderr?: Buffer }).stderr ?? e)}`);
    }
  };
  mkdirSync(data, { recursive: true });
  chownSync(data, uid, gid);
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const server: TestServer = {
    port,
    url: (suffix = '') => `postgres://postgres@127.0.0.1:${port}/postgres${suffix}`,
    async start() {
      asPostgres('pg_ctl', ['-D', data, '-l', path.join(dir, 'pg.log'), '-w', '-o', `-p ${port} -k ${sock} -h 127.0.0.1 -c fsync=off`, 'start']);
      await waitUntil(`postgres on ${port}`, () => accepts(port));
    },
    stop: async () => pgStop('fast'),
    kill: async () => pgStop('immediate'),
  };
  function pgStop(mode: 'fast' | 'immediate'): void {
    try {
      asPostgres('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    } catch {
      // already stopped
    }
  }
  await server.start();
  return server;
}

/**
 * The store servers the fault tests run on, each with the URL of a namespace of its own (a Redis key
 * prefix, a PostgreSQL schema) named after `label` and a random part, so runs never share data.
 */
export const STORE_SERVERS: [name: string, start: (dir: string) => Promise<TestServer>, storeUrl: (s: TestServer, label: string) => string][] = [
  ['redis', redisServer, (s, label) => s.url(`/0?prefix=${label}-${randomUUID().slice(0, 8)}:`)],
  ['postgres', postgresServer, (s, label) => s.url(`?schema=${label}_${randomUUID().slice(0, 8)}`)],
];

/** A temporary directory for a test server's data, readable by the postgres OS user that runs its cluster. */
export function serverTempDir(label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `bwprep-${label}-`));
  chmodSync(dir, 0o755);
  return dir;
}
