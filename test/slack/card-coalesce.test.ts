import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChecklistService } from '../../src/core/checklist/service';
import type { Store } from '../../src/core/ports';
import { createLogger } from '../../src/logging/logger';
import { LivingCards } from '../../src/interactions/cards';
import { Platforms } from '../../src/interactions/platforms';
import { slackPlatform } from '../../src/slack/platform';
import { openStore } from '../../src/store';
import { loadTemplate } from '../../src/templates';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { TestClock } from '../helpers/clock';
import { FAKE_BOT_TOKEN } from '../helpers/slack-requests';
import { blockText } from './harness';

let slack: FakeSlackApi;
let store: Store;
let dir: string;
let service: ChecklistService;
let cards: LivingCards;
const actor = { user: 'slack:U0ALICE', surface: 'slack' as const };

beforeAll(async () => {
  slack = await startFakeSlackApi();
  dir = mkdtempSync(path.join(tmpdir(), 'bwprep-card-coalesce-'));
  store = await openStore(`sqlite://${path.join(dir, 's.sqlite')}`);
  const clock = new TestClock();
  service = new ChecklistService({
    store: store.rollouts,
    template: loadTemplate(),
    clock,
    defaults: { locale: 'en', hosting: 'cloud-us', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] },
    globalAdmins: [],
  });
  const logger = createLogger({ level: 'silent' });
  const client = new webApi.WebClient(FAKE_BOT_TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  cards = new LivingCards({ service, platforms: new Platforms().register(slackPlatform({ client, kv: store.kv, logger })), clock, logger });
});
afterAll(async () => {
  await store.close();
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the living card at a steady rate of changes', () => {
  it('keeps one chat.update in flight; changes meanwhile cost one more update, which shows the latest state', async () => {
    const r = await service.ensureRollout({ platform: 'slack', workspace: 'T0FAKE', channel: 'C0STEADY' }, actor);
    await cards.post(r.id, actor);
    slack.reset();
    // Hold the first chat.update open until the test lets it answer.
    let release!: () => void;
    const held = new Promise<void>((res) => {
      release = res;
    });
    let inFlight = 0;
    let maxInFlight = 0;
    slack.override('chat.update', async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (slack.calls('chat.update').length === 0) await held;
      inFlight -= 1;
      return { ok: true, channel: 'C0STEADY', ts: '1.000' };
    });
    try {
      await service.markDone(r.id, '1a', actor);
      const first = cards.refresh(r.id);
      await vi.waitFor(() => expect(inFlight).toBe(1));
      // Clicks keep coming while that update is in flight: each changes the rollout and asks for a refresh.
      const later: Promise<void>[] = [];
      for (const id of ['2a', '2b', '4a', '4b']) {
        await service.markDone(r.id, id, actor);
        later.push(cards.refresh(r.id));
      }
      release();
      await Promise.all([first, ...later]);
      const updates = slack.calls('chat.update');
      expect(updates).toHaveLength(2);
      expect(maxInFlight).toBe(1);
      expect(blockText(updates.at(-1)?.args.blocks)).toContain('5 of 10 steps done');
    } finally {
      slack.override('chat.update', undefined);
    }
  });
});
