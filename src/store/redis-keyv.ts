import type Redis from 'ioredis';
import { KeyvAdapterBase } from './shared';

/** A keyv storage adapter over ioredis: one string key per entry (`<prefix>kv:<namespace>:<key>`), TTL via PX. */
export class RedisKeyvStore extends KeyvAdapterBase {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {
    super();
  }

  private k(key: string): string {
    return `${this.prefix}kv:${key}`;
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    return ((await this.client.get(this.k(key))) ?? undefined) as Value | undefined;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const v = typeof value === 'string' ? value : JSON.stringify(value);
    if (typeof ttl === 'number' && ttl > 0) await this.client.set(this.k(key), v, 'PX', Math.ceil(ttl));
    else await this.client.set(this.k(key), v);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return (await this.client.del(this.k(key))) > 0;
  }

  async clear(): Promise<void> {
    const glob = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
    const match = `${glob(this.k(this.namespace ? `${this.namespace}:` : ''))}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', match, 'COUNT', 500);
      if (keys.length > 0) await this.client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}
