import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports';
import { createLogger } from '../../src/logging/logger';
import { openStore } from '../../src/store';
import { entry, makeRollout, uniqueId } from '../store/fixtures';
import { serverTempDir, STORE_SERVERS, type TestServer } from './servers';

/**
 * The store server crashes in the middle of a burst of changes (issue 11 §4, "nothing is half-written"),
 * against a real server this test starts on its own port and kills (SIGKILL / `pg_ctl -m immediate`).
 * Every change writes the rollout and its audit entry together; after the restart each change is there
 * whole or not at all: the version moved by exactly the number of audit entries, the rollout shows the
 * last of them, and every change a caller was told succeeded is among them. (A change in flight when the
 * server died may have committed without its caller hearing so: such a change is allowed, half of one is not.)
 */
const BURST = 120;
const KILL_AFTER = 25;

describe.each(STORE_SERVERS)('%s: the server crashes during a burst of changes', (_name, startServer, storeUrl) => {
  let dir: string;
  let server: TestServer;

  beforeAll(async () => {
    dir = serverTempDir('crash');
    server = await startServer(path.join(dir, 'server'));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every change is there whole or not at all, and none a caller was told succeeded is lost', async () => {
    const logger = createLogger({ level: 'silent' });
    const url = storeUrl(server, 'crash');
    let store: Store = await openStore(url, { logger });
    const id = uniqueId('crash');
    await store.rollouts.create(makeRollout(id), []);

    let succeeded = 0;
    let killed: Promise<void> | undefined;
    const confirmed: number[] = [];
    // Each change writes the change's number into the rollout and an audit entry naming it, in one update.
    const results = await Promise.allSettled(
      Array.from({ length: BURST }, (_, i) =>
        store.rollouts
          .update(id, (r) => {
            r.steps['2a'] = { ...r.steps['2a']!, note: String(i) };
            return { rollout: r, audit: [entry(id, 'step.done', { stepId: '2a', detail: { change: i } })] };
          })
          .then(() => {
            confirmed.push(i);
            if (++succeeded === KILL_AFTER) killed = server.kill();
          }),
      ),
    );
    await killed;
    expect(succeeded).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(results.some((r) => r.status === 'rejected')).toBe(true); // the crash cut the burst short
    await store.close().catch((err: unknown) => logger.warn({ err }, 'closing after the crash'));

    await server.start();
    store = await openStore(url, { logger });
    try {
      const after = (await store.rollouts.get(id))!;
      const audit = (await store.audit.list(id)).filter((a) => a.action === 'step.done');
      const changes = audit.map((a) => a.detail?.change as number);
      // Whole or not at all: one version step per audit entry, and the rollout holds the last change.
      expect(after.version - 1).toBe(audit.length);
      expect(after.steps['2a']?.note).toBe(String(changes.at(-1)));
      // Nothing confirmed is lost; nothing appears twice.
      expect(changes.filter((c) => confirmed.includes(c)).sort((a, b) => a - b)).toEqual([...confirmed].sort((a, b) => a - b));
      expect(new Set(changes).size).toBe(changes.length);
      // And the store works as before.
      const next = await store.rollouts.update(id, (r) => ({ rollout: r, audit: [entry(id, 'step.reopened', { stepId: '2a' })] }));
      expect(next.version).toBe(after.version + 1);
    } finally {
      await store.close();
    }
  }, 120_000);
});
