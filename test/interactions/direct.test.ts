import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ConversationRef, conversationKey } from '../../src/core/checklist/model';
import { ADA, BRAM, CONVERSATION, counter, type FakeRequester, type LayerHarness, layer, resolveUser } from './harness';

/**
 * A command typed in a direct message with the bot (`Interactions.direct`): no channel, so help and mine
 * work as they are, a step command works when it names the rollout's conversation, anything else says
 * where to run it, and a direct message never starts a rollout.
 */

const ROLLOUT = conversationKey(CONVERSATION);
/** A second rollout in the same tenant. */
const OTHER: ConversationRef = { ...CONVERSATION, channel: '19:other', name: 'other' };
/** A rollout in another tenant. */
const FOREIGN: ConversationRef = { platform: 'teams', workspace: 'tenant-2', channel: '19:foreign', name: 'foreign' };

const NAME_CHANNEL = 'Which rollout? Name its channel, for example done 2a #bitwarden-rollout, or run the command in that channel.';
const DM_INTRO =
  "Here in a direct message, help and mine work as they are. For a step command or an export, name the rollout's channel, for example done 2a #bitwarden-rollout or export md #bitwarden-rollout.";

let h: LayerHarness;

beforeEach(async () => {
  h = await layer();
});
afterEach(async () => {
  await h.close();
});

/** The rollout of CONVERSATION, started by ada in the channel (so she is its admin). */
async function rollout(): Promise<FakeRequester> {
  const ada = h.person(ADA);
  await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
  return ada;
}

async function dm(who: FakeRequester, text: string, conversation?: ConversationRef): Promise<string | undefined> {
  await h.interactions.direct(who, text, resolveUser, conversation);
  return who.texts().at(-1);
}

describe('without a conversation', () => {
  it('help: the command list, then what works here', async () => {
    const ada = h.person(ADA);
    await h.interactions.direct(ada, 'help', resolveUser);
    expect(ada.replies.map((r) => r.kind)).toEqual(['help', 'notice']);
    expect(ada.replies[0]).toMatchObject({ kind: 'help', view: { title: 'bwprep: your Bitwarden trial-to-production checklist' } });
    expect(ada.replies[1]).toMatchObject({ kind: 'notice', tone: 'info' });
    expect(ada.texts()[1]).toBe(DM_INTRO);
    expect(await h.store.rollouts.list()).toEqual([]);
  });

  it('mine lists the person’s steps in every rollout of the workspace, each with its conversation', async () => {
    const ada = await rollout();
    await h.interactions.command(CONVERSATION, ada, 'assign 2a @ada', resolveUser);
    await h.interactions.command(OTHER, ada, 'assign 4a @ada', resolveUser);
    await h.interactions.command(OTHER, ada, 'assign 4b @bram', resolveUser);
    const elsewhere = h.person(ADA, { workspace: 'tenant-2' });
    await h.interactions.command(FOREIGN, elsewhere, 'assign 2b @ada', resolveUser);

    const me = h.person(ADA);
    await h.interactions.direct(me, 'mine', resolveUser);
    expect(me.replies).toHaveLength(1);
    const reply = me.replies[0]!;
    expect(reply.kind).toBe('mine');
    if (reply.kind !== 'mine') return;
    expect(reply.view.title).toBe('Your steps in this workspace');
    expect(reply.view.empty).toBeUndefined();
    // Bram's step and the step in the other tenant are not Ada's here.
    expect(reply.view.lines.map((l) => l.step).sort()).toEqual(['2a', '4a']);
    const lines = me.texts()[0]!.split('\n').slice(2).sort();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^#bitwarden-rollout · .*2a Review the policy configuration · /);
    expect(lines[1]).toMatch(/^#other · .*4a /);
  });

  it('mine with no steps anywhere says so', async () => {
    await rollout();
    const bram = h.person(BRAM);
    await h.interactions.direct(bram, 'mine', resolveUser);
    expect(bram.replies).toEqual([
      { kind: 'mine', view: { title: 'Your steps in this workspace', empty: "You don't own any steps in this workspace's rollouts.", lines: [] } },
    ]);
  });

  it.each(['done 2a', 'reopen 2a', 'assign 2a @bram', 'unassign 2a', 'skip 2a not needed', 'due 2a 2026-12-01', 'export csv'])(
    '%s asks which rollout, and changes nothing',
    async (text) => {
      const ada = await rollout();
      const before = (await h.service.get(ROLLOUT))?.version;
      expect(await dm(ada, text)).toBe(NAME_CHANNEL);
      expect(ada.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'info' });
      expect((await h.service.get(ROLLOUT))?.version).toBe(before);
    },
  );

  it.each([
    ['status', 'status'],
    ['check', 'check'],
    ['setup', 'setup'],
    ['lang nl', 'lang'],
    ['digest', 'digest'],
    ['link', 'link'],
    ['unlink', 'unlink'],
  ])('%s works in the rollout’s channel only', async (text, name) => {
    const ada = h.person(ADA);
    expect(await dm(ada, text)).toBe(`${name} works in the rollout's channel only: run it there.`);
    expect(ada.replies).toHaveLength(1);
    expect(await h.store.rollouts.list()).toEqual([]);
    expect(h.platform.posts).toEqual([]);
  });
});

describe('naming the rollout’s conversation', () => {
  it('a conversation without a rollout: says so, and starts none', async () => {
    const ada = h.person(ADA);
    expect(await dm(ada, 'done 2a', CONVERSATION)).toBe('#bitwarden-rollout has no rollout yet. Start one there with status.');
    expect(ada.replies[0]).toMatchObject({ kind: 'notice', tone: 'info' });
    expect(await h.store.rollouts.list()).toEqual([]);
  });

  it('a rollout of another workspace, or of another platform, is not found', async () => {
    const elsewhere = h.person(ADA, { workspace: 'tenant-2' });
    await h.interactions.command(FOREIGN, elsewhere, 'status', resolveUser);
    const ada = h.person(ADA);
    expect(await dm(ada, 'done 2a', FOREIGN)).toBe('#foreign has no rollout yet. Start one there with status.');
    // Same workspace id, but a Slack person: a Teams rollout is not theirs either.
    h.addPlatform('slack');
    await rollout();
    const u1 = h.person('slack:U1', { workspace: CONVERSATION.workspace, admin: true });
    expect(await dm(u1, 'done 2a', CONVERSATION)).toBe('#bitwarden-rollout has no rollout yet. Start one there with status.');
    expect((await h.service.get(conversationKey(FOREIGN)))?.steps['2a']?.state).toBe('open');
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('open');
  });

  it('a command that needs the channel says to run it there', async () => {
    const ada = await rollout();
    const posts = h.platform.posts.length;
    for (const name of ['status', 'check', 'setup']) {
      expect(await dm(ada, name, CONVERSATION)).toBe(`${name} works in the rollout's channel only: run it in #bitwarden-rollout.`);
    }
    expect(h.platform.posts).toHaveLength(posts);
    expect(ada.replies.every((r) => r.kind === 'notice' && r.tone === 'info')).toBe(true);
  });

  it('a step command works: saved, the card refreshed, the person told', async () => {
    const ada = await rollout();
    expect(await dm(ada, 'done 2a policies on', CONVERSATION)).toBe('Step 2a is marked done.');
    expect(ada.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'ok' });
    expect((await h.service.get(ROLLOUT))?.steps['2a']).toMatchObject({ state: 'done', note: 'policies on' });
    expect(h.platform.updates).toHaveLength(1);
    expect(h.platform.updates[0]!.view.readiness.complete).toBe(1);
    expect(await h.store.rollouts.list()).toHaveLength(1);
  });

  it('mine and export name the rollout too', async () => {
    const ada = await rollout();
    await h.interactions.command(CONVERSATION, ada, 'assign 2a @ada', resolveUser);
    await h.interactions.direct(ada, 'mine', resolveUser, CONVERSATION);
    expect(ada.replies.at(-1)).toMatchObject({ kind: 'mine', view: { title: 'Your steps in this rollout' } });
    await h.interactions.direct(ada, 'export md', resolveUser, CONVERSATION);
    expect(ada.replies.at(-1)).toMatchObject({ kind: 'file', file: { filename: 'bwprep-readiness-2026-11-25.md', format: 'md' } });
  });

  it('a linked conversation finds the rollout it follows', async () => {
    const slack = h.addPlatform('slack');
    const ada = await rollout();
    await h.interactions.command(CONVERSATION, ada, 'link', resolveUser);
    const code = /([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(ada.texts().at(-1)!)![1]!;
    const linked: ConversationRef = { platform: 'slack', workspace: 'T1', channel: 'C1', name: 'rollout' };
    const u1 = h.person('slack:U1', { workspace: 'T1', admin: true });
    await h.interactions.command(linked, u1, `link ${code}`, resolveUser);
    expect(await dm(u1, 'done 2a', linked)).toBe('Step 2a is marked done.');
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done');
    expect(await h.service.get(conversationKey(linked))).toBeUndefined();
    expect(slack.updates.at(-1)!.view.readiness.complete).toBe(1);
    // A command that needs a channel: the channel the person named serves it as well as the home does.
    expect(await dm(u1, 'status', linked)).toBe("status works in the rollout's channel only: run it in #rollout.");
  });

  it('a mistake answers with how the command is written, in the rollout’s language when the person’s is unknown', async () => {
    const ada = await rollout();
    expect(await dm(ada, 'done 9z', CONVERSATION)).toBe(
      'There is no step "9z". The steps are: 1a, 2a, 2b, 3a, 3b, 3c, 4a, 4b, 4c, 4d, 4e, 5a, 5b, 6.\nUsage: done <step> [note]: mark a step done',
    );
    expect(ada.replies.at(-1)).toMatchObject({ kind: 'notice', tone: 'warn' });
    await h.interactions.command(CONVERSATION, ada, 'lang nl', resolveUser);
    const bram = h.person(BRAM);
    expect(await dm(bram, 'done 9z', CONVERSATION)).toBe(
      'Er is geen stap "9z". De stappen zijn: 1a, 2a, 2b, 3a, 3b, 3c, 4a, 4b, 4c, 4d, 4e, 5a, 5b, 6.\nGebruik: done <stap> [notitie] (ook: klaar, afronden, afgerond, gedaan): rond een stap af',
    );
  });

  it('a refusal is marked as one', async () => {
    await rollout();
    const bram = h.person(BRAM);
    await h.interactions.direct(bram, 'skip 2a not needed', resolveUser, CONVERSATION);
    expect(bram.replies).toHaveLength(1);
    expect(bram.replies[0]).toMatchObject({ kind: 'notice', tone: 'refused' });
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('open');
  });
});

describe('language and counters', () => {
  it('answers in the person’s own language', async () => {
    await rollout();
    const ada = h.person(ADA, { locale: 'nl' });
    await h.interactions.direct(ada, 'help', resolveUser);
    expect(await dm(ada, 'done 2a')).toBe('Welke uitrol? Noem het kanaal, bijvoorbeeld done 2a #bitwarden-rollout, of gebruik het commando in dat kanaal.');
    expect(await dm(ada, 'status')).toBe('status werkt alleen in het kanaal van de uitrol: gebruik het daar.');
    expect(await dm(ada, 'status', CONVERSATION)).toBe('status werkt alleen in het kanaal van de uitrol: gebruik het in #bitwarden-rollout.');
    expect(await dm(ada, 'done 2a', OTHER)).toBe('#other heeft nog geen uitrol. Begin er een met status in dat kanaal.');
    expect(await dm(ada, 'mine')).toBe('Jouw stappen in deze werkruimte\nJe bent nog geen eigenaar van stappen in de uitrollen van deze werkruimte.');
    expect(ada.texts()[0]!.split('\n')[0]).toBe('bwprep: je checklist van Bitwarden-proefperiode naar productie');
    expect(ada.texts()[1]).toMatch(/^Hier in een direct bericht werken help en mine gewoon\./);
  });

  it('counts each command by platform, name and outcome', async () => {
    const ada = await rollout();
    await h.interactions.direct(ada, 'done 2a', resolveUser, CONVERSATION);
    await h.interactions.direct(ada, 'done 2a', resolveUser);
    await h.interactions.direct(ada, 'done 9z', resolveUser, CONVERSATION);
    await h.interactions.direct(ada, 'frobnicate', resolveUser);
    expect(await counter(h.metrics.commands, { platform: 'teams', command: 'done', outcome: 'ok' })).toBe(2);
    expect(await counter(h.metrics.commands, { platform: 'teams', command: 'done', outcome: 'error' })).toBe(1);
    expect(await counter(h.metrics.commands, { platform: 'teams', command: 'unknown', outcome: 'error' })).toBe(1);
    expect(ada.texts().at(-1)).toBe('I don\'t know the command "frobnicate".\nUsage: help: list every command');
  });
});
