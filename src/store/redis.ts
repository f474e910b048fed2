import Redis from 'ioredis';
import type { AuditEntry, Rollout } from '../core/checklist/model';
import type { AuditStore, LeaseStore, RolloutStore, Store } from '../core/ports';
import { reasonOf, StartupError } from '../config/errors';
import type { Logger } from '../logging/logger';
import { RedisKeyvStore } from './redis-keyv';
import { type CasBackend, checkAuditFor, createKeyValueStore, filterAudit, updateWithRetry } from './shared';
import type { StoreUrl } from './url';

/*
 * Keys (all under the URL's `prefix`, default `bwprep:`):
 *   rollouts           hash  id → rollout JSON
 *   rollout-versions   hash  id → version (the compare-and-set token)
 *   audit:<id>         list  audit entry JSON, oldest first
 *   lease:<key>        string holder, PX = TTL
 *   kv:bwprep:<key>    string keyv value, PX = TTL
 * Multi-key writes run as Lua scripts, so each is atomic. This targets a single Redis server (or a
 * primary with replicas), not Redis Cluster: the scripts touch keys in different hash slots.
 */

/** Inserts the rollout if absent and appends its audit; returns nil when inserted, else the stored JSON. */
const CREATE_LUA = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], '1')
  for i = 3, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
  return false
end
return redis.call('HGET', KEYS[1], ARGV[1])`;

/** Writes the rollout and appends its audit only if the stored version is still ARGV[2]. */
const CAS_LUA = `
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
for i = 5, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
return 1`;

/** Takes the lease when free (or expired: Redis dropped it) or already ours; (re)sets the TTL. */
const ACQUIRE_LUA = `
local h = redis.call('GET', KEYS[1])
if h == false or h == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

function defineScript(client: Redis, name: string, numberOfKeys: number, lua: string): ScriptFn {
  client.defineCommand(name, { numberOfKeys, lua });
  const fn = (client as unknown as Record<string, ScriptFn>)[name];
  if (!fn) throw new Error(`redis: could not define script ${name}`);
  return fn.bind(client);
}

export async function openRedisStore(url: Extract<StoreUrl, { kind: 'redis' }>, logger?: Logger): Promise<Store> {
  const client = new Redis({
    host: url.host,
    port: url.port,
    db: url.db,
    ...(url.username ? { username: url.username } : {}),
    ...(url.password ? { password: url.password } : {}),
    ...(url.tls ? { tls: {} } : {}),
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 3,
  });
  // ioredis rejects connect() with "Connection is closed."; the reason is in the last 'error' event.
  // Before the first connect the failure is reported once, as the start-up message; after it, logged.
  let lastError: Error | undefined;
  let connected = false;
  client.on('error', (err: Error) => {
    lastError = err;
    if (connected) logger?.warn({ err, store: url.description }, 'redis connection error');
  });
  try {
    await client.connect();
    connected = true;
  } catch (err) {
    client.disconnect();
    const shown = `${url.tls ? 'rediss' : 'redis'}://${url.username ? `${url.username}${url.password ? ':***' : ''}@` : url.password ? ':***@' : ''}${url.host}:${url.port}/${url.db}`;
    throw new StartupError('startup.store.redis', { url: shown, reason: reasonOf(lastError ?? err) }, { cause: err });
  }

  const p = url.prefix;
  const ROLLOUTS = `${p}rollouts`;
  const VERSIONS = `${p}rollout-versions`;
  const auditKey = (id: string) => `${p}audit:${id}`;
  const leaseKey = (key: string) => `${p}lease:${key}`;

  const createScript = defineScript(client, 'bwprepCreate', 3, CREATE_LUA);
  const casScript = defineScript(client, 'bwprepCas', 3, CAS_LUA);
  const acquireScript = defineScript(client, 'bwprepAcquire', 1, ACQUIRE_LUA);
  const releaseScript = defineScript(client, 'bwprepRelease', 1, RELEASE_LUA);

  const parse = (json: string): Rollout => JSON.parse(json) as Rollout;

  const backend: CasBackend = {
    async get(id) {
      const json = await client.hget(ROLLOUTS, id);
      return json === null ? undefined : parse(json);
    },
    async compareAndSet(next, expectedVersion, audit) {
      const done = await casScript(
        ROLLOUTS,
        VERSIONS,
        auditKey(next.id),
        next.id,
        String(expectedVersion),
        String(next.version),
        JSON.stringify(next),
        ...audit.map((e) => JSON.stringify(e)),
      );
      return done === 1;
    },
  };

  const rollouts: RolloutStore = {
    get: backend.get,
    async create(rollout, audit) {
      checkAuditFor(rollout.id, audit);
      const stored: Rollout = { ...rollout, version: 1 };
      const existing = (await createScript(
        ROLLOUTS,
        VERSIONS,
        auditKey(rollout.id),
        rollout.id,
        JSON.stringify(stored),
        ...audit.map((e) => JSON.stringify(e)),
      )) as string | null;
      return existing === null ? stored : parse(existing);
    },
    update: (id, mutate) => updateWithRetry(backend, id, mutate),
    async list() {
      return (await client.hvals(ROLLOUTS)).map(parse).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
  };

  const audit: AuditStore = {
    async append(entries) {
      if (entries.length === 0) return;
      const tx = client.multi();
      for (const e of entries) tx.rpush(auditKey(e.rolloutId), JSON.stringify(e));
      const results = await tx.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw new Error(`redis: audit append failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
    },
    async list(rolloutId, opts = {}) {
      if (opts.limit !== undefined && opts.limit <= 0) return [];
      const start = opts.since === undefined && opts.limit !== undefined ? -opts.limit : 0;
      const raw = await client.lrange(auditKey(rolloutId), start, -1);
      return filterAudit(
        raw.map((s) => JSON.parse(s) as AuditEntry),
        opts,
      );
    },
  };

  const leases: LeaseStore = {
    async acquire(key, holder, ttlMs) {
      return (await acquireScript(leaseKey(key), holder, Math.max(1, Math.ceil(ttlMs)))) === 1;
    },
    async release(key, holder) {
      await releaseScript(leaseKey(key), holder);
    },
  };

  logger?.info({ store: url.description }, 'store opened');
  return {
    rollouts,
    audit,
    leases,
    kv: createKeyValueStore(new RedisKeyvStore(client, p), logger),
    describe: () => url.description,
    async ping() {
      await client.ping();
    },
    async close() {
      if (client.status !== 'end') await client.quit();
    },
  };
}
