import type { AuditEntry, CheckRun, Rollout } from './checklist/model';

/** Injected time, so schedules and due dates are testable. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export type RolloutMutation = { rollout: Rollout; audit: AuditEntry[] } | null;

/**
 * The rollout repository. `update` is atomic per rollout: the mutator sees the latest version and its
 * result is written together with its audit entries, or retried on a concurrent write. Mutators must be
 * synchronous and pure (they may run more than once).
 */
export interface RolloutStore {
  get(id: string): Promise<Rollout | undefined>;
  /** Inserts if absent; returns the stored rollout (the existing one when another writer won). */
  create(rollout: Rollout, audit: AuditEntry[]): Promise<Rollout>;
  update(id: string, mutate: (current: Rollout) => RolloutMutation): Promise<Rollout>;
  list(): Promise<Rollout[]>;
  /**
   * Optional: up to `limit` rollouts with ids after `afterId` (all when undefined), in id order, so a caller
   * can walk every rollout holding one page in memory instead of all (the scheduler's tick).
   */
  listPage?(afterId: string | undefined, limit: number): Promise<Rollout[]>;
  /**
   * Optional: the stored version of a rollout (undefined when there is none) without reading the rollout,
   * for a caller that only needs to know whether it changed (the living card after an update). Without
   * it, callers read the rollout (`get`).
   */
  version?(id: string): Promise<number | undefined>;
}

export interface AuditStore {
  append(entries: AuditEntry[]): Promise<void>;
  /** Newest last. */
  list(rolloutId: string, opts?: { since?: string; limit?: number }): Promise<AuditEntry[]>;
}

/** Leases and one-shot keys (idempotency). Atomic across replicas sharing the store. */
export interface LeaseStore {
  /** True when `holder` now holds `key` (it was free, expired, or already held by `holder`). */
  acquire(key: string, holder: string, ttlMs: number): Promise<boolean>;
  release(key: string, holder: string): Promise<void>;
}

/** A plain TTL'd key/value cache (keyv): user profiles, event high-water marks, message refs. */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/**
 * The bounded per-rollout history of check runs, with their evidence (what `export` shows as evidence).
 * Kept apart from the audit trail, which records what people and the bot changed.
 */
export interface CheckHistoryStore {
  /** Adds a run; keeps at most the newest `CHECK_HISTORY_MAX_RUNS` runs of the last `CHECK_HISTORY_MAX_DAYS` days. */
  append(rolloutId: string, run: CheckRun): Promise<void>;
  /** Oldest first. */
  list(rolloutId: string): Promise<CheckRun[]>;
}

const CHECK_HISTORY_MAX_RUNS = 30;
const CHECK_HISTORY_MAX_DAYS = 30;

/** The check history on the kv store: one value per rollout (`checks:<rolloutId>`), pruned on every append. */
export function kvCheckHistory(kv: KeyValueStore, clock: Clock = systemClock): CheckHistoryStore {
  const key = (id: string) => `checks:${id}`;
  return {
    async append(rolloutId, run) {
      const cutoff = clock.now().getTime() - CHECK_HISTORY_MAX_DAYS * 86_400_000;
      const runs = [...((await kv.get<CheckRun[]>(key(rolloutId))) ?? []), run].filter((r) => Date.parse(r.at) >= cutoff).slice(-CHECK_HISTORY_MAX_RUNS);
      await kv.set(key(rolloutId), runs, CHECK_HISTORY_MAX_DAYS * 86_400_000);
    },
    async list(rolloutId) {
      return (await kv.get<CheckRun[]>(key(rolloutId))) ?? [];
    },
  };
}

export interface Store {
  rollouts: RolloutStore;
  audit: AuditStore;
  leases: LeaseStore;
  kv: KeyValueStore;
  /** A short description for logs/readyz, never the password. */
  describe(): string;
  ping(): Promise<void>;
  close(): Promise<void>;
}
