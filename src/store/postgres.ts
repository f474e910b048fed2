import { Pool, type PoolClient } from 'pg';
import type { AuditEntry, Rollout } from '../core/checklist/model';
import type { AuditStore, LeaseStore, RolloutStore, Store } from '../core/ports';
import { reasonOf, StartupError, withoutPassword } from '../config/errors';
import type { Logger } from '../logging/logger';
import { PostgresKeyvStore } from './postgres-keyv';
import { type CasBackend, checkAuditFor, createKeyValueStore, updateWithRetry } from './shared';
import type { StoreUrl } from './url';

const LEASE_SWEEP_EVERY = 200;
/** Serializes schema creation when several replicas start at once (arbitrary constant key). */
const DDL_LOCK_KEY = 0x62777072; // "bwpr"
/** Milliseconds since the epoch on the database's clock, so replicas with skewed clocks agree on leases. */
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

interface RolloutRow {
  version: number;
  data: string;
}

function toRollout(row: RolloutRow): Rollout {
  return { ...(JSON.parse(row.data) as Rollout), version: row.version };
}

/**
 * PostgreSQL: tables `bwprep_rollouts`, `bwprep_audit`, `bwprep_leases`, `bwprep_keyv` in the URL's
 * `schema` (default `public`), created on start. Updates are `UPDATE … WHERE version = $n` plus the
 * audit inserts in one transaction.
 */
export async function openPostgresStore(url: Extract<StoreUrl, { kind: 'postgres' }>, logger?: Logger): Promise<Store> {
  const pool = new Pool({ connectionString: url.connectionString, max: 10, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  pool.on('error', (err) => logger?.warn({ err, store: url.description }, 'postgres idle client error'));

  const s = `"${url.schema}"`;
  const T = {
    rollouts: `${s}.bwprep_rollouts`,
    audit: `${s}.bwprep_audit`,
    leases: `${s}.bwprep_leases`,
    keyv: `${s}.bwprep_keyv`,
  };

  /**
   * One transaction on a checked-out client. While checked out, a client whose connection dies between two
   * queries emits 'error' with no listener of the pool's (pg-pool listens only to idle clients), which
   * would be an uncaught exception that ends the process; this listener logs it, the next query rejects,
   * and the broken client is destroyed on release instead of going back to the pool.
   */
  async function tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await pool.connect();
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
      logger?.warn({ err, store: url.description }, 'postgres connection lost during a transaction');
    };
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      const result = await fn(c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      if (!broken) {
        await c.query('ROLLBACK').catch((rollbackErr: unknown) => {
          // A client that cannot even roll back is not given to the next transaction.
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
          logger?.warn({ err: rollbackErr }, 'postgres rollback failed');
        });
      }
      throw err;
    } finally {
      c.off('error', onError);
      c.release(broken);
    }
  }

  try {
    await tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK_KEY]);
      const exists = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [url.schema]);
      if (exists.rowCount === 0) await c.query(`CREATE SCHEMA ${s}`);
      await c.query(`
        CREATE TABLE IF NOT EXISTS ${T.rollouts} (
          id text PRIMARY KEY, version integer NOT NULL, data text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS ${T.audit} (
          seq bigserial PRIMARY KEY, rollout_id text NOT NULL, at text COLLATE "C" NOT NULL, entry text NOT NULL);
        CREATE INDEX IF NOT EXISTS bwprep_audit_rollout_seq ON ${T.audit} (rollout_id, seq);
        CREATE TABLE IF NOT EXISTS ${T.leases} (key text PRIMARY KEY, holder text NOT NULL, expires_at bigint NOT NULL);
        CREATE TABLE IF NOT EXISTS ${T.keyv} (key text PRIMARY KEY, value text NOT NULL, expires bigint);`);
    });
  } catch (err) {
    await pool.end().catch((endErr: unknown) => logger?.warn({ err: endErr }, 'postgres pool end failed'));
    throw new StartupError('startup.store.postgres', { url: withoutPassword(url.connectionString), reason: reasonOf(err) }, { cause: err });
  }

  /** Inserts audit entries in order (bigserial follows the ORDER BY), inside the caller's transaction. */
  async function insertAudit(c: PoolClient | Pool, entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await c.query(
      `INSERT INTO ${T.audit} (rollout_id, at, entry)
       SELECT r, a, e FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(r, a, e, n) ORDER BY n`,
      [entries.map((e) => e.rolloutId), entries.map((e) => e.at), entries.map((e) => JSON.stringify(e))],
    );
  }

  const backend: CasBackend = {
    async get(id) {
      const r = await pool.query<RolloutRow>(`SELECT version, data FROM ${T.rollouts} WHERE id = $1`, [id]);
      return r.rows[0] ? toRollout(r.rows[0]) : undefined;
    },
    async compareAndSet(next, expectedVersion, audit) {
      return tx(async (c) => {
        const r = await c.query(`UPDATE ${T.rollouts} SET data = $1, version = $2, updated_at = now() WHERE id = $3 AND version = $4`, [
          JSON.stringify(next),
          next.version,
          next.id,
          expectedVersion,
        ]);
        if (r.rowCount !== 1) return false;
        await insertAudit(c, audit);
        return true;
      });
    },
  };

  const rollouts: RolloutStore = {
    get: backend.get,
    async create(rollout, audit) {
      checkAuditFor(rollout.id, audit);
      const stored: Rollout = { ...rollout, version: 1 };
      return tx(async (c) => {
        const ins = await c.query(`INSERT INTO ${T.rollouts} (id, version, data) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, [
          rollout.id,
          stored.version,
          JSON.stringify(stored),
        ]);
        if (ins.rowCount === 1) {
          await insertAudit(c, audit);
          return stored;
        }
        const r = await c.query<RolloutRow>(`SELECT version, data FROM ${T.rollouts} WHERE id = $1`, [rollout.id]);
        if (!r.rows[0]) throw new Error(`postgres: rollout ${rollout.id} neither inserted nor found`);
        return toRollout(r.rows[0]);
      });
    },
    update: (id, mutate) => updateWithRetry(backend, id, mutate),
    async list() {
      return (await pool.query<RolloutRow>(`SELECT version, data FROM ${T.rollouts} ORDER BY id`)).rows.map(toRollout);
    },
    async listPage(afterId, limit) {
      const sql = `SELECT version, data FROM ${T.rollouts} WHERE id > $1 ORDER BY id LIMIT $2`;
      return (await pool.query<RolloutRow>(sql, [afterId ?? '', limit])).rows.map(toRollout);
    },
  };

  const audit: AuditStore = {
    async append(entries) {
      await insertAudit(pool, entries);
    },
    async list(rolloutId, opts = {}) {
      if (opts.limit !== undefined && opts.limit <= 0) return [];
      const since = opts.since ?? '';
      const r =
        opts.limit === undefined
          ? await pool.query<{ entry: string }>(`SELECT entry FROM ${T.audit} WHERE rollout_id = $1 AND at >= $2 ORDER BY seq`, [rolloutId, since])
          : await pool.query<{ entry: string }>(
              `SELECT entry FROM (SELECT seq, entry FROM ${T.audit} WHERE rollout_id = $1 AND at >= $2 ORDER BY seq DESC LIMIT $3) t ORDER BY seq`,
              [rolloutId, since, opts.limit],
            );
      return r.rows.map((row) => JSON.parse(row.entry) as AuditEntry);
    },
  };

  let acquires = 0;
  const leases: LeaseStore = {
    async acquire(key, holder, ttlMs) {
      if (++acquires % LEASE_SWEEP_EVERY === 0) await pool.query(`DELETE FROM ${T.leases} WHERE expires_at <= ${NOW_MS}`);
      const r = await pool.query(
        `INSERT INTO ${T.leases} AS l (key, holder, expires_at) VALUES ($1, $2, ${NOW_MS} + $3)
         ON CONFLICT (key) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE l.expires_at <= ${NOW_MS} OR l.holder = EXCLUDED.holder`,
        [key, holder, Math.max(1, Math.ceil(ttlMs))],
      );
      return r.rowCount === 1;
    },
    async release(key, holder) {
      await pool.query(`DELETE FROM ${T.leases} WHERE key = $1 AND holder = $2`, [key, holder]);
    },
  };

  logger?.info({ store: url.description }, 'store opened');
  let closed = false;
  return {
    rollouts,
    audit,
    leases,
    kv: createKeyValueStore(new PostgresKeyvStore(pool, T.keyv), logger),
    describe: () => url.description,
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
