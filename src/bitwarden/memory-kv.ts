import type { KeyValueStore } from '../core/ports';

/** A process-local KeyValueStore (for `bwprep check` and tests): values are cloned in and out, TTLs honoured. */
export function memoryKeyValueStore(now: () => number = Date.now): KeyValueStore {
  const data = new Map<string, { value: string; expires?: number }>();
  return {
    async get<T>(key: string): Promise<T | undefined> {
      const e = data.get(key);
      if (!e) return undefined;
      if (e.expires !== undefined && e.expires <= now()) {
        data.delete(key);
        return undefined;
      }
      return JSON.parse(e.value) as T;
    },
    async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
      data.set(key, { value: JSON.stringify(value), ...(ttlMs ? { expires: now() + ttlMs } : {}) });
    },
    async delete(key: string): Promise<void> {
      data.delete(key);
    },
  };
}
