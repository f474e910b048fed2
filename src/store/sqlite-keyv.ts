import type Database from 'better-sqlite3';
import { KeyvAdapterBase } from './shared';

/** How often (in writes) expired rows are swept; keyv also drops an expired key when it is read. */
const SWEEP_EVERY = 500;

/** A keyv storage adapter over better-sqlite3: table `keyv(key TEXT PRIMARY KEY, value TEXT, expires INTEGER)`. */
export class SqliteKeyvStore extends KeyvAdapterBase {
  private writes = 0;
  private readonly stmts;

  constructor(db: Database.Database) {
    super();
    db.exec('CREATE TABLE IF NOT EXISTS keyv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires INTEGER)');
    this.stmts = {
      get: db.prepare<[string, number], { value: string }>('SELECT value FROM keyv WHERE key = ? AND (expires IS NULL OR expires > ?)'),
      set: db.prepare<[string, string, number | null]>(
        'INSERT INTO keyv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires',
      ),
      del: db.prepare<[string]>('DELETE FROM keyv WHERE key = ?'),
      clear: db.prepare<[string]>("DELETE FROM keyv WHERE key LIKE ? ESCAPE '\\'"),
      sweep: db.prepare<[number]>('DELETE FROM keyv WHERE expires IS NOT NULL AND expires <= ?'),
    };
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    return this.stmts.get.get(key, Date.now())?.value as Value | undefined;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const expires = typeof ttl === 'number' && ttl > 0 ? Date.now() + ttl : null;
    this.stmts.set.run(key, typeof value === 'string' ? value : JSON.stringify(value), expires);
    if (++this.writes % SWEEP_EVERY === 0) this.stmts.sweep.run(Date.now());
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.stmts.del.run(key).changes > 0;
  }

  async clear(): Promise<void> {
    const ns = this.namespace ? `${this.namespace.replace(/[\\%_]/g, (c) => `\\${c}`)}:%` : '%';
    this.stmts.clear.run(ns);
  }
}
