import { describe, expect, it } from 'vitest';
import type { AuditEntry, Rollout } from '../../src/core/checklist/model';
import { isBwprepError } from '../../src/core/errors';
import { openStore } from '../../src/store';
import { type CasBackend, createKeyValueStore, KeyvAdapterBase, MAX_UPDATE_ATTEMPTS, filterAudit, updateWithRetry } from '../../src/store/shared';
import { parseStoreUrl } from '../../src/store/url';
import { entry, makeRollout } from './fixtures';

/** A backend where another writer always wins: every compare-and-set fails. */
class AlwaysLosing implements CasBackend {
  attempts = 0;
  constructor(private readonly r: Rollout) {}
  get id(): string {
    return this.r.id;
  }
  async get(): Promise<Rollout> {
    return structuredClone(this.r);
  }
  async compareAndSet(_next: Rollout, _expected: number, _audit: AuditEntry[]): Promise<boolean> {
    this.attempts++;
    return false;
  }
}

describe('optimistic update loop', () => {
  it('gives up after bounded retries with a conflict error', async () => {
    const backend = new AlwaysLosing({ ...makeRollout(), version: 3 });
    let runs = 0;
    const err = await updateWithRetry(backend, 'x', (cur) => {
      runs++;
      return { rollout: cur, audit: [] };
    }).catch((e: unknown) => e);
    expect(isBwprepError(err) && err.code).toBe('conflict');
    expect(isBwprepError(err) && err.userMessage).toEqual({ key: 'error.conflict' });
    // What the operator's log says: which rollout, and how many tries were lost.
    expect((err as Error).message).toBe(`conflict: rollout x changed concurrently ${MAX_UPDATE_ATTEMPTS} times in a row`);
    expect(backend.attempts).toBe(MAX_UPDATE_ATTEMPTS);
    expect(runs).toBe(MAX_UPDATE_ATTEMPTS);
  });

  it('refuses a mutator that changes the rollout id', async () => {
    const backend = new AlwaysLosing({ ...makeRollout(), version: 1 });
    const err = await updateWithRetry(backend, 'x', (cur) => ({ rollout: { ...cur, id: 'other' }, audit: [] })).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'internal',
      userMessage: { key: 'error.internal', vars: { ref: 'rollout-id-changed' } },
      message: `a mutator changed the rollout id from ${backend.id} to other`,
    });
    expect(backend.attempts).toBe(0);
  });
});

describe('the kv port over keyv', () => {
  it('throws the store\'s own error when the backend fails, on read as on write (no silent "not found")', async () => {
    const store = await openStore('sqlite://:memory:', {});
    await store.kv.set('hwm:org', { cursor: '2026-11-25T09:00:00.000Z' });
    expect(await store.kv.get('hwm:org')).toEqual({ cursor: '2026-11-25T09:00:00.000Z' });
    await store.close();
    // A missing value would make the event reader start over (a full 30-day read): a failure must not look like one.
    await expect(store.kv.get('hwm:org')).rejects.toThrow(/database connection is not open/);
    await expect(store.kv.set('hwm:org', { cursor: 'x' })).rejects.toThrow(/database connection is not open/);
  });

  it('throws when the adapter reports that it did not store the value', async () => {
    /** An adapter that answers every write with "not stored" (as a read-only replica would). */
    class ReadOnlyAdapter extends KeyvAdapterBase {
      async get<Value>(): Promise<Value | undefined> {
        return undefined;
      }
      async set(): Promise<boolean> {
        return false;
      }
      async delete(): Promise<boolean> {
        return false;
      }
      async clear(): Promise<void> {}
    }
    const kv = createKeyValueStore(new ReadOnlyAdapter());
    await expect(kv.set('profile:U1', { tz: 'Europe/Amsterdam' })).rejects.toThrow(/^kv: could not set profile:U1$/);
  });
});

describe('audit filtering', () => {
  it('keeps entries at or after since, then the newest limit', () => {
    const es = ['2026-01-01', '2026-01-02', '2026-01-03'].map((d) => entry('r', 'step.done', { at: `${d}T00:00:00.000Z` }));
    expect(filterAudit(es, { since: '2026-01-02T00:00:00.000Z' })).toEqual(es.slice(1));
    expect(filterAudit(es, { limit: 1 })).toEqual(es.slice(2));
    expect(filterAudit(es, { limit: 0 })).toEqual([]);
  });
});

describe('store URLs', () => {
  it('parses sqlite paths', () => {
    expect(parseStoreUrl('sqlite://./data/bwprep.sqlite')).toMatchObject({
      kind: 'sqlite',
      path: './data/bwprep.sqlite',
      description: 'sqlite ./data/bwprep.sqlite',
    });
    expect(parseStoreUrl('sqlite:///var/lib/bwprep.sqlite')).toMatchObject({ path: '/var/lib/bwprep.sqlite' });
    expect(parseStoreUrl('sqlite://:memory:')).toMatchObject({ path: ':memory:' });
  });

  it('parses redis with db, prefix and credentials, never describing the password', () => {
    const u = parseStoreUrl('redis://bot:hunter2@cache.internal:6380/3?prefix=test123:');
    expect(u).toMatchObject({ kind: 'redis', host: 'cache.internal', port: 6380, db: 3, username: 'bot', password: 'hunter2', prefix: 'test123:', tls: false });
    expect(u.description).toBe('redis cache.internal:6380/3 prefix=test123:');
    expect(parseStoreUrl('rediss://:pw@h')).toMatchObject({ port: 6379, db: 0, prefix: 'bwprep:', tls: true, description: 'rediss h:6379/0' });
  });

  it('parses postgres with a schema, never describing the password', () => {
    const u = parseStoreUrl('postgres://bwprep:hunter2@db:5433/bw?schema=t_abc&sslmode=require');
    expect(u).toMatchObject({ kind: 'postgres', schema: 't_abc', description: 'postgres bwprep@db:5433/bw schema=t_abc' });
    expect(u.kind === 'postgres' && u.connectionString).toBe('postgres://bwprep:hunter2@db:5433/bw?sslmode=require');
    expect(parseStoreUrl('postgresql://postgres@127.0.0.1/test')).toMatchObject({ schema: 'public', description: 'postgres postgres@127.0.0.1:5432/test' });
    expect(() => parseStoreUrl('postgres://u@h/db?schema=bad;drop')).toThrow(/plain SQL identifier/);
  });

  it('rejects unknown schemes', () => {
    expect(() => parseStoreUrl('mysql://x')).toThrow(/store URL must be/);
  });

  // Counterexamples found by test/fuzz/parsers.fuzz.test.ts: these escaped as TypeError / URIError.
  it('says what is wrong with a malformed URL instead of throwing a TypeError or URIError, without echoing it', () => {
    expect(() => parseStoreUrl('redis://[')).toThrow(/^store URL: not a valid redis:\/\/ URL/);
    expect(() => parseStoreUrl('postgres://u@h:99999/db')).toThrow(/^store URL: not a valid postgres:\/\/ URL/);
    expect(() => parseStoreUrl('redis://u:%E0%A4%A@h')).toThrow(/^store URL: the password has a malformed %-escape$/);
    expect(() => parseStoreUrl('postgres://%@h/db')).toThrow(/^store URL: the user name has a malformed %-escape$/);
  });
});
