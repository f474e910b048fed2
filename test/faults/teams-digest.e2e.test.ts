import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStore } from '../../src/store';
import { TeamsConversations } from '../../src/teams/directory';
import { type ConnectorCall, type FakeBotConnector, startFakeBotConnector } from '../fakes/bot-connector';
import { botCardMessage, type FakeMicrosoft, LOGIN_ORIGIN, startFakeMicrosoft } from '../fakes/microsoft-graph';
import { registerSecret } from '../helpers/secret-guard';
import { BOB, FAKE_BOT, FAKE_CHANNEL, FAKE_TEAM_ID, FAKE_TENANT } from '../teams/activities';
import { FAKE_MS_APP_ID, FAKE_MS_APP_PASSWORD } from '../teams/harness';
import { buildApp, FAST_RESTART, killChildren, startChildApp } from './child-app';
import { seedDueDigest } from './seed';

/**
 * Issue 11 §4 on Teams: the real bwprep in a child process, SIGKILLed while its digest post is in flight
 * at the Bot Connector (Teams has taken the message; the answer never comes back). The restarted process
 * finds the digest through Microsoft Graph and records it: one digest in the channel, none lost. The Bot
 * Connector, Entra ID's token endpoint and Graph are local fakes in this process; "in flight" is an event
 * (the held request), not a sleep.
 */
const GROUP = '00000000-0000-4000-8000-0000000000e1';
const ROLLOUT = `teams:${FAKE_TENANT}:${FAKE_CHANNEL}`;

let dir: string;
let mainJs: string;
let connector: FakeBotConnector;
let ms: FakeMicrosoft;
let storeUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bwprep-teams-proc-'));
  mainJs = buildApp(path.join(dir, 'build'));
  connector = await startFakeBotConnector();
  ms = await startFakeMicrosoft({ clientId: FAKE_MS_APP_ID, clientSecret: FAKE_MS_APP_PASSWORD });
  registerSecret(FAKE_MS_APP_PASSWORD);
}, 60_000);
afterAll(async () => {
  await connector?.close();
  await ms?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => killChildren());

const env = () => ({
  TEAMS_ENABLED: 'true',
  MICROSOFT_APP_ID: FAKE_MS_APP_ID,
  MICROSOFT_APP_PASSWORD: FAKE_MS_APP_PASSWORD,
  BWPREP_STORE_URL: storeUrl,
  BWPREP_LOCALE: 'en',
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'debug',
  ...FAST_RESTART.env,
});
/** The Microsoft endpoints of the child, routed to this process's fakes. */
const start = () => ({
  teams: { openIdMetadataUrl: connector.openIdMetadataUrl, loginRoutes: { [LOGIN_ORIGIN]: ms.loginOrigin }, graphUrl: ms.graphUrl },
});

const isDigest = (c: ConnectorCall) => c.kind === 'send' && JSON.stringify(c.body?.attachments ?? '').includes('bwprep-digest|');

/** A Teams rollout whose digest was due a minute ago, in a channel where the app was installed (as the install event leaves it). */
async function seed(): Promise<string> {
  storeUrl = `sqlite://${path.join(mkdtempSync(path.join(dir, 'run-')), 'bwprep.sqlite')}`;
  const slot = await seedDueDigest(storeUrl, {
    enabled: true,
    conversation: { platform: 'teams', workspace: FAKE_TENANT, channel: FAKE_CHANNEL },
    admin: `teams:${BOB.aadObjectId}`,
  });
  const store = await openStore(storeUrl);
  await new TeamsConversations(store.kv, () => new Date()).remember(
    {
      serviceUrl: connector.serviceUrl,
      channelId: 'msteams',
      conversation: { id: FAKE_CHANNEL, conversationType: 'channel', tenantId: FAKE_TENANT, isGroup: true },
      bot: { ...FAKE_BOT },
    },
    { tenantId: FAKE_TENANT, teamId: FAKE_TEAM_ID, aadGroupId: GROUP, installed: true },
  );
  await store.close();
  return slot;
}

describe('SIGKILL during a Teams digest (exactly once through Microsoft Graph)', () => {
  it('killed with the post in flight: after the restart the digest is in the channel once and recorded as posted', async () => {
    const slot = await seed();
    ms.grant(FAKE_TENANT, { group: GROUP });
    const hold = connector.hold(isDigest);
    const first = await startChildApp(mainJs, dir, env(), start());
    await hold.arrived(1);
    // Teams has the message: from now on Graph lists it (the Graph message id is the activity id).
    const sent = connector.calls.find(isDigest)!;
    const card = (sent.body?.attachments as { content: unknown }[])[0]!.content;
    ms.addMessage({ group: GROUP, channel: FAKE_CHANNEL }, { ...botCardMessage(FAKE_MS_APP_ID, card, new Date()), id: sent.id! });
    first.process.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    hold.release();

    let store = await openStore(storeUrl);
    const claimed = (await store.rollouts.get(ROLLOUT))!;
    expect(claimed.digest.lastSlot).toBe(slot); // claimed before posting…
    expect(claimed.digest.lastPostedAt).toBeUndefined(); // …never recorded as posted
    await store.close();

    const second = await startChildApp(mainJs, dir, env(), start());
    const recovered = '"msg":"digest found posted but not recorded; recorded now, not posted again"';
    await vi.waitFor(() => expect(second.logs()).toContain(recovered), { timeout: FAST_RESTART.recoveryMs, interval: 100 });
    second.process.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });

    // What the team sees: one digest; the restarted process asked Graph and posted nothing.
    expect(connector.calls.filter(isDigest)).toHaveLength(1);
    expect(ms.calls.filter((c) => c.kind === 'channel_messages' && c.status === 200).length).toBeGreaterThan(0);
    store = await openStore(storeUrl);
    const after = (await store.rollouts.get(ROLLOUT))!;
    expect(after.digest.lastPostedAt).toBeDefined();
    const audit = (await store.audit.list(ROLLOUT)).filter((a) => a.action === 'digest.posted');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toMatchObject({ recovered: true, slot, ref: { platform: 'teams', channel: FAKE_CHANNEL, ts: sent.id } });
    await store.close();
    expect(second.logs()).not.toMatch(/"level":"error"/);
  }, 150_000);
});
