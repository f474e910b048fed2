import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

/**
 * BENCH_FAKE_NICE=<n>: nice value of the fake Slack/Teams/Bitwarden servers. They stand in for services that
 * run elsewhere in production; on this 2-core machine they otherwise take CPU from the server measured
 * (bench/README.md). Unset: left at the parent's priority.
 */
const FAKE_NICE = process.env.BENCH_FAKE_NICE === undefined ? undefined : Number(process.env.BENCH_FAKE_NICE);

/** Messages a benchmark server child sends over IPC. */
export type ChildMessage = { type: 'ready'; url: string; [k: string]: unknown } | { type: 'stats'; [k: string]: unknown } | { type: 'error'; message: string };

export interface Child {
  proc: ChildProcess;
  pid: number;
  ready: Extract<ChildMessage, { type: 'ready' }>;
  /** Sends a request and resolves with the next message of type `reply`. */
  ask<T = Record<string, unknown>>(msg: Record<string, unknown>, reply: string, timeoutMs?: number): Promise<T>;
  /** Asks the child to stop, then SIGKILLs it (by its pid) if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Forks a compiled server script (next to this file's parent: dist-bench/bench/servers/<name>.js) and waits for its `ready`. */
export function startChild(script: string, env: Record<string, string> = {}, timeoutMs = 20_000): Promise<Child> {
  const file = path.join(__dirname, '..', 'servers', `${script}.js`);
  // BENCH_PROFILE=<dir>: the app servers write a V8 CPU profile there on exit (see README).
  const profile = process.env.BENCH_PROFILE && !script.startsWith('fake-') ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  // BENCH_NODE_ARGS="--trace-gc …": extra Node flags for the app servers (not the fakes), for diagnosis.
  const extra = process.env.BENCH_NODE_ARGS && !script.startsWith('fake-') ? process.env.BENCH_NODE_ARGS.split(/\s+/).filter(Boolean) : [];
  const proc = fork(file, [], {
    env: { ...process.env, ...env },
    execArgv: [...profile, ...extra],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (FAKE_NICE !== undefined && script.startsWith('fake-') && proc.pid !== undefined) {
    try {
      os.setPriority(proc.pid, FAKE_NICE);
    } catch (err) {
      process.stderr.write(`${script}: nice ${FAKE_NICE} not permitted (${(err as Error).message})\n`);
    }
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${script}: not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${script}: exited (${code}) before it was ready`));
    };
    proc.once('exit', onExit);
    proc.once('message', (m: ChildMessage) => {
      clearTimeout(timer);
      proc.off('exit', onExit);
      if (m.type !== 'ready') {
        proc.kill('SIGKILL');
        reject(new Error(`${script}: ${m.type === 'error' ? m.message : 'unexpected first message'}`));
        return;
      }
      const child: Child = {
        proc,
        pid: proc.pid as number,
        ready: m,
        ask: (msg, reply, t = 10_000) =>
          new Promise((res, rej) => {
            const timer2 = setTimeout(() => {
              proc.off('message', on);
              rej(new Error(`${script}: no ${reply} within ${t} ms`));
            }, t);
            const on = (x: ChildMessage) => {
              if (x.type !== reply && (x as { reply?: string }).reply !== reply) return;
              clearTimeout(timer2);
              proc.off('message', on);
              res(x as never);
            };
            proc.on('message', on);
            proc.send(msg);
          }),
        stop: (graceMs = 5000) =>
          new Promise<void>((res) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return res();
            const kill = setTimeout(() => {
              try {
                process.kill(proc.pid as number, 'SIGKILL');
              } catch {
                /* gone */
              }
            }, graceMs);
            proc.once('exit', () => {
              clearTimeout(kill);
              res();
            });
            if (proc.connected) proc.send({ type: 'stop' });
            else process.kill(proc.pid as number, 'SIGTERM');
          }),
      };
      resolve(child);
    });
  });
}

/** In a child: the IPC send, typed. */
export function toParent(msg: ChildMessage): void {
  process.send?.(msg);
}

/** In a child: exit when the parent goes away (so nothing lingers if the load generator dies). */
export function exitWithParent(cleanup: () => Promise<void> | void): void {
  const stop = async () => {
    try {
      await cleanup();
    } finally {
      process.exit(0);
    }
  };
  // stop() ends in process.exit(0) whatever happens; a rejection before that is a benchmark bug worth seeing.
  const stopNow = (): void => {
    stop().catch((err: unknown) => {
      console.error('bench child: stop failed', err);
      process.exit(1);
    });
  };
  process.on('disconnect', stopNow);
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') stopNow();
  });
  process.once('SIGTERM', stopNow);
}
