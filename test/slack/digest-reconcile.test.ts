import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { webApi } from '@slack/bolt';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChecklistService } from '../../src/core/checklist/service';
import type { Store } from '../../src/core/ports';
import { Platforms } from '../../src/interactions/platforms';
import { createLogger } from '../../src/logging/logger';
import { Scheduler } from '../../src/scheduler/scheduler';
import { boltLogger } from '../../src/slack/app';
import { installationOf } from '../../src/slack/installation';
import { slackPlatform } from '../../src/slack/platform';
import { openStore } from '../../src/store';
import { loadTemplate } from '../../src/templates';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { TestClock } from '../helpers/clock';
import { FAKE_BOT_TOKEN, FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS } from '../helpers/slack-requests';

/**
 * The Slack side of the digest reconciliation (src/scheduler/scheduler.ts, "Crash windows"): a scheduled
 * digest carries message metadata (`bwprep_digest`, rollout and slot); a slot claimed but not recorded is
 * looked up with conversations.history (our own bot's message only, paging), against the fake Slack Web
 * API. Time: the fake's message timestamps follow the wall clock, so the test clock is "now" and the digest
 * time a minute ago (UTC).
 */
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
const isDigest = (args: Record<string, unknown>) => /Daily readiness digest/.test(JSON.stringify(args.blocks ?? ''));

let slack: FakeSlackApi;
let dir: string;
let store: Store;
let logLines: string[];
let slot: string;
let clock: TestClock;

beforeAll(async () => {
  slack = await startFakeSlackApi();
});
afterAll(async () => {
  await slack.close();
});
beforeEach(async () => {
  slack.reset();
  dir = mkdtempSync(path.join(tmpdir(), 'bwprep-slack-reconcile-'));
  store = await openStore(`sqlite://${path.join(dir, 'bwprep.sqlite')}`);
  logLines = [];
  const now = new Date();
  const due = new Date(now.getTime() - 60_000);
  const hhmm = due.toISOString().slice(11, 16);
  slot = `${due.toISOString().slice(0, 10)}T${hhmm}`;
  // Created yesterday; its digest (UTC, every day) was due a minute ago.
  clock = new TestClock(new Date(now.getTime() - 86_400_000));
  await service().ensureRollout(
    { platform: 'slack', workspace: FAKE_TEAM_ID, channel: FAKE_CHANNEL_ID },
    { user: `slack:${FAKE_USERS.alice}`, surface: 'slack' },
  );
  await store.rollouts.update(ROLLOUT, (r) => {
    r.settings = { ...r.settings, timezone: 'UTC', digestTime: hhmm, weekdays: [1, 2, 3, 4, 5, 6, 7] };
    return { rollout: r, audit: [] };
  });
  clock = new TestClock(now);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const DEFAULTS = { locale: 'en' as const, hosting: 'cloud-us' as const, timezone: 'UTC', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5, 6, 7] };

function service(): ChecklistService {
  return new ChecklistService({ store: store.rollouts, template: loadTemplate(), clock, defaults: DEFAULTS, globalAdmins: [] });
}

function scheduler(o: { postOnce?: webApi.WebClient; retryDelayMs?: number } = {}): Scheduler {
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  // The Slack SDK logs Slack's error answers (missing_scope, provoked here) itself: silent.
  const client = new webApi.WebClient(FAKE_BOT_TOKEN, {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
    logger: boltLogger(createLogger({ level: 'silent' })),
  });
  const platforms = new Platforms().register(
    slackPlatform({ client, ...(o.postOnce ? { postOnce: o.postOnce } : {}), kv: store.kv, logger, installation: installationOf(client) }),
  );
  return new Scheduler({
    store,
    service: service(),
    template: loadTemplate(),
    clock,
    platforms,
    reminders: false,
    logger,
    ...(o.retryDelayMs !== undefined ? { retryDelayMs: o.retryDelayMs } : {}),
  });
}

/** As a process killed after its claim leaves the store: the slot claimed, no post recorded. */
async function claimOnly(): Promise<void> {
  await store.rollouts.update(ROLLOUT, (r) => {
    r.digest = { ...r.digest, lastSlot: slot };
    return { rollout: r, audit: [] };
  });
}

const digestAudit = async () => (await store.audit.list(ROLLOUT)).filter((a) => a.action === 'digest.posted');
const metadata = () => ({ event_type: 'bwprep_digest', event_payload: { rollout: ROLLOUT, slot } });

describe('digest message metadata on Slack', () => {
  it('a scheduled digest carries its rollout and slot; a preview carries none', async () => {
    const s = scheduler();
    expect((await s.tick()).digests[0]).toMatchObject({ posted: true, slot });
    const post = slack.calls('chat.postMessage').find((c) => isDigest(c.args))!;
    expect(post.args.metadata).toEqual(metadata());
    await s.previewDigest(ROLLOUT);
    const posts = slack.calls('chat.postMessage').filter((c) => isDigest(c.args));
    expect(posts).toHaveLength(2);
    expect(posts[1]!.args.metadata).toBeUndefined();
  });
});

describe('reconciling a claimed, unrecorded digest slot on Slack', () => {
  it('our own digest is in the channel (behind a page of chatter): recorded with its ts, not posted again', async () => {
    await claimOnly();
    const posted = slack.seedMessage({ channel: FAKE_CHANNEL_ID, text: 'Daily readiness digest', metadata: metadata() });
    for (let i = 0; i < 230; i++) slack.seedMessage({ channel: FAKE_CHANNEL_ID, text: `chatter ${i}`, user: FAKE_USERS.bob, bot_id: '' });

    const out = (await scheduler().tick()).digests[0]!;
    expect(out).toMatchObject({ recovered: true, posted: false, slot, result: { ref: { platform: 'slack', channel: FAKE_CHANNEL_ID, ts: posted.ts } } });
    expect(slack.calls('chat.postMessage')).toHaveLength(0);
    const history = slack.calls('conversations.history');
    expect(history).toHaveLength(2); // two pages
    expect(history[0]!.args).toMatchObject({ channel: FAKE_CHANNEL_ID, include_all_metadata: 'true', limit: '200' });
    expect(Number(history[0]!.args.oldest)).toBeLessThanOrEqual(Date.parse(`${slot}:00Z`) / 1000);
    expect(history[1]!.args.cursor).toBeTruthy();

    const r = (await store.rollouts.get(ROLLOUT))!;
    expect(r.digest.lastSlot).toBe(slot);
    expect(r.digest.lastPostedAt).toBeDefined();
    const audit = await digestAudit();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toMatchObject({ recovered: true, ref: { ts: posted.ts }, permalink: expect.stringContaining(posted.ts.replace('.', '')) });
  });

  it('a message of another app with the same metadata is not ours: the digest is posted (once) and recorded', async () => {
    await claimOnly();
    slack.seedMessage({ channel: FAKE_CHANNEL_ID, text: 'impostor', metadata: metadata(), user: 'U0OTHERBOT', bot_id: 'B0OTHER' });
    const s = scheduler();
    expect((await s.tick()).digests[0]).toMatchObject({ posted: true, slot });
    await s.tick();
    const posts = slack.calls('chat.postMessage').filter((c) => isDigest(c.args));
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args.metadata).toEqual(metadata());
    expect(await digestAudit()).toHaveLength(1);
  });

  it('missing_scope (installed before channels:history): a warning naming the scopes, nothing posted, Slack asked once', async () => {
    await claimOnly();
    slack.failNext('conversations.history', { times: 5, error: 'missing_scope', extra: { needed: 'channels:history', provided: 'commands,chat:write' } });
    const s = scheduler();
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'unknown', posted: false });
    clock.advance(60_000);
    await s.tick();
    expect(slack.calls('conversations.history')).toHaveLength(1);
    expect(slack.calls('chat.postMessage')).toHaveLength(0);
    const warns = logLines.filter((l) => l.includes('"level":"warn"'));
    expect(warns.some((l) => l.includes('channels:history') && l.includes('groups:history') && l.includes('"needed":"channels:history"'))).toBe(true);
    expect(logLines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
    expect(await digestAudit()).toHaveLength(0);
  });
});

describe('a digest post that gets no answer (found by a review)', () => {
  it('is not retried by the client; the next try looks in the channel, finds it and records it: one digest', async () => {
    // Slack takes the post and answers too late: the post client's timeout gives up first.
    const held = slack.hold('chat.postMessage', isDigest);
    const postOnce = new webApi.WebClient(FAKE_BOT_TOKEN, {
      slackApiUrl: slack.apiUrl,
      timeout: 300,
      retryConfig: { retries: 0 },
      logger: boltLogger(createLogger({ level: 'silent' })),
    });
    const s = scheduler({ postOnce, retryDelayMs: 1_000 });
    expect((await s.tick()).digests[0]).toMatchObject({ slot, posted: false, skipped: 'post_failed' });
    expect(held.count()).toBe(1);
    // The claim stays: the digest may be out. Until the back-off has passed nothing is asked or posted.
    expect((await store.rollouts.get(ROLLOUT))!.digest).toMatchObject({ lastSlot: slot });
    expect((await s.tick()).digests[0]).toMatchObject({ skipped: 'backoff' });
    held.release();

    clock.advance(2_000);
    const out = (await s.tick()).digests[0]!;
    expect(out).toMatchObject({ slot, recovered: true, posted: false });
    expect(slack.calls('chat.postMessage').filter((c) => isDigest(c.args))).toHaveLength(1);
    const audit = await digestAudit();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toMatchObject({ recovered: true, slot });
    expect(logLines.some((l) => l.includes('digest post got no answer'))).toBe(true);
  });
});
