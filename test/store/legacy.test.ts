import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ChecklistService } from '../../src/core/checklist/service';
import type { Store } from '../../src/core/ports';
import { openStore } from '../../src/store';
import { loadTemplate } from '../../src/templates';
import { buildChecklistView } from '../../src/views/checklist';
import { buildReport, reportCsv } from '../../src/views/report';
import { plainText } from '../../src/views/rich';

/**
 * Stores written by release 0.1.0 (test/fixtures/legacy, made by make-fixture.gen.ts with that release's
 * code) are read by this one with nothing lost: the rollout, its owners, states, note, skip reason, due date,
 * card, last checks, the audit trail and the kv values. And work goes on: a new change is saved on top.
 */
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'legacy');
const ID = 'slack:T0LEGACY:C0LEGACY';
const ADA = { user: 'slack:U0ADA', surface: 'slack' as const };

async function expectLegacyReadable(store: Store): Promise<void> {
  const r = (await store.rollouts.get(ID))!;
  expect(r).toBeDefined();
  expect(r.settings).toMatchObject({ locale: 'en', hosting: 'self-hosted', serverUrl: 'https://vault.example.test', admins: ['slack:U0ADA'] });
  expect(r.steps['2a']).toMatchObject({ state: 'failing', owner: 'slack:U0BOB', doneBy: 'slack:U0BOB', note: 'beleid *412* & <klaar>' });
  expect(r.steps['4c']).toMatchObject({ owner: 'slack:U0BOB', due: '2026-12-01', dueSource: 'manual' });
  expect(r.steps['4e']).toMatchObject({ state: 'not_applicable', skipReason: 'Geen custom rollen nodig' });
  expect(r.steps['4d']).toMatchObject({ state: 'verified', lastCheck: { status: 'pass' } });
  expect(r.card).toEqual({ platform: 'slack', channel: 'C0LEGACY', ts: '1700000000.000100' });
  const audit = await store.audit.list(ID);
  expect(audit.map((a) => a.action)).toEqual([
    'rollout.created',
    'step.assigned',
    'step.assigned',
    'step.done',
    'step.skipped',
    'step.due_set',
    'rollout.card_posted',
    'step.check',
    'step.check',
    'rollout.locale_set',
  ]);
  expect(await store.kv.get('bw:hwm:legacy')).toEqual({ at: '2026-11-20T10:00:00.000Z' });

  // The old check summary (policy names stored in both languages) renders in either language.
  const template = loadTemplate();
  const now = new Date('2026-11-25T09:00:00Z');
  const nl = buildChecklistView(template, r, now, 'nl')
    .phases.flatMap((p) => p.steps)
    .find((s) => s.id === '2a')!;
  expect(plainText(nl.lastCheck!.summary)).toContain('Tweestapsaanmelding, Eén organisatie');
  const en = buildChecklistView(template, r, now, 'en')
    .phases.flatMap((p) => p.steps)
    .find((s) => s.id === '2a')!;
  expect(plainText(en.lastCheck!.summary)).toContain('Two-step login, Single organization');
  expect(reportCsv(buildReport(template, r, now, 'en', audit))).toContain('beleid *412* & <klaar>');

  // Work goes on with today's service.
  const service = new ChecklistService({
    store: store.rollouts,
    template,
    clock: { now: () => now },
    defaults: { locale: 'nl', hosting: 'cloud-eu', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] },
    globalAdmins: [],
  });
  const done = await service.markDone(ID, '4c', ADA, 'groepen nagelopen');
  expect(done.rollout.steps['4c']).toMatchObject({ state: 'done', doneBy: 'slack:U0ADA', owner: 'slack:U0BOB', due: '2026-12-01' });
  expect(done.rollout.version).toBe(r.version + 1);
  expect((await store.audit.list(ID)).at(-1)).toMatchObject({ action: 'step.done', stepId: '4c' });
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('stores written by release 0.1.0', () => {
  it('SQLite: the file opens and reads whole', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bwprep-legacy-'));
    const file = path.join(dir, 'bwprep.sqlite');
    copyFileSync(path.join(FIXTURES, 'v0.1.0.sqlite'), file);
    const store = await openStore(`sqlite://${file}`);
    cleanups.push(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await expectLegacyReadable(store);
  });

  it('Redis: the keys, restored under a fresh prefix, read whole', async () => {
    const prefix = `bwprep-legacy-${randomUUID()}:`;
    const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await redis.connect();
    const dump = JSON.parse(readFileSync(path.join(FIXTURES, 'v0.1.0.redis.json'), 'utf8')) as Record<string, { type: string; value: unknown }>;
    for (const [name, { type, value }] of Object.entries(dump)) {
      const key = `${prefix}${name}`;
      if (type === 'hash') await redis.hset(key, value as Record<string, string>);
      else if (type === 'list') await redis.rpush(key, ...(value as string[]));
      else await redis.set(key, value as string);
    }
    const store = await openStore(`redis://127.0.0.1:6379/0?prefix=${encodeURIComponent(prefix)}`);
    cleanups.push(async () => {
      await store.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });
    await expectLegacyReadable(store);
  });

  it('PostgreSQL: the rows, restored into a fresh schema, read whole', async () => {
    const schema = `bwprep_legacy_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const url = `postgres://postgres@127.0.0.1:5432/test?schema=${schema}`;
    // The release's own DDL: opening a store creates the tables; then the old rows go in.
    const creator = await openStore(url);
    await creator.close();
    const pg = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
    await pg.connect();
    const rows = JSON.parse(readFileSync(path.join(FIXTURES, 'v0.1.0.postgres.json'), 'utf8')) as Record<string, Record<string, unknown>[]>;
    for (const [table, list] of Object.entries(rows)) {
      for (const row of list) {
        const cols = Object.keys(row);
        await pg.query(
          `INSERT INTO "${schema}".${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
          cols.map((c) => row[c]),
        );
      }
    }
    await pg.query(`SELECT setval(pg_get_serial_sequence('"${schema}".bwprep_audit', 'seq'), (SELECT max(seq) FROM "${schema}".bwprep_audit))`);
    const store = await openStore(url);
    cleanups.push(async () => {
      await store.close();
      await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pg.end();
    });
    await expectLegacyReadable(store);
  });
});
