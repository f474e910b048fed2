import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChecklistService } from '../../src/core/checklist/service';
import type { Store } from '../../src/core/ports';
import { createLogger } from '../../src/logging/logger';
import { CardPublisher } from '../../src/slack/card';
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
let cards: CardPublisher;
let client: webApi.WebClient;
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
  cards = new CardPublisher({ service, clock, logger: createLogger({ level: 'silent' }) });
  client = new webApi.WebClient(FAKE_BOT_TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
});
afterAll(async () => {
  await store.close();
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the living card at a steady rate of changes', () => {
  it('keeps one chat.update in flight; changes meanwhile cost one more update, which shows the latest state', async () => {
    const r = await service.ensureRollout({ platform: 'slack', workspace: 'T0FAKE', channel: 'C0STEADY' }, actor);
    await cards.post(client, r.id, actor);
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
      const first = cards.refresh(client, r.id);
      await vi.waitFor(() => expect(inFlight).toBe(1));
      // Clicks keep coming while that update is in flight: each changes the rollout and asks for a refresh.
      const later: Promise<void>[] = [];
      for (const id of ['2a', '2b', '4a', '4b']) {
        await service.markDone(r.id, id, actor);
        later.push(cards.refresh(client, r.id));
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

  it('status asked several times while a card is being posted posts one more card, not one each', async () => {
    const r = await service.ensureRollout({ platform: 'slack', workspace: 'T0FAKE', channel: 'C0POSTS' }, actor);
    slack.reset();
    let release!: () => void;
    const held = new Promise<void>((res) => {
      release = res;
    });
    let posts = 0;
    slack.override('chat.postMessage', async (args) => {
      posts += 1;
      if (posts === 1) await held;
      return { ok: true, channel: String(args.channel), ts: `170000000${posts}.000100` };
    });
    try {
      const first = cards.post(client, r.id, actor);
      await vi.waitFor(() => expect(posts).toBe(1));
      await service.markDone(r.id, '1a', actor);
      // A click's refresh waits; then two status requests: the waiting refresh becomes a re-post, shared by all.
      const later = [cards.refresh(client, r.id), cards.post(client, r.id, actor), cards.post(client, r.id, actor)];
      release();
      await Promise.all([first, ...later]);
      expect(slack.calls('chat.postMessage')).toHaveLength(2);
      // The second card retired the first; no separate update for the refresh.
      const updates = slack.calls('chat.update');
      expect(updates).toHaveLength(1);
      expect(updates[0]?.args.ts).toBe('1700000001.000100');
      expect(blockText(slack.calls('chat.postMessage')[1]?.args.blocks)).toContain('1 of 10 steps done');
      expect((await service.get(r.id))?.card?.ts).toBe('1700000002.000100');
    } finally {
      slack.override('chat.postMessage', undefined);
    }
  });
});
