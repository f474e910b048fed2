import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store';
import { storeContract } from './contract';

// CI starts PostgreSQL; when it is not reachable these tests fail (they never skip).
const base = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `t_${randomUUID().replace(/-/g, '')}`;
const url = `${base}?schema=${schema}`;

afterAll(async () => {
  const client = new Client({ connectionString: base });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

storeContract('postgres', () => openStore(url, {}));

describe('postgres store', () => {
  it('creates its tables in the schema from the URL', async () => {
    const store = await openStore(url, {});
    expect(store.describe()).toBe(`postgres postgres@127.0.0.1:5432/test schema=${schema}`);
    const client = new Client({ connectionString: base });
    await client.connect();
    const r = await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]);
    expect(r.rows.map((x) => x.table_name)).toEqual(['bwprep_audit', 'bwprep_keyv', 'bwprep_leases', 'bwprep_rollouts']);
    await client.end();
    await store.close();
  });

  it('several replicas starting at once create the schema without racing', async () => {
    const fresh = `t_${randomUUID().replace(/-/g, '')}`;
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(`${base}?schema=${fresh}`, {})));
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      const client = new Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`);
      await client.end();
    }
  });

  it('fails with a clear error when the server is unreachable, naming no password', async () => {
    const err = (await openStore('postgres://postgres:topsecret@127.0.0.1:1/test', {}).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^bwprep cannot use the PostgreSQL store at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test \(/);
    expect(err.message).not.toContain('topsecret');
  });
});
