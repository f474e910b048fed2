import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import { blockActions, button, FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, slashCommand } from '../helpers/slack-requests';
import { blockText, type SlackHarness, startSlackHarness, TestClock } from './harness';

/**
 * One rollout, several conversations: `link` gives an admin a one-time code, `link <code>` in another
 * conversation binds it, and from then on every change updates the cards in all of them. Two Slack
 * channels here; the mechanism is the same for a Teams conversation (the application layer knows no
 * platform).
 */
const { alice, bob, carol } = FAKE_USERS; // alice: workspace admin (nl); bob, carol: members (en)
const HOME = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
const OTHER = 'C0OTHERCHAN';

let h: SlackHarness;
let n = 0;

async function reply(text: string, user: string = alice, channel: string = FAKE_CHANNEL_ID): Promise<string> {
  const id = `link-${++n}`;
  const res = await h.send(
    slashCommand({ text, user_id: user, channel_id: channel, channel_name: channel === OTHER ? 'managers' : undefined, response_url: h.slack.responseUrl(id) }),
  );
  expect(res.status).toBe(200);
  const r = await h.slack.waitForResponse(id);
  return String(r.body.text);
}

/** `status` answers with the card in the channel, not a reply. */
async function status(user: string = alice, channel: string = FAKE_CHANNEL_ID): Promise<void> {
  const res = await h.send(slashCommand({ text: 'status', user_id: user, channel_id: channel, response_url: h.slack.responseUrl(`status-${++n}`) }));
  expect(res.status).toBe(200);
  await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === channel);
}

async function code(): Promise<string> {
  const text = await reply('link');
  const m = /`([A-Z0-9]{4}-[A-Z0-9]{4})`/.exec(text);
  expect(m, text).toBeTruthy();
  return m![1]!;
}

beforeEach(async () => {
  await h?.close();
  h = await startSlackHarness();
  h.slack.addChannel({ id: OTHER, name: 'managers', is_member: true });
});
afterAll(async () => {
  await h?.close();
});

describe('link: one rollout in several conversations', () => {
  it('an admin gets a one-time code; typed in another conversation it binds it, posts a card there, and changes show on both cards', async () => {
    await status();
    const c = await code();
    expect(c).toMatch(/^[A-Z0-9-]{6,12}$/);

    const bound = await reply(`link ${c}`, bob, OTHER);
    expect(bound).toContain('now follows the rollout of');
    const otherCard = await h.slack.waitFor('chat.postMessage', (x) => x.args.channel === OTHER);
    expect(blockText(otherCard.args.blocks)).toContain('Also in:');

    // The other conversation has no rollout of its own: its commands act on the home rollout.
    const r = await h.app.service.get(HOME);
    expect(r?.links?.map((l) => l.conversation.channel)).toEqual([OTHER]);
    expect(await h.app.service.get(`slack:${FAKE_TEAM_ID}:${OTHER}`)).toBeUndefined();

    h.slack.reset();
    await reply(`done 2a`, alice, OTHER);
    for (const channel of [FAKE_CHANNEL_ID, OTHER]) {
      await h.slack.waitFor('chat.update', (u) => u.args.channel === channel && blockText(u.args.blocks).includes('1 of 10 steps done'));
    }

    // A click on the card in the linked channel works too.
    h.slack.reset();
    await h.send(
      blockActions({
        user: alice,
        channel: { id: OTHER, name: 'managers' },
        actions: [button(ACTIONS.markDone, encodeStepRef(HOME, '2b'))],
        response_url: h.slack.responseUrl('click'),
      }),
    );
    for (const channel of [FAKE_CHANNEL_ID, OTHER]) {
      await h.slack.waitFor('chat.update', (u) => u.args.channel === channel && blockText(u.args.blocks).includes('2 of 10 steps done'));
    }
    expect((await h.app.service.get(HOME))?.steps['2b']?.state).toBe('done');

    // The audit trail names the link.
    const audit = await h.app.store.audit.list(HOME);
    expect(audit.find((a) => a.action === 'rollout.linked')).toMatchObject({ actor: `slack:${bob}`, surface: 'slack' });
  });

  it('a code works once; a wrong code and a non-admin asking for one are refused, and nothing is bound', async () => {
    await status();
    expect(await reply('link', carol)).toContain('Only a rollout admin can link');
    const c = await code();
    expect(await reply('link ZZZZ-ZZZZ', bob, OTHER)).toContain('unknown, already used or expired');
    expect(await reply('link not*a*code', bob, OTHER)).toContain('is not a link code');
    expect((await h.app.service.get(HOME))?.links ?? []).toEqual([]);
    // From another Slack workspace (this bot is installed in one): refused, and the code stays unused.
    const id = `link-${++n}`;
    await h.send(slashCommand({ text: `link ${c}`, user_id: bob, team_id: 'T0EVIL', channel_id: 'C0EVIL', response_url: h.slack.responseUrl(id) }));
    expect(String((await h.slack.waitForResponse(id)).body.text)).toContain('another workspace');
    expect((await h.app.service.get(HOME))?.links ?? []).toEqual([]);
    expect(await reply(`link ${c}`, bob, OTHER)).toContain('now follows');
    // Used: a third conversation cannot reuse it.
    expect(await reply(`link ${c}`, bob, 'C0THIRD')).toContain('unknown, already used or expired');
    expect((await h.app.service.get(HOME))?.links?.map((l) => l.conversation.channel)).toEqual([OTHER]);
  });

  it('unlink detaches a linked conversation (admins), retires its card, and the home conversation cannot be unlinked', async () => {
    await status();
    const c = await code();
    await reply(`link ${c}`, bob, OTHER);
    const posted = await h.slack.waitFor('chat.postMessage', (x) => x.args.channel === OTHER);
    expect(await reply('unlink', carol, OTHER)).toContain('Only a rollout admin can link');
    expect(await reply('unlink')).toContain('In dit gesprek is de uitrol begonnen'); // alice reads Dutch
    expect(await reply('unlink', alice, OTHER)).toContain('volgt de uitrol van <#C0FAKEROLL> niet meer');
    // The card in the unlinked channel is retired (replaced by a one-line note), not left to go stale.
    await h.slack.waitFor(
      'chat.update',
      (u) => u.args.channel === OTHER && u.args.ts === posted.response.ts && !blockText(u.args.blocks).includes('Readiness'),
    );
    expect((await h.app.service.get(HOME))?.links ?? []).toEqual([]);
    // Now the other conversation is on its own again: a command there starts its own rollout.
    await status(bob, OTHER);
    expect(await h.app.service.get(`slack:${FAKE_TEAM_ID}:${OTHER}`)).toBeDefined();
  });
});

describe('the daily digest in a linked conversation (found by a review)', () => {
  it('a rate-limited digest post in the linked channel is retried by the client: both channels get it once', async () => {
    await h.close();
    const clock = new TestClock('2026-11-25T07:30:00Z'); // 08:30 in Amsterdam, before the 09:00 digest
    h = await startSlackHarness({ clock });
    h.slack.addChannel({ id: OTHER, name: 'managers', is_member: true });
    await status();
    await reply(`link ${await code()}`, bob, OTHER);
    // The home channel's digest goes through; Slack then answers the linked channel's post with 429 once.
    const isDigest = (args: Record<string, unknown>) => /Daily readiness digest/.test(JSON.stringify(args.blocks ?? ''));
    const home = h.slack.hold('chat.postMessage', (args) => args.channel === FAKE_CHANNEL_ID && isDigest(args));
    clock.set('2026-11-25T08:01:00Z');
    const tick = h.app.scheduler!.tick();
    await home.arrived(1);
    h.slack.rateLimitNext('chat.postMessage', { retryAfter: 0 });
    home.release();
    expect((await tick).digests.find((d) => d.rolloutId === HOME)).toMatchObject({ posted: true });
    const digests = (channel: string) => h.slack.messages(channel).filter((m) => isDigest(m as unknown as Record<string, unknown>));
    const linkedPosts = h.slack.calls('chat.postMessage').filter((c) => c.args.channel === OTHER && isDigest(c.args));
    expect(linkedPosts.map((c) => c.status)).toEqual([429, 200]); // the 429, then the client's retry
    expect(digests(FAKE_CHANNEL_ID)).toHaveLength(1);
    expect(digests(OTHER)).toHaveLength(1);
  });
});
