import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store';
import { storeContract } from './contract';
import { entry, makeRollout } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'bwprep-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'contract', 'bwprep.sqlite');
storeContract('sqlite (file)', () => openStore(`sqlite://${file}`, {}));

describe('sqlite store', () => {
  it('creates the parent directory and file on first start, relative to the working directory', async () => {
    const target = join(dir, 'nested', 'deeper', 'bwprep.sqlite');
    const rel = relative(process.cwd(), target);
    expect(rel.startsWith('/')).toBe(false);
    const store = await openStore(`sqlite://${rel}`, {});
    expect(existsSync(target)).toBe(true);
    expect(store.describe()).toBe(`sqlite ${rel}`);
    await store.close();
  });

  it('accepts sqlite://:memory:', async () => {
    const store = await openStore('sqlite://:memory:', {});
    const r = await store.rollouts.create(makeRollout(), []);
    expect(await store.rollouts.get(r.id)).toEqual(r);
    expect(store.describe()).toBe('sqlite :memory:');
    await store.close();
  });

  it('tells the stored version without reading the rollout: bumped by every write, seen by another replica, undefined when unknown', async () => {
    const path = join(dir, 'version', 'bwprep.sqlite');
    const [store, replica] = [await openStore(`sqlite://${path}`, {}), await openStore(`sqlite://${path}`, {})];
    const r = await store.rollouts.create(makeRollout(), []);
    expect(await replica.rollouts.version?.(r.id)).toBe(1);
    await replica.rollouts.update(r.id, (cur) => ({ rollout: cur, audit: [entry(r.id, 'step.done')] }));
    expect(await store.rollouts.version?.(r.id)).toBe(2);
    expect(await store.rollouts.version?.('slack:T0NONE:C0NONE')).toBeUndefined();
    await store.close();
    await replica.close();
  });

  it('keeps state across a restart and another process can read it', async () => {
    const path = join(dir, 'restart', 'bwprep.sqlite');
    const first = await openStore(`sqlite://${path}`, {});
    const r = makeRollout();
    await first.rollouts.create(r, [entry(r.id, 'rollout.created')]);
    await first.rollouts.update(r.id, (cur) => {
      cur.steps['2a']!.state = 'verified';
      return { rollout: cur, audit: [entry(r.id, 'step.check', { stepId: '2a', to: 'verified' })] };
    });
    await first.kv.set('msgref', { ts: '1.2' });
    await first.leases.acquire('scheduler', 'replica-1', 60_000);
    await first.close();

    const second = await openStore(`sqlite://${path}`, {});
    const again = await second.rollouts.get(r.id);
    expect(again?.version).toBe(2);
    expect(again?.steps['2a']?.state).toBe('verified');
    expect((await second.audit.list(r.id)).map((e) => e.action)).toEqual(['rollout.created', 'step.check']);
    expect(await second.kv.get('msgref')).toEqual({ ts: '1.2' });
    expect(await second.leases.acquire('scheduler', 'replica-2', 60_000)).toBe(false);

    // A separate Node process opens the same file read-only while `second` still has it open (WAL).
    const script = `
      const Database = require('better-sqlite3');
      const db = new Database(process.argv[1], { readonly: true, fileMustExist: true });
      const row = db.prepare('SELECT version, data FROM rollouts WHERE id = ?').get(process.argv[2]);
      const n = db.prepare('SELECT count(*) AS n FROM audit WHERE rollout_id = ?').get(process.argv[2]).n;
      process.stdout.write(JSON.stringify({ version: row.version, state: JSON.parse(row.data).steps['2a'].state, n }));`;
    const child = spawnSync(process.execPath, ['-e', script, path, r.id], { cwd: process.cwd(), encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ version: 2, state: 'verified', n: 2 });
    await second.close();
  });
});
