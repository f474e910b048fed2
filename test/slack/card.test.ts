import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChecklistService } from '../../src/core/checklist/service';
import type { Store } from '../../src/core/ports';
import { LivingCards } from '../../src/interactions/cards';
import { Platforms } from '../../src/interactions/platforms';
import { createLogger } from '../../src/logging/logger';
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
  dir = mkdtempSync(path.join(tmpdir(), 'bwprep-card-'));
  store = await openStore(`sqlite://${path.join(dir, 's.sqlite')}`);
  const clock = new TestClock();
  const logger = createLogger({ level: 'silent' });
  service = new ChecklistService({
    store: store.rollouts,
    template: loadTemplate(),
    clock,
    defaults: { locale: 'en', hosting: 'cloud-us', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] },
    globalAdmins: [],
  });
  const client = new webApi.WebClient(FAKE_BOT_TOKEN, { slackApiUrl: slack.apiUrl });
  const platforms = new Platforms().register(slackPlatform({ client, kv: store.kv, logger }));
  cards = new LivingCards({ service, platforms, clock, logger });
});
afterAll(async () => {
  await store.close();
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the living card on Slack', () => {
  it('coalesces a burst of refreshes into one render of the latest state', async () => {
    const r = await service.ensureRollout({ platform: 'slack', workspace: 'T0FAKE', channel: 'C0BURST' }, actor);
    await cards.post(r.id, actor);
    slack.reset();
    for (const id of ['1a', '2a', '2b', '4a']) await service.markDone(r.id, id, actor);
    await Promise.all(Array.from({ length: 10 }, () => cards.refresh(r.id)));
    const updates = slack.calls('chat.update');
    expect(updates).toHaveLength(1);
    expect(blockText(updates[0]?.args.blocks)).toContain('4 of 10 steps done');
  });

  it('a change during a render gets its own render after it', async () => {
    const r = (await service.get('slack:T0FAKE:C0BURST'))!;
    slack.reset();
    // The first chat.update is held at the fake Slack until the change below is saved: an event, not a sleep.
    let inFlight!: () => void;
    const entered = new Promise<void>((res) => (inFlight = res));
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    let held = false;
    slack.override('chat.update', async (args) => {
      if (!held) {
        held = true;
        inFlight();
        await gate;
      }
      return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
    });
    const first = cards.refresh(r.id);
    await entered; // the first render is in flight now
    await service.markDone(r.id, '4b', actor);
    const later = [cards.refresh(r.id), cards.refresh(r.id)];
    release();
    await Promise.all([first, ...later]);
    slack.override('chat.update', undefined);
    const updates = slack.calls('chat.update');
    expect(updates.length).toBeGreaterThanOrEqual(2);
    expect(blockText(updates.at(-1)?.args.blocks)).toContain('5 of 10 steps done');
  });

  it('a card deleted in Slack is forgotten, so the next status posts a new one', async () => {
    const r = (await service.get('slack:T0FAKE:C0BURST'))!;
    slack.failNext('chat.update', { error: 'message_not_found' });
    await cards.refresh(r.id);
    expect((await service.get(r.id))?.card).toBeUndefined();
  });
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

describe('the living card paced to one update per interval (BWPREP_CARD_UPDATE_INTERVAL_MS)', () => {
  it('updates at once after a quiet spell, then shows a steady stream of changes by one update per interval, with the newest state', async () => {
    const logger = createLogger({ level: 'silent' });
    const client = new webApi.WebClient(FAKE_BOT_TOKEN, { slackApiUrl: slack.apiUrl });
    const platforms = new Platforms().register(slackPlatform({ client, kv: store.kv, logger }));
    let now = 0;
    const paced = new LivingCards({ service, platforms, clock: new TestClock(), logger, minIntervalMs: 1000, monotonicMs: () => now });
    const r = await service.ensureRollout({ platform: 'slack', workspace: 'T0FAKE', channel: 'C0PACED' }, actor);
    await paced.post(r.id, actor);
    slack.reset();
    // A quiet card: the first change shows at once, no waiting.
    await service.markDone(r.id, '1a', actor);
    await paced.refresh(r.id);
    expect(slack.calls('chat.update')).toHaveLength(1);
    expect(blockText(slack.calls('chat.update')[0]?.args.blocks)).toContain('1 of 10 steps done');
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      // 400 ms later three more clicks: they wait out the rest of the second together and cost one update.
      now = 400;
      const waiting: Promise<void>[] = [];
      for (const id of ['2a', '2b', '4a']) {
        await service.markDone(r.id, id, actor);
        waiting.push(paced.refresh(r.id));
      }
      await vi.advanceTimersByTimeAsync(599);
      expect(slack.calls('chat.update')).toHaveLength(1);
      now = 1000;
      await vi.advanceTimersByTimeAsync(1);
      await Promise.all(waiting);
      expect(slack.calls('chat.update')).toHaveLength(2);
      expect(blockText(slack.calls('chat.update')[1]?.args.blocks)).toContain('4 of 10 steps done');
      // A check run's "checking…" refresh is never held back.
      now = 1100;
      await paced.refresh(r.id, { checking: true });
      expect(slack.calls('chat.update')).toHaveLength(3);
      // Once the interval has passed, the next change shows at once again.
      now = 5000;
      await service.markDone(r.id, '4b', actor);
      await paced.refresh(r.id);
      expect(slack.calls('chat.update')).toHaveLength(4);
      expect(blockText(slack.calls('chat.update')[3]?.args.blocks)).toContain('5 of 10 steps done');
    } finally {
      vi.useRealTimers();
    }
  });
});
