import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationRef, MessageRef } from '../../src/core/checklist/model';
import { ChecklistService } from '../../src/core/checklist/service';
import type { PostedDigest } from '../../src/core/digest/ports';
import { Platforms } from '../../src/interactions/platforms';
import type { Store } from '../../src/core/ports';
import { Scheduler } from '../../src/scheduler/scheduler';
import { openStore } from '../../src/store';
import { FakeClock, makeRollout, TEMPLATE } from './fixtures';

/** An in-memory double of the publisher port: records which rollouts' conversations got a digest. */
class RecordingPublisher {
  posted: string[] = [];
  async postDigest(conversation: ConversationRef): Promise<PostedDigest> {
    // The fixture rollouts' ids are `slack:T1:<channel>`.
    this.posted.push(`slack:T1:${conversation.channel}`);
    const ref: MessageRef = { platform: 'slack', channel: conversation.channel, ts: `${this.posted.length}.000` };
    return { ref };
  }
}

function scheduler(store: Store, pub: RecordingPublisher, now: string, pageSize: number): Scheduler {
  const clock = new FakeClock(now);
  const service = new ChecklistService({
    store: store.rollouts,
    template: TEMPLATE,
    clock,
    defaults: { locale: 'nl', hosting: 'cloud-eu', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] },
    globalAdmins: [],
  });
  const platforms = new Platforms().register({
    id: 'slack',
    publisher: { postDigest: (c) => pub.postDigest(c), postCheckReport: async () => undefined },
    directory: { profile: async (user) => ({ user, exists: true, platformAdmin: false }) },
    cards: { post: async () => ({ platform: 'slack', channel: 'C', ts: '1' }), update: async () => undefined, retire: async () => undefined },
  });
  return new Scheduler({ store, service, template: TEMPLATE, clock, platforms, reminders: false, pageSize });
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

/** Opens the store named by `open` in a fresh temp dir before each test of the describe, closes it after. */
function freshStore(open: () => Promise<Store>): void {
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bwprep-pages-'));
    store = await open();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

const openSqlite = () => openStore(`sqlite://${join(dir, 'bwprep.sqlite')}`);

describe.each([
  ['sqlite', openSqlite],
  ['postgres', () => openStore(`${PG}?schema=${schema}`, {})],
] as const)('Scheduler tick over a store that pages (%s)', (_name, open) => {
  freshStore(open);

  it('walks every rollout page by page: each due rollout gets exactly one digest', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `slack:T1:C${i}`);
    for (const id of ids) await store.rollouts.create({ ...makeRollout({ id }), createdAt: '2026-11-24T15:00:00.000Z' }, []);
    expect((await store.rollouts.listPage!(undefined, 3)).map((r) => r.id)).toEqual(ids.slice(0, 3));
    expect((await store.rollouts.listPage!(ids[5], 3)).map((r) => r.id)).toEqual([ids[6]]);

    const pub = new RecordingPublisher();
    const s = scheduler(store, pub, '2026-11-25T08:00:00Z', 3);
    const res = await s.tick();
    expect(res.digests.map((d) => d.rolloutId)).toEqual(ids);
    expect(res.digests.every((d) => d.posted)).toBe(true);
    expect([...pub.posted].sort()).toEqual(ids);
    // 8 rollouts in pages of 4: the walk ends at the empty third page.
    await store.rollouts.create({ ...makeRollout({ id: 'slack:T1:C9' }), createdAt: '2026-11-24T15:00:00.000Z' }, []);
    const again = scheduler(store, pub, '2026-11-25T08:00:00Z', 4);
    const second = await again.tick();
    expect(second.digests).toHaveLength(8);
    expect(second.digests.filter((d) => d.posted).map((d) => d.rolloutId)).toEqual(['slack:T1:C9']);
  });
});

// Store-independent (the tick's page loop): on SQLite only, in a file of its own.
describe('Scheduler.stop() during a tick', () => {
  freshStore(openSqlite);

  it('stopped mid-tick: the digests under way finish, no further page is read; started again, the rest follow', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `slack:T1:C${i}`);
    for (const id of ids) await store.rollouts.create({ ...makeRollout({ id }), createdAt: '2026-11-24T15:00:00.000Z' }, []);
    const pub = new RecordingPublisher();
    // Slack is slow to take the posts: the first page's digests are all under way when the stop comes.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let arrived = 0;
    const post = pub.postDigest.bind(pub);
    pub.postDigest = async (c) => {
      arrived++;
      await gate;
      return post(c);
    };
    const s = scheduler(store, pub, '2026-11-25T08:00:00Z', 3);
    s.start();
    await expect.poll(() => arrived).toBe(3);
    const stopped = s.stop();
    open();
    await stopped;
    expect([...pub.posted].sort()).toEqual(ids.slice(0, 3));
    s.start();
    await expect.poll(() => pub.posted.length).toBe(7);
    await s.stop();
    expect([...pub.posted].sort()).toEqual(ids);
  });
});
