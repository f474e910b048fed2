import { afterEach, describe, expect, it, vi } from 'vitest';
import { FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, slashCommand } from '../helpers/slack-requests';
import { blockText } from '../slack/harness';
import type { ConnectorCall } from '../fakes/bot-connector';
import { BOB, FAKE_CHANNEL, FAKE_GROUP_CHAT, FAKE_TENANT, teamsMessage } from './activities';
import { type CrossPlatformHarness, startCrossPlatformHarness } from './harness';

/**
 * Issue 13, "One rollout, both platforms": Slack and Teams served by ONE bwprep process, each against
 * its fake (Slack Web API, Bot Connector). A link code from one platform binds a conversation of the
 * other; from then on a change on either side shows on the other side's card.
 */
const { alice, carol } = FAKE_USERS; // alice: Slack workspace admin, reads Dutch; carol: member (en)
const SLACK_HOME = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
const TEAMS_HOME = `teams:${FAKE_TENANT}:${FAKE_CHANNEL}`;

let h: CrossPlatformHarness;
let n = 0;
afterEach(async () => {
  await h?.close();
});

/** A Slack slash command; resolves with the text of the ephemeral reply (or undefined when none came). */
async function slack(text: string, user: string = alice): Promise<string> {
  const id = `x-${++n}`;
  const res = await h.sendSlack(slashCommand({ text, user_id: user, response_url: h.slack.responseUrl(id) }));
  expect(res.status).toBe(200);
  return String((await h.slack.waitForResponse(id)).body.text);
}

/** `@bwprep <text>` in a Teams conversation by Bob; resolves with the reply. */
async function teams(
  text: string,
  conversationId: string = `${FAKE_CHANNEL};messageid=1700000000000`,
  scope: 'channel' | 'groupChat' = 'channel',
): Promise<ConnectorCall> {
  const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, text, mention: true, locale: 'en-GB', from: BOB, conversationId, scope });
  expect((await h.post(msg)).status).toBe(200);
  return h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id && c.status === 200);
}

const cardJson = (c: ConnectorCall) => JSON.stringify((c.body?.attachments as { content: unknown }[] | undefined)?.[0]?.content ?? null);

describe('one rollout in Slack and Teams at once (one process, both fakes)', () => {
  it('a Slack link code binds a Teams channel; changes on either side show on the other side’s card; the code works once', async () => {
    // Bob (Teams) is a global admin, so his clicks and commands may change any step.
    h = await startCrossPlatformHarness({ env: { BWPREP_ADMINS: `teams:${BOB.aadObjectId}` } });
    const slackStatus = await h.sendSlack(slashCommand({ text: 'status', user_id: alice, response_url: h.slack.responseUrl('status') }));
    expect(slackStatus.status).toBe(200);
    const slackCard = await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === FAKE_CHANNEL_ID);
    await vi.waitFor(async () => expect((await h.app.service.get(SLACK_HOME))?.card).toBeDefined());

    const text = await slack('link');
    const code = /`([A-Z0-9]{4}-[A-Z0-9]{4})`/.exec(text)?.[1];
    expect(code, text).toBeDefined();

    const wrong = await teams('link ZZZZ-ZZZZ');
    expect(String(wrong.body?.text)).toContain('unknown, already used or expired');
    expect((await h.app.service.get(SLACK_HOME))?.links ?? []).toEqual([]);

    const bound = await teams(`link ${code}`);
    expect(String(bound.body?.text)).toContain('now follows the rollout of');
    // The Teams channel gets its own living card, naming the conversation it is linked with.
    const teamsCard = await h.connector.waitFor(
      (c) => c.kind === 'send' && c.conversationId === FAKE_CHANNEL && c.status === 200 && cardJson(c).includes('steps done'),
    );
    expect(cardJson(teamsCard)).toContain('Also in');
    const rollout = await h.app.service.get(SLACK_HOME);
    expect(rollout?.links?.map((l) => l.conversation)).toEqual([expect.objectContaining({ platform: 'teams', workspace: FAKE_TENANT, channel: FAKE_CHANNEL })]);
    // The Teams channel has no rollout of its own.
    expect(await h.app.service.get(TEAMS_HOME)).toBeUndefined();

    // A change in Slack updates the Teams card (PUT …/activities/{id})…
    await slack('done 2a');
    const put = await h.connector.waitFor(
      (c) => c.kind === 'update' && c.activityId === teamsCard.id && c.status === 200 && cardJson(c).includes('1 of 10 steps done'),
    );
    expect(put.conversationId).toBe(FAKE_CHANNEL);
    // …and a change in Teams updates the Slack card (chat.update).
    const reply = await teams('done 2b');
    expect(String(reply.body?.text)).toContain('2b');
    await h.slack.waitFor(
      'chat.update',
      (u) => u.args.channel === FAKE_CHANNEL_ID && u.args.ts === slackCard.response.ts && blockText(u.args.blocks).includes('2 of 10 steps done'),
    );
    expect((await h.app.service.get(SLACK_HOME))?.steps['2b']?.state).toBe('done');
    // The audit trail names the surface of each change.
    const audit = await h.app.store.audit.list(SLACK_HOME);
    expect(audit.find((a) => a.action === 'rollout.linked')).toMatchObject({ actor: `teams:${BOB.aadObjectId}`, surface: 'teams' });

    // The code is used: another Teams conversation cannot reuse it.
    const again = await teams(`link ${code}`, FAKE_GROUP_CHAT, 'groupChat');
    expect(String(again.body?.text)).toContain('unknown, already used or expired');
    expect((await h.app.service.get(SLACK_HOME))?.links).toHaveLength(1);
  });

  it('the other way round: a Teams link code binds a Slack channel', async () => {
    h = await startCrossPlatformHarness();
    // Bob starts the Teams rollout, so he is its admin and may ask for a code.
    expect((await h.post(teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'status', mention: true, from: BOB }))).status).toBe(200);
    await h.connector.waitFor((c) => c.kind === 'send' && c.conversationId === FAKE_CHANNEL && cardJson(c).includes('steps done'));
    const reply = await teams('link');
    const code = /`([A-Z0-9]{4}-[A-Z0-9]{4})`/.exec(String(reply.body?.text))?.[1];
    expect(code, String(reply.body?.text)).toBeDefined();
    expect(await slack(`link ${code}`, carol)).toContain('now follows');
    await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === FAKE_CHANNEL_ID && blockText(c.args.blocks).includes('steps done'));
    expect((await h.app.service.get(TEAMS_HOME))?.links?.map((l) => l.conversation.platform)).toEqual(['slack']);
    expect(await slack(`link ${code}`, carol)).toContain('already');
  });
});
