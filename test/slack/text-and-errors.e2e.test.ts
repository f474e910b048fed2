import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventCallback, FAKE_BOT_USER_ID, FAKE_CHANNEL_ID, FAKE_TEAM_ID, FAKE_USERS, slashCommand } from '../helpers/slack-requests';
import { blockText, type SlackHarness, startSlackHarness, stepSection, TestClock } from './harness';

/**
 * Issue 9, kinds 1 and 2, end to end over HTTP against the fake Slack Web API: text arrives escaped and is
 * shown exactly once-escaped; Slack's error codes become a hint that says what to do, on every path, logged
 * at warn — and a lasting one on scheduled work is tried once, tells the admins, and clears itself.
 */

const { alice, bob, carol } = FAKE_USERS; // bob (en-GB) starts the rollout, so he is its admin; carol is a member
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
// Wednesday 25 November 2026, 08:30 in Amsterdam: before the 09:00 digest.
const clock = new TestClock(new Date('2026-11-25T07:30:00Z'));
let h: SlackHarness;
let n = 0;

async function command(text: string, user: string = bob, o: { channel_id?: string } = {}) {
  const id = `t${++n}`;
  const res = await h.send(slashCommand({ text, user_id: user, response_url: h.slack.responseUrl(id), ...o }));
  expect(res.status).toBe(200);
  return id;
}

/** Every text the requester got through response_url for one command, joined. */
async function replies(id: string, count = 1): Promise<string> {
  await vi.waitFor(() => expect(h.slack.responses(id).length).toBeGreaterThanOrEqual(count));
  return h.slack
    .responses(id)
    .map((r) => String(r.body.text))
    .join('\n');
}

function card() {
  const ref = h.slack.messages(FAKE_CHANNEL_ID).filter((m) => (m.blocks as { block_id?: string }[] | undefined)?.some((b) => b.block_id?.startsWith('step:')));
  return ref.at(-1)!;
}

/** Log lines (parsed) whose msg contains `text`. */
function logLines(text: string): { level: string; msg: string; code?: string }[] {
  return h
    .logs()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { level: string; msg: string; code?: string })
    .filter((l) => l.msg?.includes(text));
}

beforeAll(async () => {
  h = await startSlackHarness({ clock });
  await command('status', bob);
  await h.slack.waitFor('chat.postMessage');
  await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card).toBeDefined());
});
afterAll(async () => {
  await h?.close();
});

describe('kind 1: text arrives escaped and is shown exactly once-escaped', () => {
  it('the issue example: a skip reason with & < > is stored plain, shown once-escaped on the card, escaped for Markdown in the export', async () => {
    const id = await command('skip 4e Not needed &amp; no &lt;custom&gt; roles');
    expect(await replies(id)).toContain('Step 4e is skipped');
    expect((await h.app.service.get(ROLLOUT))?.steps['4e']?.skipReason).toBe('Not needed & no <custom> roles');
    await vi.waitFor(() => expect(stepSection(card().blocks, '4e')).toContain('Not needed &amp; no &lt;custom&gt; roles'));
    expect(stepSection(card().blocks, '4e')).not.toContain('&amp;amp;');

    await command('export md');
    const done = await h.slack.waitFor('files.completeUploadExternal', undefined, 5000);
    const md = h.slack
      .files()
      .find((f) => f.id === (done.args.files as { id: string }[])[0]!.id)!
      .content!.toString('utf8');
    expect(md).toContain('Not needed & no \\<custom\\> roles');
    expect(md).not.toContain('&amp;');
  });

  it('a mention inside a note shows as a mention on the card, and as @id in the CSV export', async () => {
    const id = await command('done 1a upgraded by <@U0CAROL|carol>');
    expect(await replies(id)).toContain('Step 1a is marked done');
    expect((await h.app.service.get(ROLLOUT))?.steps['1a']?.note).toBe('upgraded by <@slack:U0CAROL>');
    await vi.waitFor(() => expect(stepSection(card().blocks, '1a')).toContain(`upgraded by <@${carol}>`));
    expect(stepSection(card().blocks, '1a')).not.toContain('&lt;@');

    const before = h.slack.calls('files.completeUploadExternal').length;
    await command('export csv');
    await h.slack.waitForCount('files.completeUploadExternal', before + 1, undefined, 5000);
    const csv = h.slack
      .files()
      .filter((f) => f.completed)
      .at(-1)!
      .content!.toString('utf8');
    expect(csv.split('\r\n').find((l) => l.startsWith('1a,'))).toContain(`upgraded by @${carol}`);
    expect(csv).not.toContain('<@');
  });

  it('other Slack references become readable text, and an escaped entity stays the text a person typed', async () => {
    await command(`assign 2b <@${carol}|carol>`);
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['2b']?.owner).toBe(`slack:${carol}`));
    await command('done 2b see <https://example.com/runbook|the runbook> in <#C0OPS|ops> &amp;lt;b&amp;gt; <!here>', carol);
    await vi.waitFor(async () =>
      expect((await h.app.service.get(ROLLOUT))?.steps['2b']?.note).toBe('see the runbook (https://example.com/runbook) in #ops &lt;b&gt; @here'),
    );
    // On the card the & of the typed entity is escaped once: Slack shows "&lt;b&gt;" as typed.
    await vi.waitFor(() => expect(stepSection(card().blocks, '2b')).toContain('#ops &amp;lt;b&amp;gt; @here'));
  });

  it('a deactivated user and a plain @name as owner each get a message that says which it is', async () => {
    h.slack.addUser({ id: 'U0GONE', name: 'gone', deleted: true });
    const gone = await command('assign 2a <@U0GONE|gone>');
    expect(await replies(gone)).toContain('<@U0GONE> has left this workspace (the account is deactivated)');
    const plain = await command('assign 2a @bob');
    expect(await replies(plain)).toContain('"@bob" is not a mention of a person');
    const unknown = await command('assign 2a <@U0NOBODY|nobody>');
    expect(await replies(unknown)).toContain("I can't find <@U0NOBODY> in this workspace");
    expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.owner).toBeUndefined();
  });
});

describe('kind 2: Slack API errors are understood in one place, on every path', () => {
  // The scheduled cases first: later cases create more rollouts (in DMs), whose digests would take the scripted error.
  it('is_archived on the scheduled digest: tried once, the admin is told once by DM and on the App Home, and it clears on unarchive', async () => {
    clock.set('2026-11-25T08:05:00Z'); // 09:05 in Amsterdam: the 09:00 digest is due
    const postsBefore = h.slack.calls('chat.postMessage').length;
    h.slack.failNext('chat.postMessage', { error: 'is_archived' });
    const tick = await h.app.scheduler!.tick();
    expect(
      tick.digests.find((d) => d.rolloutId === ROLLOUT),
      JSON.stringify(tick.digests),
    ).toMatchObject({ skipped: 'post_failed' });
    const rollout = await h.app.service.get(ROLLOUT);
    expect(rollout?.unreachable?.code).toBe('is_archived');
    const posts = h.slack.calls('chat.postMessage').slice(postsBefore);
    expect(posts.filter((c) => c.args.channel === FAKE_CHANNEL_ID)).toHaveLength(1); // tried once
    const dm = posts.filter((c) => c.args.channel === bob);
    expect(dm).toHaveLength(1);
    expect(blockText(dm[0]!.args.blocks)).toContain('archived');

    // Later ticks try nothing and tell nobody again.
    clock.set('2026-11-25T08:35:00Z');
    const again = await h.app.scheduler!.tick();
    expect(again.digests.find((d) => d.rolloutId === ROLLOUT)?.skipped).toBe('unreachable');
    expect(h.slack.calls('chat.postMessage').slice(postsBefore)).toHaveLength(2);

    // The App Home of the admin says so, with what to do; a non-admin sees no such notice.
    await h.send(eventCallback({ type: 'app_home_opened', user: bob, channel: 'D0FAKEBOB', tab: 'home' }));
    const home = await h.slack.waitFor('views.publish', (c) => c.args.user_id === bob);
    const homeText = blockText((home.args.view as { blocks: unknown }).blocks);
    expect(homeText).toMatch(/Since .* I can't post in <#C0FAKEROLL>, so its daily digest is paused\. This channel is archived/);
    await h.send(eventCallback({ type: 'app_home_opened', user: carol, channel: 'D0FAKECAROL', tab: 'home' }));
    const carolHome = await h.slack.waitFor('views.publish', (c) => c.args.user_id === carol);
    expect(blockText((carolHome.args.view as { blocks: unknown }).blocks)).not.toContain("I can't post in");

    // Unarchived: the mark clears, and the next slot posts again.
    await h.send(eventCallback({ type: 'channel_unarchive', channel: FAKE_CHANNEL_ID, user: alice }));
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.unreachable).toBeUndefined());
    clock.set('2026-11-26T08:05:00Z');
    const next = await h.app.scheduler!.tick();
    expect(next.digests.find((d) => d.rolloutId === ROLLOUT)?.posted).toBe(true);
  });

  it('not_in_channel on the scheduled digest clears when the bot itself joins the channel, not when someone else does', async () => {
    clock.set('2026-11-27T08:05:00Z');
    h.slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    await h.app.scheduler!.tick();
    expect((await h.app.service.get(ROLLOUT))?.unreachable?.code).toBe('not_in_channel');
    // Unarchiving does not undo a removal.
    await h.send(eventCallback({ type: 'channel_unarchive', channel: FAKE_CHANNEL_ID, user: alice }));
    await h.send(eventCallback({ type: 'member_joined_channel', user: carol, channel: FAKE_CHANNEL_ID, channel_type: 'C', team: FAKE_TEAM_ID }));
    await vi.waitFor(() => expect(h.slack.calls('auth.test').length).toBeGreaterThan(0));
    expect((await h.app.service.get(ROLLOUT))?.unreachable?.code).toBe('not_in_channel');
    await h.send(
      eventCallback({ type: 'member_joined_channel', user: FAKE_BOT_USER_ID, channel: FAKE_CHANNEL_ID, channel_type: 'C', team: FAKE_TEAM_ID, inviter: alice }),
    );
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.unreachable).toBeUndefined());
  });

  it('a lasting error clears too with the next successful card post (status)', async () => {
    clock.set('2026-11-30T08:05:00Z'); // Monday
    h.slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    await h.app.scheduler!.tick();
    expect((await h.app.service.get(ROLLOUT))?.unreachable?.code).toBe('channel_not_found');
    await command('status');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.unreachable).toBeUndefined());
  });

  it('/bwprep digest in a channel the bot is not in (not_in_channel): says to invite the bot, logged at warn', async () => {
    h.slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    const id = await command('digest');
    const text = await replies(id, 2);
    expect(text).toContain('Invite me with `/invite @bwprep`');
    expect(text).not.toContain('Something went wrong');
    expect(
      logLines('platform refused the request')
        .filter((l) => l.code === 'not_in_channel')
        .map((l) => l.level),
    ).toContain('warn');
    expect(logLines('unexpected error')).toHaveLength(0);
  });

  it('an error code named like an Object.prototype property (`constructor`) is handled as any code bwprep does not know', async () => {
    const reply = async (code: string) => {
      h.slack.failNext('chat.postMessage', { error: code });
      return (await replies(await command('digest'), 2)).replace(/Reference: \w+/, 'Reference: …');
    };
    const unknown = await reply('fake_code_slack_never_sends');
    expect(unknown).toContain('Something went wrong on our side');
    expect(await reply('constructor')).toBe(unknown);
    expect((await h.app.service.get(ROLLOUT))?.unreachable).toBeUndefined();
  });

  it('/bwprep export md in a DM between two people (channel_not_found): the requester gets the file by DM and is told', async () => {
    const dmBetweenPeople = 'D0ALICEBOB';
    // Without the rollout named, a DM has none: bwprep asks which.
    expect(await replies(await command('export md', bob, { channel_id: dmBetweenPeople }))).toContain('Which rollout? Name its channel');
    h.slack.failNext('files.completeUploadExternal', { error: 'channel_not_found' });
    const id = await command(`export md <#${FAKE_CHANNEL_ID}|bitwarden-rollout>`, bob, { channel_id: dmBetweenPeople });
    expect(await replies(id)).toContain('I sent you the MD report in a direct message');
    expect(await h.app.service.get(`slack:${FAKE_TEAM_ID}:${dmBetweenPeople}`)).toBeUndefined();
    const delivered = h.slack
      .files()
      .filter((f) => f.completed)
      .at(-1)!;
    expect(delivered.channel_id).toBe(h.slack.dmChannel(bob));
    expect(delivered.filename).toMatch(/\.md$/);
  });

  it('an export the DM fallback cannot deliver either is explained, not "something went wrong"', async () => {
    h.slack.failNext('files.completeUploadExternal', { error: 'not_in_channel' });
    h.slack.failNext('conversations.open', { error: 'cannot_dm_bot' });
    const id = await command('export csv', bob, { channel_id: 'G0PRIVATE' });
    const text = await replies(id);
    expect(text).toContain("I can't post in this channel yet");
    expect(text).not.toContain('Something went wrong');
  });

  it('/bwprep setup when views.open answers expired_trigger_id: run the command again', async () => {
    h.slack.failNext('views.open', { error: 'expired_trigger_id' });
    const id = await command('setup');
    const text = await replies(id);
    expect(text).toContain('Please run the command again');
    expect(text).not.toContain('Something went wrong');
  });

  it('missing_scope names the scope Slack says is needed', async () => {
    h.slack.failNext('chat.postMessage', { error: 'missing_scope', extra: { needed: 'chat:write.public', provided: 'commands,chat:write' } });
    const id = await command('status');
    expect(await replies(id)).toContain('lacks the Slack permission `chat:write.public`');
  });

  it('a transient error (internal_error) on a card click says to try again in a minute', async () => {
    h.slack.failNext('chat.postMessage', { error: 'internal_error' });
    const id = await command('status');
    const text = await replies(id);
    expect(text).toContain('Slack is busy or unreachable right now');
    expect(text).not.toContain('Reference:');
  });
});
