import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBwprep } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import type { ConversationRef } from '../../src/core/checklist/model';
import { ChecklistService } from '../../src/core/checklist/service';
import type { Template } from '../../src/core/checklist/template';
import { createLogger } from '../../src/logging/logger';
import { loadTemplate } from '../../src/templates';
import { MemoryStore } from '../fakes/memory-store';
import { ADMIN, CONVERSATION, FakeClock } from './harness';

const BUILT_IN = loadTemplate();
const dir = mkdtempSync(join(tmpdir(), 'bwprep-custom-template-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A company's own checklist: the first three built-in steps plus a step 7 of its own. */
function customTemplate(): Template {
  const t = JSON.parse(JSON.stringify(BUILT_IN)) as Template;
  t.id = 'acme-rollout';
  t.version = 3;
  t.name = { en: 'ACME rollout', nl: 'ACME-uitrol' };
  t.steps = [...t.steps.slice(0, 3), { ...t.steps[0]!, id: '7', phase: 1, title: { en: 'Tell the help desk', nl: 'Licht de servicedesk in' } }];
  return t;
}

const OTHER_CHANNEL: ConversationRef = { ...CONVERSATION, channel: 'C0NEWROLL' };
const defaults = { locale: 'en' as const, hosting: 'cloud-eu' as const, timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] };

describe('a custom template for new rollouts; existing rollouts keep theirs', () => {
  it('new rollouts get the custom template, an existing rollout keeps the built-in one and its steps', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock();
    const before = new ChecklistService({ store, template: BUILT_IN, clock, defaults, globalAdmins: [] });
    const old = await before.ensureRollout(CONVERSATION, ADMIN);
    expect(old).toMatchObject({ templateId: BUILT_IN.id, templateVersion: BUILT_IN.version });

    const custom = customTemplate();
    const after = new ChecklistService({ store, template: custom, templates: [BUILT_IN], clock, defaults, globalAdmins: [] });
    const fresh = await after.ensureRollout(OTHER_CHANNEL, ADMIN);
    expect(fresh).toMatchObject({ templateId: 'acme-rollout', templateVersion: 3 });
    expect(Object.keys(fresh.steps).sort()).toEqual(['1a', '2a', '2b', '7']);

    expect(after.templateFor(old)).toBe(BUILT_IN);
    expect(after.templateFor(fresh)).toBe(custom);
    // Steps that only one of the two templates has still work on the rollout that has them.
    expect((await after.markDone(old.id, '6', ADMIN)).changed).toBe(true);
    expect((await after.markDone(fresh.id, '7', ADMIN)).changed).toBe(true);
    // A hosting change re-evaluates the old rollout by its own (built-in) steps.
    const moved = await after.updateSettings(old.id, { hosting: 'self-hosted', serverUrl: 'https://vault.example.test' }, ADMIN);
    expect(moved.rollout.steps['3b']?.state).toBe('open');
  });

  it('a rollout of an unknown template (or from before templates were recorded) uses the built-in one', () => {
    const custom = customTemplate();
    const service = new ChecklistService({
      store: new MemoryStore(),
      template: custom,
      templates: [BUILT_IN],
      clock: new FakeClock(),
      defaults,
      globalAdmins: [],
    });
    expect(service.templateFor({ templateId: 'gone', templateVersion: 1 })).toBe(BUILT_IN);
    expect(service.templateFor({ templateId: 'acme-rollout', templateVersion: 2 })).toBe(custom);
  });

  it('BWPREP_TEMPLATE makes the file the template of new rollouts at start-up; existing rollouts keep theirs', async () => {
    const file = join(dir, 'acme.json');
    writeFileSync(file, JSON.stringify(customTemplate()));
    const env = { BWPREP_STORE_URL: `sqlite://${join(dir, 'bwprep.sqlite')}`, BWPREP_LOCALE: 'en' };
    const logger = createLogger({ level: 'silent' });

    const first = await startBwprep(loadConfig(env), { logger });
    const old = await first.service.ensureRollout(CONVERSATION, ADMIN);
    await first.stop();

    const second = await startBwprep(loadConfig({ ...env, BWPREP_TEMPLATE: file }), { logger });
    try {
      expect(second.template.id).toBe('acme-rollout');
      const fresh = await second.service.ensureRollout(OTHER_CHANNEL, ADMIN);
      expect(fresh.templateId).toBe('acme-rollout');
      const kept = await second.service.get(old.id);
      expect(kept?.templateId).toBe(BUILT_IN.id);
      expect(second.service.templateFor(kept!).id).toBe(BUILT_IN.id);
    } finally {
      await second.stop();
    }
  });
});
