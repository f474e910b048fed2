import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isBwprepError } from '../../src/core/errors';
import type { Store } from '../../src/core/ports';
import { entry, makeRollout, uniqueId } from './fixtures';

/** Polls (no fixed sleep) until `holder` acquires `key`: the previous holder's lease has expired. */
async function untilAcquired(store: Store, key: string, holder: string, ttlMs: number): Promise<void> {
  await vi.waitFor(async () => expect(await store.leases.acquire(key, holder, ttlMs)).toBe(true), { timeout: 5_000, interval: 25 });
}

/**
 * The Store contract every backend must meet. `open` returns a new store instance on the same
 * underlying data each time it is called (a second replica / process sharing the store).
 */
export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`${name}: store contract`, () => {
    let store: Store;
    let replica: Store;

    beforeAll(async () => {
      store = await open();
      replica = await open();
    });
    afterAll(async () => {
      await store?.close();
      await replica?.close();
    });

    it('pings and describes itself without a password', async () => {
      await store.ping();
      expect(store.describe()).toMatch(/^(sqlite|redis|postgres) /);
      expect(store.describe()).not.toMatch(/secret|password/i);
    });

    describe('rollouts', () => {
      it('creates, gets and lists a rollout, writing its audit entries', async () => {
        const r = makeRollout();
        const created = await store.rollouts.create(r, [entry(r.id, 'rollout.created')]);
        expect(created.version).toBe(1);
        expect({ ...created, version: 0 }).toEqual(r);
        expect(await store.rollouts.get(r.id)).toEqual(created);
        expect(await replica.rollouts.get(r.id)).toEqual(created);
        expect((await store.rollouts.list()).map((x) => x.id)).toContain(r.id);
        expect((await store.audit.list(r.id)).map((e) => e.action)).toEqual(['rollout.created']);
      });

      it('get returns undefined for an unknown id', async () => {
        expect(await store.rollouts.get(uniqueId('missing'))).toBeUndefined();
      });

      it('create keeps the first writer and writes audit only when it inserted', async () => {
        const id = uniqueId();
        const first = makeRollout(id, { createdBy: 'slack:UFIRST' });
        await store.rollouts.create(first, [entry(id, 'rollout.created')]);
        const again = await replica.rollouts.create(makeRollout(id, { createdBy: 'slack:USECOND' }), [entry(id, 'rollout.created')]);
        expect(again.createdBy).toBe('slack:UFIRST');
        expect(await store.audit.list(id)).toHaveLength(1);
      });

      it('concurrent creates of one id from two replicas store exactly one', async () => {
        const id = uniqueId();
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 ? replica : store).rollouts.create(makeRollout(id, { createdBy: `slack:U${i}` }), [entry(id, 'rollout.created', { detail: { i } })]),
          ),
        );
        const winner = results[0]!.createdBy;
        expect(results.every((r) => r.createdBy === winner && r.version === 1)).toBe(true);
        expect(await store.audit.list(id)).toHaveLength(1);
      });

      it('update bumps the version and appends the audit entries with the change', async () => {
        const r = await store.rollouts.create(makeRollout(), []);
        const updated = await store.rollouts.update(r.id, (cur) => {
          cur.steps['1a']!.state = 'done';
          cur.steps['1a']!.doneBy = 'slack:U1';
          return { rollout: cur, audit: [entry(r.id, 'step.done', { stepId: '1a', from: 'open', to: 'done' })] };
        });
        expect(updated.version).toBe(2);
        expect(updated.steps['1a']!.state).toBe('done');
        expect(await replica.rollouts.get(r.id)).toEqual(updated);
        const audit = await store.audit.list(r.id);
        expect(audit).toEqual([entry(r.id, 'step.done', { stepId: '1a', from: 'open', to: 'done', at: audit[0]!.at })]);
      });

      it('update with a mutator that returns null changes nothing', async () => {
        const r = await store.rollouts.create(makeRollout(), []);
        const same = await store.rollouts.update(r.id, (cur) => {
          cur.steps['1a']!.state = 'verified'; // mutating the clone must not leak into the store
          return null;
        });
        expect(same).toEqual(r);
        expect(await store.rollouts.get(r.id)).toEqual(r);
        expect(await store.audit.list(r.id)).toEqual([]);
      });

      it('mutator errors propagate unchanged and nothing is written', async () => {
        const r = await store.rollouts.create(makeRollout(), []);
        const boom = new Error('refused by the domain');
        await expect(
          store.rollouts.update(r.id, (cur) => {
            cur.settings.locale = 'en';
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.rollouts.get(r.id)).toEqual(r);
        expect(await store.audit.list(r.id)).toEqual([]);
      });

      it('refuses audit entries that belong to another rollout, writing nothing', async () => {
        const r = await store.rollouts.create(makeRollout(), []);
        const other = uniqueId('other');
        // The user sees the generic internal error with its reference; the log names both rollouts.
        const refused = (id: string) => ({
          code: 'internal',
          userMessage: { key: 'error.internal', vars: { ref: 'audit-rollout-mismatch' } },
          message: `an audit entry for rollout ${other} was written with rollout ${id}`,
        });
        const onUpdate = await store.rollouts.update(r.id, (cur) => ({ rollout: cur, audit: [entry(other, 'step.done')] })).catch((e: unknown) => e);
        expect(isBwprepError(onUpdate)).toBe(true);
        expect(onUpdate).toMatchObject(refused(r.id));
        const fresh = makeRollout();
        const onCreate = await store.rollouts.create(fresh, [entry(other, 'rollout.created')]).catch((e: unknown) => e);
        expect(onCreate).toMatchObject(refused(fresh.id));
        expect(await store.rollouts.get(r.id)).toEqual(r);
        expect(await store.rollouts.get(fresh.id)).toBeUndefined();
        expect(await store.audit.list(other)).toEqual([]);
      });

      it('refuses a mutator that changes the rollout id, writing nothing', async () => {
        const r = await store.rollouts.create(makeRollout(), []);
        const moved = uniqueId('moved');
        const err = await store.rollouts.update(r.id, (cur) => ({ rollout: { ...cur, id: moved }, audit: [] })).catch((e: unknown) => e);
        expect(isBwprepError(err)).toBe(true);
        expect(err).toMatchObject({
          code: 'internal',
          userMessage: { key: 'error.internal', vars: { ref: 'rollout-id-changed' } },
          message: `a mutator changed the rollout id from ${r.id} to ${moved}`,
        });
        expect(await store.rollouts.get(r.id)).toEqual(r);
        expect(await store.rollouts.get(moved)).toBeUndefined();
      });

      it('update of an unknown id throws a clear BwprepError', async () => {
        const id = uniqueId('missing');
        const err = await store.rollouts.update(id, (cur) => ({ rollout: cur, audit: [] })).catch((e: unknown) => e);
        expect(isBwprepError(err)).toBe(true);
        expect(err).toMatchObject({
          code: 'internal',
          userMessage: { key: 'error.internal', vars: { ref: 'rollout-not-found' } },
          message: `rollout not found: ${id}`,
        });
        expect(await store.rollouts.get(id)).toBeUndefined();
      });

      it('20 truly concurrent updates from two replicas lose nothing', async () => {
        const r = await store.rollouts.create(makeRollout(), []);
        const n = 20;
        await Promise.all(
          Array.from({ length: n }, (_, i) =>
            (i % 2 ? replica : store).rollouts.update(r.id, (cur) => {
              cur.digest.history.push({ date: `2026-12-${String(i + 1).padStart(2, '0')}`, stepsPct: i, hoursPct: i });
              cur.settings.thresholds.minOwners += 1;
              return { rollout: cur, audit: [entry(r.id, 'rollout.settings_updated', { detail: { i } })] };
            }),
          ),
        );
        const final = (await store.rollouts.get(r.id))!;
        expect(final.version).toBe(1 + n);
        expect(final.settings.thresholds.minOwners).toBe(r.settings.thresholds.minOwners + n);
        expect(final.digest.history.map((d) => d.stepsPct).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        const audit = await store.audit.list(r.id);
        expect(audit).toHaveLength(n);
        expect(audit.map((e) => e.detail?.i)).toEqual(final.digest.history.map((d) => d.stepsPct));
      });

      it('lists thousands of rollouts', async () => {
        const ids = Array.from({ length: 1200 }, () => uniqueId('bulk'));
        for (let i = 0; i < ids.length; i += 100) {
          await Promise.all(ids.slice(i, i + 100).map((id) => store.rollouts.create(makeRollout(id), [])));
        }
        const listed = (await replica.rollouts.list()).map((r) => r.id);
        const set = new Set(listed);
        expect(ids.every((id) => set.has(id))).toBe(true);
        expect(listed).toEqual([...listed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      });
    });

    describe('audit', () => {
      it('appends in insertion order, newest last, with since and limit', async () => {
        const id = uniqueId();
        const other = uniqueId();
        const times = ['2026-11-20T08:00:00.000Z', '2026-11-21T08:00:00.000Z', '2026-11-22T08:00:00.000Z', '2026-11-23T08:00:00.000Z'];
        await store.audit.append([entry(id, 'step.assigned', { at: times[0]!, stepId: '1a' }), entry(other, 'step.done', { at: times[0]! })]);
        await replica.audit.append([entry(id, 'step.done', { at: times[1]!, stepId: '1a' })]);
        await store.audit.append([entry(id, 'step.reopened', { at: times[2]!, stepId: '1a' }), entry(id, 'step.done', { at: times[3]!, stepId: '1a' })]);
        await store.audit.append([]);
        const all = await replica.audit.list(id);
        expect(all.map((e) => e.at)).toEqual(times);
        expect(all[0]).toEqual(entry(id, 'step.assigned', { at: times[0]!, stepId: '1a' }));
        expect((await store.audit.list(id, { since: times[2]! })).map((e) => e.at)).toEqual(times.slice(2));
        expect((await store.audit.list(id, { limit: 2 })).map((e) => e.at)).toEqual(times.slice(2));
        expect((await store.audit.list(id, { since: times[1]!, limit: 1 })).map((e) => e.at)).toEqual([times[3]]);
        expect(await store.audit.list(id, { limit: 0 })).toEqual([]);
        expect(await store.audit.list(other)).toHaveLength(1);
        expect(await store.audit.list(uniqueId('none'))).toEqual([]);
      });
    });

    describe('leases', () => {
      it('is exclusive, re-entrant for its holder and released only by its holder', async () => {
        const key = `lease:${uniqueId()}`;
        expect(await store.leases.acquire(key, 'a', 10_000)).toBe(true);
        expect(await replica.leases.acquire(key, 'b', 10_000)).toBe(false);
        expect(await replica.leases.acquire(key, 'a', 10_000)).toBe(true);
        await replica.leases.release(key, 'b');
        expect(await store.leases.acquire(key, 'b', 10_000)).toBe(false);
        await replica.leases.release(key, 'a');
        expect(await store.leases.acquire(key, 'b', 10_000)).toBe(true);
      });

      it('expires after its TTL, and re-acquiring extends it', async () => {
        // No timing margins: expiry is observed by polling, and "extended" is compared with a probe lease of
        // the same short TTL taken *after* the original one (same clock, so it cannot expire earlier).
        const key = `lease:${uniqueId()}`;
        expect(await store.leases.acquire(key, 'a', 100)).toBe(true);
        await untilAcquired(replica, key, 'b', 600_000); // expired: another holder gets it
        expect(await store.leases.acquire(key, 'a', 100)).toBe(false);
        await replica.leases.release(key, 'b');

        const extended = `lease:${uniqueId()}`;
        const probe = `lease:${uniqueId()}`;
        expect(await store.leases.acquire(extended, 'a', 100)).toBe(true);
        expect(await store.leases.acquire(extended, 'a', 600_000)).toBe(true); // re-acquired: now held for 10 minutes
        expect(await store.leases.acquire(probe, 'a', 100)).toBe(true);
        await untilAcquired(replica, probe, 'b', 100); // the original 100 ms have certainly passed
        expect(await replica.leases.acquire(extended, 'b', 100)).toBe(false);
        await store.leases.release(extended, 'a');
      });

      it('exactly one of many concurrent holders wins (idempotency keys)', async () => {
        const key = `idem:${uniqueId()}`;
        const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? replica : store).leases.acquire(key, `holder-${i}`, 60_000)));
        expect(wins.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('kv', () => {
      it('sets, gets and deletes JSON values shared across replicas', async () => {
        const key = `profile:${uniqueId()}`;
        expect(await store.kv.get(key)).toBeUndefined();
        await store.kv.set(key, { name: 'Jan', tz: 'Europe/Amsterdam', n: [1, 2] });
        expect(await replica.kv.get(key)).toEqual({ name: 'Jan', tz: 'Europe/Amsterdam', n: [1, 2] });
        await store.kv.set(key, 'plain');
        expect(await replica.kv.get<string>(key)).toBe('plain');
        await replica.kv.delete(key);
        expect(await store.kv.get(key)).toBeUndefined();
        await store.kv.delete(key);
      });

      it('expires values after their TTL', async () => {
        const key = `hwm:${uniqueId()}`;
        const lasting = `hwm:${uniqueId()}`;
        await store.kv.set(lasting, 42, 600_000);
        await store.kv.set(key, 42, 100);
        expect(await replica.kv.get(lasting)).toBe(42);
        await vi.waitFor(async () => expect(await store.kv.get(key)).toBeUndefined(), { timeout: 5_000, interval: 25 });
        expect(await replica.kv.get(key)).toBeUndefined();
        expect(await replica.kv.get(lasting)).toBe(42);
        await store.kv.delete(lasting);
      });
    });
  });
}
