import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeBitwardenServer } from '../fakes/bitwarden-server';
import type { ConnectorCall } from '../fakes/bot-connector';
import { readyOrg } from '../fixtures/bitwarden';
import { ANNA, BOB, FAKE_CHANNEL, FAKE_TENANT, teamsCardAction, teamsMessage } from './activities';
import { startTeamsHarness, type TeamsHarness } from './harness';

/**
 * What happens after a press on the Teams card has been answered. An invoke's answer is shown to the presser
 * at once; botbuilder then revokes the turn, so what bwprep still has to say (a check report, a failed card
 * update) goes out proactively, and the card update for everyone finishes even when bwprep is stopping.
 */

const ROLLOUT = `teams:${FAKE_TENANT}:${FAKE_CHANNEL}`;
type Card = { contentType: string; content: Record<string, unknown> };
const cardOf = (c: ConnectorCall): Card | undefined => (c.body?.attachments as Card[] | undefined)?.[0];

let bw: FakeBitwardenServer;
let h: TeamsHarness | undefined;

beforeAll(async () => {
  bw = await new FakeBitwardenServer().start();
});
afterAll(async () => bw.stop());
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(env: Record<string, string> = {}): Promise<{ h: TeamsHarness; card: ConnectorCall }> {
  const harness = await startTeamsHarness({ env });
  h = harness;
  const before = harness.connector.calls.length;
  expect((await harness.post(teamsMessage({ serviceUrl: harness.connector.serviceUrl, text: 'status', mention: true, locale: 'en-GB' }))).status).toBe(200);
  const card = await harness.connector.waitFor(
    (c) => harness.connector.calls.indexOf(c) >= before && c.kind === 'send' && c.status === 200 && cardOf(c) !== undefined,
  );
  await vi.waitFor(async () => expect((await harness.app.service.get(ROLLOUT))?.card?.ts).toBe(card.id));
  return { h: harness, card };
}

/** A press on the card, as Teams sends it: in the card's thread (`<channel>;messageid=<card>`). */
function press(card: ConnectorCall, verb: string, data: Record<string, unknown>, from = BOB) {
  return teamsCardAction({
    serviceUrl: h!.connector.serviceUrl,
    verb,
    data,
    from,
    replyToId: card.id!,
    conversationId: `${FAKE_CHANNEL};messageid=${card.id}`,
    locale: 'en-GB',
  });
}

describe('Teams: after a press was answered', () => {
  it('the Check button answers "checking…" at once, and the step’s report follows in the card’s thread', async () => {
    const org = readyOrg(new Date());
    bw.load(org);
    const { h, card } = await start({
      BW_API_URL: bw.url,
      BW_IDENTITY_URL: `${bw.url}/identity`,
      BW_CLIENT_ID: bw.clientId,
      BW_CLIENT_SECRET: org.clientSecret,
    });
    const mark = h.connector.calls.length;
    const res = await h.post(press(card, 'run_check', { ref: `2a@${ROLLOUT}` }));
    expect(res.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(JSON.stringify(res.body)).toMatch(/checking/i);
    // As the answer to `@bwprep check 2a` typed in that thread: where its advice (`@bwprep export md`) works.
    const report = await h.connector.waitFor(
      (c) => h.connector.calls.indexOf(c) >= mark && c.kind === 'send' && c.conversationId === `${FAKE_CHANNEL};messageid=${card.id}` && c.status < 300,
    );
    expect(JSON.stringify(report.body)).toContain('Verification of step 2a');
    expect(JSON.stringify(report.body)).toContain('@bwprep');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.state).toBe('verified'));
    // Nothing was sent through the finished turn (botbuilder revokes it: "a proxy that has been revoked").
    expect(h.logs()).not.toMatch(/revoked/);
  });

  it('a refused owner change is answered at once; the card snaps back for everyone afterwards', async () => {
    const { h, card } = await start();
    h.connector.addMembers('*', [{ id: ANNA.id, name: ANNA.name, aadObjectId: ANNA.aadObjectId, tenantId: FAKE_TENANT, userRole: 'user' }]);
    await h.post(teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'help', mention: true, locale: 'en-GB', from: ANNA }));
    const held = h.connector.hold((c) => c.kind === 'update' && c.activityId === card.id);
    // Anna is neither the rollout's admin nor the step's owner: she may not hand 2b to Bob.
    const res = await h.post(press(card, 'assign_owner', { ref: `2b@${ROLLOUT}`, 'owner:2b': BOB.aadObjectId }, ANNA));
    expect(res.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.activity.message' });
    expect((await h.app.service.get(ROLLOUT))?.steps['2b']?.owner).toBeUndefined();
    await held.arrived(1);
    held.release();
    const update = await h.connector.waitFor((c) => c.kind === 'update' && c.activityId === card.id);
    expect(update.status).toBe(200);
  });

  it('a notice after the answer keeps its tone; when Teams will not open the presser’s 1:1 chat it goes into the card’s thread', async () => {
    const { h, card } = await start();
    h.connector.addMembers('*', [{ id: BOB.id, name: BOB.name, aadObjectId: BOB.aadObjectId, tenantId: FAKE_TENANT, userRole: 'user' }]);
    await h.post(teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'help', mention: true, locale: 'en-GB' }));
    // The card update for everyone is refused for good, and Teams refuses to open a 1:1 chat with Bob.
    h.connector.failNext({ kind: 'update', status: 400, times: 20 });
    h.connector.failNext({ kind: 'create', status: 403, times: 5 });
    const mark = h.connector.calls.length;
    const res = await h.post(press(card, 'mark_done', { ref: `2a@${ROLLOUT}` }));
    expect(JSON.stringify(res.body)).toContain('1 of 10 steps done');
    const inThread = await h.connector.waitFor(
      (c) => h.connector.calls.indexOf(c) >= mark && c.kind === 'send' && c.conversationId === `${FAKE_CHANNEL};messageid=${card.id}` && c.status < 300,
    );
    expect(String(inThread.body?.text)).toMatch(/^✅ Step 2a is marked done\./);
    expect(String(inThread.body?.text)).toContain('The change is saved, but I could not update the checklist card just now.');
  });

  it('stopping bwprep lets the card update of an answered press finish before the connections close', async () => {
    const { h: harness, card } = await start();
    const held = harness.connector.hold((c) => c.kind === 'update' && c.activityId === card.id);
    const res = await harness.post(press(card, 'mark_done', { ref: `2a@${ROLLOUT}` }));
    expect(JSON.stringify(res.body)).toContain('1 of 10 steps done');
    await held.arrived(1);
    // stop() must wait for the held update (it is answered only later), then close the connections.
    let released = false;
    const stopping = harness.app.stop();
    setTimeout(() => {
      released = true;
      held.release();
    }, 300);
    await stopping;
    expect(released).toBe(true);
    expect(harness.logs()).not.toMatch(/work still in flight after the drain timeout|teams card update after an answered invoke failed|not open|destroyed/);
    await harness.connector.close();
    h = undefined;
  });

  it('stopping while a request is in flight on a kept-alive connection: it is answered, then its connection closes within the drain', async () => {
    const harness = await startTeamsHarness();
    h = harness;
    // One kept-alive connection, as a load balancer in front of bwprep keeps them.
    const pool = new Pool(harness.app.url as string, { connections: 1 });
    try {
      const held = harness.connector.hold((c) => c.kind === 'send');
      const activity = teamsMessage({ serviceUrl: harness.connector.serviceUrl, text: 'status', mention: true, locale: 'en-GB' });
      const inFlight = pool.request({ path: '/api/messages', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
      await held.arrived(1); // the turn is posting the card: the request is still open
      const stopping = harness.app.stop();
      setTimeout(() => held.release(), 200);
      const res = await inFlight;
      await res.body.text();
      expect(res.statusCode).toBe(200);
      await stopping;
      // The server closed that connection once its answer was out, instead of waiting out the drain.
      expect(harness.logs()).not.toMatch(/work still in flight after the drain timeout/);
    } finally {
      await pool.close();
      await harness.connector.close();
      h = undefined;
    }
  });
});
