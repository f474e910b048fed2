import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import {
  appHomeOpened,
  blockActions,
  button,
  FAKE_BOT_TOKEN,
  FAKE_CHANNEL_ID,
  FAKE_SIGNING_SECRET,
  FAKE_TEAM_ID,
  FAKE_USERS,
  nowSeconds,
  slashCommand,
  urlVerification,
  usersSelect,
} from '../helpers/slack-requests';
import { blockText, type SlackHarness, startSlackHarness, stepSection } from './harness';

const { alice, bob, carol } = FAKE_USERS; // alice: workspace admin, nl-NL; bob: en-GB; carol: en-US
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;

let h: SlackHarness;
let n = 0;

/** Runs `/bwprep <text>` as `user` and returns what the app posted to the response_url. */
async function command(text: string, user: string = alice) {
  const id = `cmd-${++n}`;
  const res = await h.send(slashCommand({ text, user_id: user, response_url: h.slack.responseUrl(id) }));
  expect(res.status).toBe(200);
  return { id, res, reply: () => h.slack.waitForResponse(id) };
}

async function replyText(text: string, user: string = alice): Promise<string> {
  const c = await command(text, user);
  const r = await c.reply();
  expect(r.body.response_type).toBe('ephemeral');
  return String(r.body.text);
}

async function click(user: string, action: ReturnType<typeof button>) {
  const id = `act-${++n}`;
  const card = await currentCard();
  const res = await h.send(blockActions({ user, channel: FAKE_CHANNEL_ID, message_ts: card.ts, actions: [action], response_url: h.slack.responseUrl(id) }));
  expect(res.status).toBe(200);
  return id;
}

async function currentCard() {
  const r = await h.app.service.get(ROLLOUT);
  if (!r?.card) throw new Error('no card posted yet');
  const msg = h.slack.message(r.card.channel, r.card.ts);
  if (!msg) throw new Error('card not in the fake');
  return msg;
}

/** Waits until the living card has been updated `count` times in total. */
async function cardUpdates(count: number) {
  const r = await h.app.service.get(ROLLOUT);
  return h.slack.waitForCount('chat.update', count, (c) => c.args.ts === r?.card?.ts);
}

beforeEach(async () => {
  if (h) await h.close();
  h = await startSlackHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('/bwprep status', () => {
  it('creates the rollout on first use and posts the checklist card with every step, grouped by phase', async () => {
    await command('status');
    const post = await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === FAKE_CHANNEL_ID);
    const blocks = post.args.blocks as unknown[];
    const text = blockText(blocks);
    // Cloud by default (BW_REGION unset = US): 10 of 14 steps apply, 5.5 h in all, step 6 not estimated.
    expect(text).toContain('0 of 10 steps done (0%)');
    expect(text).toContain('5.5 h of 5.5 h left');
    expect(text).toContain('Phase 1: Upgrade or restart the organization');
    for (const id of ['1a', '2a', '2b', '3a', '3b', '3c', '4a', '4b', '4c', '4d', '4e', '5a', '5b', '6']) {
      expect(stepSection(blocks, id), `step ${id}`).toContain(`*${id}*`);
    }
    expect(stepSection(blocks, '3a')).toContain('Not applicable');
    expect(stepSection(blocks, '3a')).toContain('does not apply to Bitwarden cloud (US)');
    expect(stepSection(blocks, '6')).toContain('not estimated');
    expect(stepSection(blocks, '2a')).toContain('unassigned');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card?.ts).toBe(post.response.ts));
    expect((await h.app.service.get(ROLLOUT))?.settings.admins).toEqual([`slack:${alice}`]);
  });

  it('re-posting retires the old card so the channel has one current card', async () => {
    await command('status');
    const first = await h.slack.waitFor('chat.postMessage');
    await command('status', bob);
    const second = await h.slack.waitForCount('chat.postMessage', 2);
    const retire = await h.slack.waitFor('chat.update', (c) => c.args.ts === first.response.ts);
    expect(String(retire.args.text)).toContain('replaced by a newer one');
    expect(blockText(retire.args.blocks)).not.toContain('Mark done');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card?.ts).toBe(second[1]?.response.ts));
  });

  it('explains how to invite the bot when it cannot post in the channel', async () => {
    h.slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    const text = await replyText('status', bob);
    expect(text).toContain('/invite @bwprep');
  });
});

describe('card interactions', () => {
  beforeEach(async () => {
    await command('status');
    await h.slack.waitFor('chat.postMessage');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card).toBeDefined());
  });

  it('an admin picks an owner with the user picker; the card shows the owner', async () => {
    await click(alice, usersSelect(ACTIONS.assignOwner, bob, { block_id: 'step:2a' }));
    const [update] = await cardUpdates(1);
    expect(stepSection(update?.args.blocks, '2a')).toContain(`<@${bob}>`);
    const rollout = await h.app.service.get(ROLLOUT);
    expect(rollout?.steps['2a']?.owner).toBe(`slack:${bob}`);
  });

  it('the owner marks the step done and reopens it; the card follows', async () => {
    await click(alice, usersSelect(ACTIONS.assignOwner, bob, { block_id: 'step:2a' }));
    await cardUpdates(1);
    await click(bob, button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '2a')));
    const updates = await cardUpdates(2);
    const done = stepSection(updates[1]?.args.blocks, '2a');
    expect(done).toContain('☑️');
    expect(done).toContain('Done');
    expect(blockText(updates[1]?.args.blocks)).toContain('1 of 10 steps done (10%)');
    await click(bob, button(ACTIONS.reopenStep, encodeStepRef(ROLLOUT, '2a')));
    const again = await cardUpdates(3);
    expect(stepSection(again[2]?.args.blocks, '2a')).toContain('⬜');
    expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.state).toBe('open');
  });

  it('someone who is neither owner nor admin is refused in private and nothing changes', async () => {
    await click(alice, usersSelect(ACTIONS.assignOwner, bob, { block_id: 'step:2a' }));
    await cardUpdates(1);
    const before = await h.app.service.get(ROLLOUT);
    const id = await click(carol, button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '2a')));
    const refusal = await h.slack.waitForResponse(id);
    expect(refusal.body.response_type).toBe('ephemeral');
    expect(refusal.body.replace_original).toBe(false);
    // It names who may: the owner and the rollout admins, as mentions.
    expect(String(refusal.body.text)).toContain(`Only the owner of step 2a (<@${bob}>) or a rollout admin (<@${alice}>)`);
    const after = await h.app.service.get(ROLLOUT);
    expect(after?.steps['2a']).toEqual(before?.steps['2a']);
    expect(after?.version).toBe(before?.version);
    // A stranger cannot hand a step to someone else either; the picker snaps back to the real owner.
    const id2 = await click(carol, usersSelect(ACTIONS.assignOwner, carol, { block_id: 'step:2a' }));
    expect(String((await h.slack.waitForResponse(id2)).body.text)).toContain('already has an owner');
    expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.owner).toBe(`slack:${bob}`);
  });

  it('a Dutch-speaking user gets refusals in Dutch (their Slack locale)', async () => {
    h.slack.addUser({ id: 'U0DIRK', name: 'dirk', locale: 'nl-NL', tz: 'Europe/Amsterdam', is_admin: false });
    const id = await click('U0DIRK', button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '4a')));
    expect(String((await h.slack.waitForResponse(id)).body.text)).toContain('Alleen de eigenaar van stap 4a of een beheerder');
  });

  it('a change that Slack will not show on the card is still saved, and the owner is told so', async () => {
    h.slack.failNext('chat.update', { times: 3, error: 'internal_error' });
    const id = await click(alice, button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '4a')));
    const reply = await h.slack.waitForResponse(id);
    expect(String(reply.body.text)).toContain('Stap 4a is afgerond'); // alice reads Dutch
    expect(String(reply.body.text)).toContain('/bwprep status');
    expect((await h.app.service.get(ROLLOUT))?.steps['4a']?.state).toBe('done');
    expect(h.logs()).toContain('change saved, card not updated');
  });

  it('anyone can take an unowned step for themselves', async () => {
    await click(carol, usersSelect(ACTIONS.assignOwner, carol, { block_id: 'step:4b' }));
    const [update] = await cardUpdates(1);
    expect(stepSection(update?.args.blocks, '4b')).toContain(`<@${carol}>`);
  });

  it('a button from another workspace cannot touch this rollout', async () => {
    const id = `act-x`;
    const res = await h.send(
      blockActions({
        user: { id: 'U0EVE', team_id: 'T0OTHER' },
        team_id: 'T0OTHER',
        actions: [button(ACTIONS.markDone, encodeStepRef(ROLLOUT, '2a'))],
        response_url: h.slack.responseUrl(id),
      }),
    );
    expect(res.status).toBe(200);
    expect(String((await h.slack.waitForResponse(id)).body.text)).toContain("can't find");
    expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.state).toBe('open');
  });
});

describe('commands', () => {
  it('assign, done with a note, due, skip and unassign work and land in the audit trail', async () => {
    await command('status');
    await h.slack.waitFor('chat.postMessage');
    // alice's Slack is in Dutch, bob's in English: each gets replies in their own language.
    expect(await replyText(`assign 2B <@${bob}|bob>`)).toContain(`<@${bob}> is nu eigenaar van stap 2b`);
    expect(await replyText('done 2b enrolment policy switched on', bob)).toContain('Step 2b is marked done');
    expect(await replyText('due 4a 2026-12-01')).toContain('De deadline van stap 4a is 1 dec 2026');
    expect(await replyText('skip 4e we use the built-in roles only')).toContain('Stap 4e is overgeslagen');
    expect(await replyText('unassign 2b', bob)).toContain('Step 2b has no owner now');
    const r = await h.app.service.get(ROLLOUT);
    expect(r?.steps['2b']).toMatchObject({ state: 'done', note: 'enrolment policy switched on', doneBy: `slack:${bob}` });
    expect(r?.steps['4a']).toMatchObject({ due: '2026-12-01', dueSource: 'manual' });
    expect(r?.steps['4e']).toMatchObject({ state: 'not_applicable', skipReason: 'we use the built-in roles only' });
    const audit = await h.app.store.audit.list(ROLLOUT);
    const actions = audit.map((a) => `${a.action}:${a.stepId ?? ''}:${a.actor}:${a.surface}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        `rollout.created::slack:${alice}:slack`,
        `step.assigned:2b:slack:${alice}:slack`,
        `step.done:2b:slack:${bob}:slack`,
        `step.due_set:4a:slack:${alice}:slack`,
        `step.skipped:4e:slack:${alice}:slack`,
        `step.unassigned:2b:slack:${bob}:slack`,
      ]),
    );
    // The card followed every change.
    const last = h.slack.last('chat.update');
    expect(stepSection(last?.args.blocks, '4e')).toContain('Skipped');
    expect(stepSection(last?.args.blocks, '4e')).toContain('we use the built-in roles only');
  });

  it('bad input gets a clear message with the right usage, and changes nothing', async () => {
    await command('status', bob);
    await h.slack.waitFor('chat.postMessage');
    const before = await h.app.service.get(ROLLOUT);
    const unknown = await replyText('frobnicate', bob);
    expect(unknown).toContain('I don\'t know the command "frobnicate"');
    expect(unknown).toContain('/bwprep help');
    const unknownStep = await replyText('done 9z', bob);
    expect(unknownStep).toContain('There is no step "9z". The steps are: 1a, 2a, 2b');
    expect(unknownStep).toContain('Usage: `/bwprep done &lt;step&gt; [note]`');
    const badDate = await replyText('due 2a 2026-13-01', bob);
    expect(badDate).toContain('"2026-13-01" is not a date');
    expect(badDate).toContain('/bwprep due &lt;step&gt; &lt;YYYY-MM-DD&gt;');
    expect(await replyText('due 2a 2026-13-01')).toContain('"2026-13-01" is geen datum');
    expect(await replyText('assign 2a bob', bob)).toContain('"bob" is not a mention of a person');
    expect(await replyText('assign 2a <@U0NOBODY>', bob)).toContain("I can't find <@U0NOBODY> in this workspace");
    expect(await replyText('skip 4b', bob)).toContain('Say why the step is skipped');
    expect(await replyText('skip 4b not needed', carol)).toContain(`Only a rollout admin (<@${bob}>) can skip a step`);
    expect(await replyText('assign 2a <@U0BOB>', carol)).toContain('can assign steps to someone else');
    expect(await replyText('done 3a', bob)).toContain('does not apply to this rollout');
    expect(await replyText('lang de', bob)).toContain('Choose nl or en');
    const after = await h.app.service.get(ROLLOUT);
    expect(after?.steps).toEqual(before?.steps);
  });

  it("lang nl switches the channel to Dutch: the card and channel texts follow; help, a private reply, stays in the reader's own language", async () => {
    await command('status', bob);
    await h.slack.waitFor('chat.postMessage');
    expect(await replyText('lang nl', carol)).toContain(`Only a rollout admin (<@${bob}>) can change`);
    expect(await replyText('lang nl', bob)).toContain('Vanaf nu spreekt bwprep Nederlands in dit kanaal');
    const update = await h.slack.waitFor('chat.update', (c) => blockText(c.args.blocks).includes('Gereedheid'));
    const text = blockText(update.args.blocks);
    expect(text).toContain('0 van 10 stappen afgerond');
    expect(text).toContain('5,5 uur');
    expect(stepSection(update.args.blocks, '2b')).toContain('Accountherstel inschakelen');
    const help = await command('help', bob);
    const body = (await help.reply()).body;
    const helpText = blockText(body.blocks);
    // Bob's Slack language is English: a reply only he sees follows it (README, "Languages").
    expect(helpText).toContain('your Bitwarden trial-to-production checklist');
    expect(helpText).not.toContain('je checklist van Bitwarden-proefperiode naar productie');
    for (const c of ['status', 'mine', 'assign', 'unassign', 'done', 'reopen', 'skip', 'due', 'check', 'digest', 'setup', 'lang', 'export', 'help']) {
      expect(helpText).toContain(`/bwprep ${c}`);
    }
  });

  it('mine lists my steps in my own Slack language', async () => {
    await command('status');
    await h.slack.waitFor('chat.postMessage');
    await replyText(`assign 2a <@${bob}>`);
    await replyText(`assign 5b <@${bob}>`);
    await replyText('lang nl');
    const c = await command('mine', bob);
    const body = (await c.reply()).body;
    const text = blockText(body.blocks);
    expect(text).toContain('Your steps in this rollout');
    expect(text).toContain('2a');
    expect(text).toContain('Roll out the browser extension');
    // What the step asks, in our own words.
    expect(text).toContain('Push the Bitwarden browser extension to company devices centrally');
    expect(text).not.toContain('4a');
  });
});

describe('App Home', () => {
  it('shows my steps across rollouts and the rollouts I am in', async () => {
    await command('status');
    await h.slack.waitFor('chat.postMessage');
    await replyText(`assign 2a <@${bob}>`);
    await h.send(
      slashCommand({ text: 'status', user_id: alice, channel_id: 'C0SECOND', channel_name: 'klant-b', response_url: h.slack.responseUrl('second') }),
    );
    await h.slack.waitForCount('chat.postMessage', 2);
    await h.send(slashCommand({ text: `assign 4c <@${bob}>`, user_id: alice, channel_id: 'C0SECOND', response_url: h.slack.responseUrl('second-assign') }));
    await h.slack.waitForResponse('second-assign');
    const res = await h.send(appHomeOpened(bob));
    expect(res.status).toBe(200);
    const publish = await h.slack.waitFor('views.publish', (c) => c.args.user_id === bob);
    const text = blockText((publish.args.view as { blocks: unknown[] }).blocks);
    expect(text).toContain('Your steps');
    expect(text).toContain(`*2a*`);
    expect(text).toContain(`*4c*`);
    expect(text).toContain(`<#${FAKE_CHANNEL_ID}>`);
    expect(text).toContain('<#C0SECOND>');
  });

  it('publishes once for a redelivered event', async () => {
    const event = appHomeOpened(bob);
    await h.send(event);
    await h.send(event, { retryNum: 1 });
    await h.slack.waitFor('views.publish');
    await h.app.slack!.idle(); // both deliveries fully handled
    expect(h.slack.calls('views.publish')).toHaveLength(1);
  });
});

describe('request verification', () => {
  it('refuses a bad signature and changes nothing', async () => {
    const res = await h.send(slashCommand({ text: 'status', user_id: alice }), { badSignature: true });
    expect(res.status).toBe(401);
    await h.app.slack!.idle();
    expect(h.slack.calls('chat.postMessage')).toHaveLength(0);
    expect(await h.app.service.get(ROLLOUT)).toBeUndefined();
  });

  it('refuses a timestamp older than 5 minutes (replay) and changes nothing', async () => {
    const res = await h.send(slashCommand({ text: 'status', user_id: alice }), { timestamp: nowSeconds() - 6 * 60 });
    expect(res.status).toBe(401);
    await h.app.slack!.idle();
    expect(await h.app.service.get(ROLLOUT)).toBeUndefined();
  });

  it('answers the one-time url_verification challenge', async () => {
    const res = await h.send(urlVerification('fake-challenge-abc'));
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).toContain('fake-challenge-abc');
  });

  it('never writes the bot token or signing secret to the logs', async () => {
    await command('status');
    await h.slack.waitFor('chat.postMessage');
    await h.send(slashCommand({ text: 'status' }), { badSignature: true });
    const logs = h.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(FAKE_BOT_TOKEN);
    expect(logs).not.toContain(FAKE_SIGNING_SECRET);
  });
});

describe('restart', () => {
  it('keeps the checklist across a restart on the same SQLite file and keeps updating the same card', async () => {
    await command('status');
    await h.slack.waitFor('chat.postMessage');
    await replyText(`assign 2a <@${bob}>`);
    await h.restart();
    expect(await replyText('done 2a', bob)).toContain('Step 2a is marked done');
    const r = await h.app.service.get(ROLLOUT);
    expect(r?.steps['2a']).toMatchObject({ owner: `slack:${bob}`, state: 'done' });
    const update = await h.slack.waitFor('chat.update', (c) => stepSection(c.args.blocks, '2a').includes('☑️'));
    expect(update.args.ts).toBe(r?.card?.ts);
  });
});
