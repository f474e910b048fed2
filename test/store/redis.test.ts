import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store';
import { storeContract } from './contract';

// CI starts Redis; when it is not reachable these tests fail (they never skip).
const prefix = `bwprep-test-${randomUUID()}:`;
const url = `redis://127.0.0.1:6379/0?prefix=${encodeURIComponent(prefix)}`;

afterAll(async () => {
  const client = new Redis({ host: '127.0.0.1', port: 6379, db: 0, lazyConnect: true });
  await client.connect();
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await client.quit();
});

storeContract('redis', () => openStore(url, {}));

describe('redis store', () => {
  it('keeps every key under the prefix from the URL', async () => {
    const store = await openStore(url, {});
    expect(store.describe()).toBe(`redis 127.0.0.1:6379/0 prefix=${prefix}`);
    await store.kv.set('k', 1);
    const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await client.connect();
    const keys = await client.keys(`${prefix}*`);
    expect(keys).toContain(`${prefix}kv:bwprep:k`);
    expect(keys.every((k) => k.startsWith(prefix))).toBe(true);
    await client.quit();
    await store.close();
  });

  it('fails fast with a clear error when the server is unreachable, naming no password', async () => {
    await expect(openStore('redis://:topsecret@127.0.0.1:1/0', {})).rejects.toThrow(
      /^The Redis store at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0 does not answer \(connect ECONNREFUSED/,
    );
    await expect(openStore('redis://:topsecret@127.0.0.1:1/0', {})).rejects.not.toThrow(/topsecret/);
  });
});
