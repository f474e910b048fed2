import type { AuditEntry, Rollout } from '../../src/core/checklist/model';
import { BwprepError } from '../../src/core/errors';
import type { AuditStore, RolloutMutation, RolloutStore } from '../../src/core/ports';

/**
 * An in-memory RolloutStore (with its AuditStore as `audit`) for core unit tests. It keeps the port's promises that matter to
 * the service: the mutator sees a private copy of the latest rollout, `null` writes nothing, the version is
 * bumped on every write, and the rollout and its audit entries land together (or not at all, if the
 * mutator throws).
 */
export class MemoryStore implements RolloutStore {
  private readonly rollouts = new Map<string, Rollout>();
  private readonly entries: AuditEntry[] = [];
  /** Number of successful writes (creates + updates), to tell no-ops from writes. */
  writes = 0;

  async get(id: string): Promise<Rollout | undefined> {
    const r = this.rollouts.get(id);
    return r ? structuredClone(r) : undefined;
  }

  async create(rollout: Rollout, audit: AuditEntry[]): Promise<Rollout> {
    const existing = this.rollouts.get(rollout.id);
    if (existing) return structuredClone(existing);
    const stored = structuredClone({ ...rollout, version: 1 });
    this.rollouts.set(rollout.id, stored);
    this.entries.push(...structuredClone(audit));
    this.writes++;
    return structuredClone(stored);
  }

  async update(id: string, mutate: (current: Rollout) => RolloutMutation): Promise<Rollout> {
    const current = this.rollouts.get(id);
    if (!current) throw new BwprepError('internal', { key: 'error.internal', vars: { ref: 'rollout-not-found' } }, { detail: `rollout not found: ${id}` });
    const result = mutate(structuredClone(current));
    if (result === null) return structuredClone(current);
    const next = structuredClone({ ...result.rollout, version: current.version + 1 });
    this.rollouts.set(id, next);
    this.entries.push(...structuredClone(result.audit));
    this.writes++;
    return structuredClone(next);
  }

  async list(): Promise<Rollout[]> {
    return [...this.rollouts.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((r) => structuredClone(r));
  }

  /** AuditStore.list: this rollout's entries, newest last. */
  async listAudit(rolloutId: string, opts: { since?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    let out = this.entries.filter((e) => e.rolloutId === rolloutId && (opts.since === undefined || e.at >= opts.since));
    if (opts.limit !== undefined) out = opts.limit <= 0 ? [] : out.slice(-opts.limit);
    return structuredClone(out);
  }

  /** The audit side of the store, as the AuditStore port. */
  get audit(): AuditStore {
    return {
      append: async (e) => {
        this.entries.push(...structuredClone(e));
      },
      list: (id, opts) => this.listAudit(id, opts),
    };
  }
}
