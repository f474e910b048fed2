import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import { FakeBitwardenServer } from '../fakes/bitwarden-server';
import { FAKE_SECRET, halfDoneOrg, readyOrg } from '../fixtures/bitwarden';
import { blockActions, button, FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, slashCommand } from '../helpers/slack-requests';
import { blockText, type SlackHarness, startSlackHarness, stepSection } from './harness';

const { alice, bob, carol } = FAKE_USERS;
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;

let bw: FakeBitwardenServer;
let h: SlackHarness;
let n = 0;

beforeAll(async () => {
  bw = await new FakeBitwardenServer().start();
});
afterAll(async () => {
  await bw.stop();
});
afterEach(async () => {
  await h?.close();
});

async function start(org = readyOrg(new Date())) {
  bw.load(org);
  h = await startSlackHarness({
    env: {
      BW_API_URL: bw.url,
      BW_IDENTITY_URL: `${bw.url}/identity`,
      BW_CLIENT_ID: bw.clientId,
      BW_CLIENT_SECRET: org.clientSecret,
    },
  });
}

async function command(text: string, user: string = alice) {
  const id = `c${++n}`;
  const res = await h.send(slashCommand({ text, user_id: user, response_url: h.slack.responseUrl(id) }));
  expect(res.status).toBe(200);
  return id;
}

async function postCard() {
  await command('status');
  await h.slack.waitFor('chat.postMessage');
  await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card).toBeDefined());
  return (await h.app.service.get(ROLLOUT))!.card!;
}

describe('/bwprep check against a ready organization', () => {
  beforeEach(async () => start());

  it('shows checking…, verifies the passing steps on the card and posts the report in the channel', async () => {
    const card = await postCard();
    await command('check', bob);
    await h.slack.waitFor('chat.update', (c) => c.args.ts === card.ts && blockText(c.args.blocks).includes('Checking against Bitwarden'));
    const report = await h.slack.waitFor('chat.postMessage', (c) => String(c.args.text).includes('Verification against Bitwarden'), 10_000);
    expect(report.args.channel).toBe(FAKE_CHANNEL_ID);
    const text = blockText(report.args.blocks);
    expect(text).toContain('All required policies are on (3)');
    expect(text).toMatch(/\*5b\*[^\n]*85/);
    expect(text).toContain('now verified');
    // 9 automated passes (1a, 2a, 2b, 4a, 4c, 4d, 4e, 5b, 6), 4b manual, the four self-hosted steps not applicable.
    expect(text).toContain('9 pass · 1 manual check · 4 not applicable');
    // The card's last render shows the verified state and the evidence line.
    const last = h.slack
      .calls('chat.update')
      .filter((c) => c.args.ts === card.ts)
      .at(-1)!;
    expect(stepSection(last.args.blocks, '2a')).toContain('✅');
    expect(stepSection(last.args.blocks, '2a')).toContain('Verified');
    expect(stepSection(last.args.blocks, '4b')).toContain('✋');
    expect(blockText(last.args.blocks)).not.toContain('Checking against Bitwarden');
    const r = await h.app.service.get(ROLLOUT);
    expect(r?.steps['2a']?.state).toBe('verified');
    expect(r?.steps['4b']?.state).toBe('open');
    expect(r?.steps['2a']?.lastCheck?.evidence.endpoint).toBe('GET /public/policies');
    const audit = await h.app.store.audit.list(ROLLOUT);
    expect(audit.filter((a) => a.action === 'step.check').map((a) => a.stepId)).toContain('2a');
  });

  it('/bwprep check 4c reports one step to the requester only', async () => {
    await postCard();
    const id = await command('check 4C', carol);
    const reply = await h.slack.waitForResponse(id, (r) => String(r.body.text).includes('Verification of step 4c'), 10_000);
    expect(reply.body.response_type).toBe('ephemeral');
    expect(blockText(reply.body.blocks)).toContain('4c');
    expect(h.slack.calls('chat.postMessage').filter((c) => String(c.args.text).includes('Verification'))).toHaveLength(0);
    expect((await h.app.service.get(ROLLOUT))?.steps['4c']?.state).toBe('verified');
  });

  it("the card's Check button runs that step and answers the clicker", async () => {
    const card = await postCard();
    await h.send(
      blockActions({
        user: bob,
        message_ts: card.ts,
        actions: [button(ACTIONS.runCheck, encodeStepRef(ROLLOUT, '4d'))],
        response_url: h.slack.responseUrl('btn'),
      }),
    );
    const eph = await h.slack.waitFor('chat.postEphemeral', (c) => c.args.user === bob, 10_000);
    expect(String(eph.args.text)).toContain('Verification of step 4d');
    expect((await h.app.service.get(ROLLOUT))?.steps['4d']?.state).toBe('verified');
  });

  it('a second request while a run is going is told so, and only one run happens', async () => {
    await postCard();
    bw.fault({ path: '/public/members', kind: 'slow', delayMs: 800, times: 1 });
    await command('check', bob);
    const id = await command('check', carol);
    const told = await h.slack.waitForResponse(id, undefined, 5000);
    expect(String(told.body.text)).toContain('already running');
    await h.slack.waitFor('chat.postMessage', (c) => String(c.args.text).includes('Verification against Bitwarden'), 10_000);
    expect(bw.count('POST', '/connect/token')).toBe(1);
    expect(bw.count('GET', '/public/members')).toBe(1);
  });

  it('a run held by another replica (a lease in the shared store) is not started twice', async () => {
    await postCard();
    expect(await h.app.store.leases.acquire(`check:${ROLLOUT}`, 'another-replica', 60_000)).toBe(true);
    bw.resetLog();
    const id = await command('check', bob);
    expect(String((await h.slack.waitForResponse(id)).body.text)).toContain('already running');
    expect(bw.log).toHaveLength(0);
    await h.app.store.leases.release(`check:${ROLLOUT}`, 'another-replica');
  });

  it('never puts the client secret or the access token in a Slack call or a log line', async () => {
    await postCard();
    await command('check');
    await h.slack.waitFor('chat.postMessage', (c) => String(c.args.text).includes('Verification'), 10_000);
    const everything = JSON.stringify(h.slack.calls()) + JSON.stringify(h.slack.responses()) + h.logs();
    expect(everything).not.toContain(FAKE_SECRET);
    expect(everything).not.toContain('fake-access-token-not-real-');
  });
});

describe('/bwprep check when things go wrong', () => {
  it('a failing check on a claimed step marks it failing and tells its owner by DM', async () => {
    await start(halfDoneOrg(new Date()));
    await postCard();
    await command(`assign 2a <@${bob}>`);
    await command('done 2a', bob);
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done'));
    await command('check');
    const dm = await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === bob, 10_000);
    expect(String(dm.args.text)).toContain('Step 2a');
    expect(String(dm.args.text)).toContain('no longer passes the Bitwarden check');
    const r = await h.app.service.get(ROLLOUT);
    expect(r?.steps['2a']).toMatchObject({ state: 'failing', doneBy: `slack:${bob}` });
    const report = h.slack.calls('chat.postMessage').find((c) => String(c.args.text).includes('Verification against Bitwarden'));
    expect(blockText(report?.args.blocks)).toContain('now failing');
    // The card flags the claim without erasing it: failing, and still "done by" its owner.
    const card = h.slack.calls('chat.update').at(-1);
    expect(stepSection(card?.args.blocks, '2a')).toContain('❌');
    expect(stepSection(card?.args.blocks, '2a')).toContain(`done by <@${bob}>`);
  });

  it('Bitwarden down: a clear error with what to do, and no step changes', async () => {
    await start();
    await postCard();
    await command(`assign 2a <@${bob}>`);
    await command('done 2a', bob);
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done'));
    const before = await h.app.service.get(ROLLOUT);
    bw.fault({ path: /.*/, kind: 'status', status: 503 });
    const id = await command('check', bob);
    const reply = await h.slack.waitForResponse(id, (r) => String(r.body.text).includes('no step changed'), 15_000);
    expect(String(reply.body.text)).toMatch(/Bitwarden/);
    const after = await h.app.service.get(ROLLOUT);
    expect(after?.steps).toEqual(before?.steps);
    bw.clearFaults();
  });

  it('a wrong key is explained (key, region, API access) in the user’s language', async () => {
    await start({ ...readyOrg(new Date()), clientSecret: 'another-secret-on-the-server' });
    // The bot is configured with FAKE_SECRET via start(); the server now expects another one.
    await h.close();
    bw.load({ ...readyOrg(new Date()), clientSecret: 'another-secret-on-the-server' });
    h = await startSlackHarness({
      env: { BW_API_URL: bw.url, BW_IDENTITY_URL: `${bw.url}/identity`, BW_CLIENT_ID: bw.clientId, BW_CLIENT_SECRET: FAKE_SECRET },
    });
    await postCard();
    const id = await command('check'); // alice: Dutch
    const reply = await h.slack.waitForResponse(id, (r) => String(r.body.text).includes('geen stap gewijzigd'), 10_000);
    expect(String(reply.body.text)).toMatch(/regio|region/i);
    expect(String(reply.body.text)).not.toContain(FAKE_SECRET);
  });
});
