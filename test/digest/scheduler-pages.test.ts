import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageRef, Rollout } from '../../src/core/checklist/model';
import type { DigestPublisher, PostedDigest } from '../../src/core/digest/ports';
import type { Store } from '../../src/core/ports';
import { Scheduler } from '../../src/scheduler/scheduler';
import { openStore } from '../../src/store';
import { FakeClock, makeRollout, TEMPLATE } from './fixtures';

class RecordingPublisher implements DigestPublisher {
  posted: string[] = [];
  async postDigest(rollout: Rollout): Promise<PostedDigest> {
    this.posted.push(rollout.id);
    const ref: MessageRef = { platform: 'slack', channel: rollout.conversation.channel, ts: `${this.posted.length}.000` };
    return { ref };
  }
}

const PG = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `t_${randomUUID().replace(/-/g, '')}`;
let dir: string;
let store: Store;

afterAll(async () => {
  const client = new Client({ connectionString: PG });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe.each([
  ['sqlite', () => openStore(`sqlite://${join(dir, 'bwprep.sqlite')}`)],
  ['postgres', () => openStore(`${PG}?schema=${schema}`, {})],
] as const)('Scheduler tick over a store that pages (%s)', (_name, open) => {
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bwprep-pages-'));
    store = await open();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks every rollout page by page: each due rollout gets exactly one digest', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `slack:T1:C${i}`);
    for (const id of ids) await store.rollouts.create({ ...makeRollout({ id }), createdAt: '2026-11-24T15:00:00.000Z' }, []);
    expect((await store.rollouts.listPage!(undefined, 3)).map((r) => r.id)).toEqual(ids.slice(0, 3));
    expect((await store.rollouts.listPage!(ids[5], 3)).map((r) => r.id)).toEqual([ids[6]]);

    const pub = new RecordingPublisher();
    const s = new Scheduler({ store, template: TEMPLATE, clock: new FakeClock('2026-11-25T08:00:00Z'), publisher: pub, pageSize: 3 });
    const res = await s.tick();
    expect(res.digests.map((d) => d.rolloutId)).toEqual(ids);
    expect(res.digests.every((d) => d.posted)).toBe(true);
    expect([...pub.posted].sort()).toEqual(ids);
    // 8 rollouts in pages of 4: the walk ends at the empty third page.
    await store.rollouts.create({ ...makeRollout({ id: 'slack:T1:C9' }), createdAt: '2026-11-24T15:00:00.000Z' }, []);
    const again = new Scheduler({ store, template: TEMPLATE, clock: new FakeClock('2026-11-25T08:00:00Z'), publisher: pub, pageSize: 4 });
    const second = await again.tick();
    expect(second.digests).toHaveLength(8);
    expect(second.digests.filter((d) => d.posted).map((d) => d.rolloutId)).toEqual(['slack:T1:C9']);
  });
});
