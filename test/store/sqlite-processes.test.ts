import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Rollout } from '../../src/core/checklist/model';
import type { Store } from '../../src/core/ports';
import { openStore } from '../../src/store';
import { buildStore, NODE_MODULES } from './build-store';
import { makeRollout } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'bwprep-sqlite-procs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PER_WRITER = 40;

/** Increments a counter and records who wrote, one update per event-loop turn so writers interleave. */
async function increments(store: Pick<Store, 'rollouts'>, id: string, who: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await store.rollouts.update(id, (cur: Rollout) => {
      cur.settings.thresholds.minOwners += 1;
      cur.digest.history.push({ date: `${who}-${i}`, stepsPct: 0, hoursPct: 0 });
      return {
        rollout: cur,
        audit: [{ rolloutId: id, at: new Date().toISOString(), actor: `cli:${who}`, surface: 'cli', action: 'rollout.settings_updated', detail: { who, i } }],
      };
    });
    await new Promise((r) => setImmediate(r));
  }
}

/** A child process running our compiled store: opens it, says "ready", waits for "go", runs the increments. */
const WORKER = `
const [storeJs, url, id, who, n] = process.argv.slice(1);
const { openStore } = require(storeJs);
// The same loop as increments() above, in plain JS (a function's source text is not stable under coverage tools).
async function increments(store, id, who, n) {
  for (let i = 0; i < n; i++) {
    await store.rollouts.update(id, (cur) => {
      cur.settings.thresholds.minOwners += 1;
      cur.digest.history.push({ date: who + '-' + i, stepsPct: 0, hoursPct: 0 });
      return {
        rollout: cur,
        audit: [{ rolloutId: id, at: new Date().toISOString(), actor: 'cli:' + who, surface: 'cli', action: 'rollout.settings_updated', detail: { who, i } }],
      };
    });
    await new Promise((r) => setImmediate(r));
  }
}
(async () => {
  const store = await openStore(url, {});
  process.stdout.write('ready\\n');
  await new Promise((r) => process.stdin.once('data', r));
  await increments(store, id, who, Number(n));
  await store.close();
  process.exit(0);
})().catch((err) => { console.error(err); process.exit(1); });`;

function startWorker(storeJs: string, url: string, id: string, who: string) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['-e', WORKER, storeJs, url, id, who, String(PER_WRITER)], {
    env: { ...process.env, NODE_PATH: NODE_MODULES },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.on('exit', (code) => reject(new Error(`worker ${who} exited ${code} before ready: ${stderr}`)));
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${who} exited ${code}: ${stderr}`))));
  });
  return { ready, done, go: () => child.stdin.write('go\n') };
}

describe('sqlite store shared by several processes', () => {
  it('concurrent updates from three processes and this one lose nothing', async () => {
    const storeJs = buildStore(join(dir, 'build'));
    const url = `sqlite://${join(dir, 'shared', 'bwprep.sqlite')}`;
    const store = await openStore(url, {});
    const r = await store.rollouts.create(makeRollout(), []);

    const workers = ['a', 'b', 'c'].map((who) => startWorker(storeJs, url, r.id, who));
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.go();
    await Promise.all([...workers.map((w) => w.done), increments(store, r.id, 'main', PER_WRITER)]);

    const total = PER_WRITER * 4;
    const final = (await store.rollouts.get(r.id))!;
    expect(final.version).toBe(1 + total);
    expect(final.settings.thresholds.minOwners).toBe(r.settings.thresholds.minOwners + total);
    expect(new Set(final.digest.history.map((d) => d.date)).size).toBe(total);
    // No lost update and no reordering within a writer: each writer's updates are all there, in its own order
    // (how the four writers interleave is up to the scheduler and is not asserted).
    for (const who of ['a', 'b', 'c', 'main']) {
      const mine = final.digest.history.map((d) => d.date).filter((d) => d.startsWith(`${who}-`));
      expect(mine).toEqual(Array.from({ length: PER_WRITER }, (_, i) => `${who}-${i}`));
    }
    const audit = await store.audit.list(r.id);
    expect(audit.map((e) => `${String(e.detail?.who)}-${String(e.detail?.i)}`)).toEqual(final.digest.history.map((d) => d.date));
    await store.close();
  }, 60_000);
});
