import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { AuditEntry, Rollout } from '../core/checklist/model';
import type { AuditStore, LeaseStore, RolloutMutation, RolloutStore, Store } from '../core/ports';
import { reasonOf, StartupError } from '../config/errors';
import type { Logger } from '../logging/logger';
import { applyMutation, backoff, checkAuditFor, conflictError, createKeyValueStore, MAX_UPDATE_ATTEMPTS, rolloutNotFound } from './shared';
import { SqliteKeyvStore } from './sqlite-keyv';

/** How long a writer waits for another process's write lock before SQLite reports busy (then we retry). */
const BUSY_TIMEOUT_MS = 5_000;
const LEASE_SWEEP_EVERY = 200;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rollouts (id TEXT PRIMARY KEY, version INTEGER NOT NULL, data TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, rollout_id TEXT NOT NULL, at TEXT NOT NULL, entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_rollout_seq ON audit (rollout_id, seq);
CREATE TABLE IF NOT EXISTS leases (key TEXT PRIMARY KEY, holder TEXT NOT NULL, expires INTEGER NOT NULL);
`;

interface RolloutRow {
  version: number;
  data: string;
}

/** Raised inside a transaction to roll it back and retry; never escapes this module. */
class RetryableConflict extends Error {}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

function toRollout(row: RolloutRow): Rollout {
  return { ...(JSON.parse(row.data) as Rollout), version: row.version };
}

/**
 * The embedded store: one SQLite file in WAL mode with a busy timeout, so several processes may share
 * it. better-sqlite3 is synchronous; every read-modify-write runs inside one `BEGIN IMMEDIATE`
 * transaction, which serializes writers across processes.
 */
export function openSqliteStore(path: string, description: string, logger?: Logger): Store {
  const memory = path === ':memory:';
  const file = memory ? path : resolve(process.cwd(), path);
  let db: Database.Database;
  try {
    if (!memory) mkdirSync(dirname(file), { recursive: true });
    db = new Database(file);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!memory) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.transaction(() => db.exec(SCHEMA)).immediate();
  } catch (err) {
    // A folder in the way, no write permission, not an SQLite file: name the file and the variable.
    throw new StartupError('startup.store.sqlite', { path: file, reason: reasonOf(err) }, { cause: err });
  }

  const st = {
    get: db.prepare<[string], RolloutRow>('SELECT version, data FROM rollouts WHERE id = ?'),
    version: db.prepare<[string], number>('SELECT version FROM rollouts WHERE id = ?').pluck(),
    list: db.prepare<[], RolloutRow>('SELECT version, data FROM rollouts ORDER BY id'),
    page: db.prepare<[string, number], RolloutRow>('SELECT version, data FROM rollouts WHERE id > ? ORDER BY id LIMIT ?'),
    insert: db.prepare<[string, number, string, number]>('INSERT INTO rollouts (id, version, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING'),
    cas: db.prepare<[string, number, number, string, number]>('UPDATE rollouts SET data = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?'),
    audit: db.prepare<[string, string, string]>('INSERT INTO audit (rollout_id, at, entry) VALUES (?, ?, ?)'),
    auditAll: db.prepare<[string, string], { entry: string }>('SELECT entry FROM audit WHERE rollout_id = ? AND at >= ? ORDER BY seq'),
    auditLast: db.prepare<[string, string, number], { entry: string }>(
      'SELECT entry FROM (SELECT seq, entry FROM audit WHERE rollout_id = ? AND at >= ? ORDER BY seq DESC LIMIT ?) ORDER BY seq',
    ),
    acquire: db.prepare<[string, string, number, number]>(
      `INSERT INTO leases (key, holder, expires) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
       WHERE leases.expires <= ? OR leases.holder = excluded.holder`,
    ),
    release: db.prepare<[string, string]>('DELETE FROM leases WHERE key = ? AND holder = ?'),
    sweepLeases: db.prepare<[number]>('DELETE FROM leases WHERE expires <= ?'),
  };

  const appendAudit = (entries: AuditEntry[]): void => {
    for (const e of entries) st.audit.run(e.rolloutId, e.at, JSON.stringify(e));
  };

  const createTx = db.transaction((rollout: Rollout, audit: AuditEntry[]): Rollout => {
    const stored: Rollout = { ...rollout, version: 1 };
    if (st.insert.run(rollout.id, stored.version, JSON.stringify(stored), Date.now()).changes === 1) {
      appendAudit(audit);
      return stored;
    }
    const row = st.get.get(rollout.id);
    if (!row) throw new Error(`sqlite: rollout ${rollout.id} neither inserted nor found`);
    return toRollout(row);
  });

  const updateTx = db.transaction((id: string, mutate: (r: Rollout) => RolloutMutation): Rollout => {
    const row = st.get.get(id);
    if (!row) throw rolloutNotFound(id);
    // One parse, the mutator's draft; the stored state is parsed again only when the mutator declines.
    const change = applyMutation({ id, version: row.version }, mutate, toRollout(row));
    if (!change) return toRollout(row);
    const { next } = change;
    if (st.cas.run(JSON.stringify(next), next.version, Date.now(), id, row.version).changes !== 1) throw new RetryableConflict();
    appendAudit(change.audit);
    return next;
  });

  const appendTx = db.transaction(appendAudit);

  /** Runs a write transaction, retrying when another process holds the lock past the busy timeout. */
  async function withRetry<T>(id: string, fn: () => T): Promise<T> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      try {
        return fn();
      } catch (err) {
        if (!(err instanceof RetryableConflict) && !isBusy(err)) throw err;
        logger?.debug({ err, rolloutId: id, attempt }, 'sqlite write contended, retrying');
        await backoff(attempt);
      }
    }
    throw conflictError(id, MAX_UPDATE_ATTEMPTS);
  }

  const rollouts: RolloutStore = {
    async get(id) {
      const row = st.get.get(id);
      return row ? toRollout(row) : undefined;
    },
    async create(rollout, audit) {
      checkAuditFor(rollout.id, audit);
      return withRetry(rollout.id, () => createTx.immediate(rollout, audit));
    },
    async update(id, mutate) {
      return withRetry(id, () => updateTx.immediate(id, mutate));
    },
    async version(id) {
      return st.version.get(id);
    },
    async list() {
      return st.list.all().map(toRollout);
    },
    async listPage(afterId, limit) {
      // '' sorts before every id (ids are non-empty).
      return st.page.all(afterId ?? '', limit).map(toRollout);
    },
  };

  const audit: AuditStore = {
    async append(entries) {
      if (entries.length > 0) appendTx.immediate(entries);
    },
    async list(rolloutId, opts = {}) {
      const since = opts.since ?? '';
      if (opts.limit !== undefined && opts.limit <= 0) return [];
      const rows = opts.limit === undefined ? st.auditAll.all(rolloutId, since) : st.auditLast.all(rolloutId, since, opts.limit);
      return rows.map((r) => JSON.parse(r.entry) as AuditEntry);
    },
  };

  let acquires = 0;
  const leases: LeaseStore = {
    async acquire(key, holder, ttlMs) {
      const now = Date.now();
      if (++acquires % LEASE_SWEEP_EVERY === 0) st.sweepLeases.run(now);
      return st.acquire.run(key, holder, now + ttlMs, now).changes === 1;
    },
    async release(key, holder) {
      st.release.run(key, holder);
    },
  };

  logger?.info({ store: description }, 'store opened');
  return {
    rollouts,
    audit,
    leases,
    kv: createKeyValueStore(new SqliteKeyvStore(db), logger),
    describe: () => description,
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
