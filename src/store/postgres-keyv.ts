import type { Pool } from 'pg';
import { KeyvAdapterBase } from './shared';

const SWEEP_EVERY = 500;

/** A keyv storage adapter over pg: table `bwprep_keyv(key text PRIMARY KEY, value text, expires bigint)`. */
export class PostgresKeyvStore extends KeyvAdapterBase {
  private writes = 0;

  /** `table` is the already-quoted, schema-qualified table name. */
  constructor(
    private readonly pool: Pool,
    private readonly table: string,
  ) {
    super();
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    const r = await this.pool.query<{ value: string }>(`SELECT value FROM ${this.table} WHERE key = $1 AND (expires IS NULL OR expires > $2)`, [
      key,
      Date.now(),
    ]);
    return r.rows[0]?.value as Value | undefined;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const expires = typeof ttl === 'number' && ttl > 0 ? Date.now() + ttl : null;
    await this.pool.query(
      `INSERT INTO ${this.table} (key, value, expires) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires = EXCLUDED.expires`,
      [key, typeof value === 'string' ? value : JSON.stringify(value), expires],
    );
    if (++this.writes % SWEEP_EVERY === 0) await this.pool.query(`DELETE FROM ${this.table} WHERE expires <= $1`, [Date.now()]);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return ((await this.pool.query(`DELETE FROM ${this.table} WHERE key = $1`, [key])).rowCount ?? 0) > 0;
  }

  async clear(): Promise<void> {
    const like = this.namespace ? `${this.namespace.replace(/[\\%_]/g, (c) => `\\${c}`)}:%` : '%';
    await this.pool.query(`DELETE FROM ${this.table} WHERE key LIKE $1`, [like]);
  }
}
