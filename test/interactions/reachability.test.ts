import { afterEach, describe, expect, it } from 'vitest';
import { type ConversationRef, conversationKey } from '../../src/core/checklist/model';
import { plainText } from '../../src/views/rich';
import { ADA, BRAM, CONVERSATION, type LayerHarness, layer, resolveUser } from './harness';

/**
 * Whether bwprep can post in a rollout's conversation (issue 9): the platform reports a conversation or a
 * whole installation gone and back (`conversationReachable`, `workspaceUnreachable`, `workspaceReachable`),
 * the rollout's `unreachable` mark follows (the scheduler skips marked rollouts), and the App Home tells
 * the rollout's admins while it lasts.
 */

const ROLLOUT = conversationKey(CONVERSATION);
const OTHER: ConversationRef = { ...CONVERSATION, channel: '19:other', name: 'other' };
const FOREIGN: ConversationRef = { platform: 'teams', workspace: 'tenant-2', channel: '19:foreign', name: 'foreign' };
const SCOPE = { platform: 'teams', workspace: CONVERSATION.workspace } as const;
const ROOT = 'teams:root';
const UNREACHABLE = "Since 25 Nov 2026 I can't post in #bitwarden-rollout, so its daily digest is paused.";

let h: LayerHarness;

afterEach(async () => {
  await h.close();
});

/** The layer with ROOT as a global admin, and ada's rollouts in `conversations` (she is their admin). */
async function start(...conversations: ConversationRef[]): Promise<void> {
  h = await layer({ globalAdmins: [ROOT] });
  for (const c of conversations) {
    await h.interactions.command(c, h.person(ADA, { workspace: c.workspace }), 'status', resolveUser);
  }
}

const mark = async (id: string) => (await h.service.get(id))?.unreachable;

describe('conversationReachable', () => {
  it('clears the mark of the conversation’s rollout and says so', async () => {
    await start(CONVERSATION);
    await h.service.markUnreachable(ROLLOUT, 'not_in_channel');
    expect(await mark(ROLLOUT)).toEqual({ code: 'not_in_channel', since: '2026-11-25T09:00:00.000Z' });
    const bram = h.person(BRAM);
    expect(await h.interactions.conversationReachable(CONVERSATION, bram.actor)).toBe(true);
    expect(await mark(ROLLOUT)).toBeUndefined();
    const audit = await h.store.audit.list(ROLLOUT);
    expect(audit.find((a) => a.action === 'rollout.reachable')).toMatchObject({ actor: BRAM, from: 'not_in_channel' });
    // Nothing left to clear.
    expect(await h.interactions.conversationReachable(CONVERSATION, bram.actor)).toBe(false);
  });

  it('a conversation without a rollout, or a rollout without a mark: false, nothing written', async () => {
    await start(CONVERSATION);
    const version = (await h.service.get(ROLLOUT))?.version;
    expect(await h.interactions.conversationReachable(OTHER, h.person(ADA).actor)).toBe(false);
    expect(await h.interactions.conversationReachable(CONVERSATION, h.person(ADA).actor)).toBe(false);
    expect((await h.service.get(ROLLOUT))?.version).toBe(version);
    expect(await h.service.get(conversationKey(OTHER))).toBeUndefined();
  });

  it('with codes: clears only a mark with one of them', async () => {
    await start(CONVERSATION);
    await h.service.markUnreachable(ROLLOUT, 'is_archived');
    const actor = h.person(ADA).actor;
    expect(await h.interactions.conversationReachable(CONVERSATION, actor, ['not_in_channel', 'channel_not_found'])).toBe(false);
    expect(await mark(ROLLOUT)).toMatchObject({ code: 'is_archived' });
    expect(await h.interactions.conversationReachable(CONVERSATION, actor, ['not_in_channel', 'is_archived'])).toBe(true);
    expect(await mark(ROLLOUT)).toBeUndefined();
  });

  it('only the conversation’s own rollout', async () => {
    await start(CONVERSATION, OTHER);
    await h.service.markUnreachable(ROLLOUT, 'not_in_channel');
    await h.service.markUnreachable(conversationKey(OTHER), 'not_in_channel');
    expect(await h.interactions.conversationReachable(OTHER, h.person(ADA).actor)).toBe(true);
    expect(await mark(conversationKey(OTHER))).toBeUndefined();
    expect(await mark(ROLLOUT)).toMatchObject({ code: 'not_in_channel' });
  });
});

describe('workspaceUnreachable / workspaceReachable', () => {
  it('an installation gone marks every rollout of that workspace once, and no other', async () => {
    await start(CONVERSATION, OTHER, FOREIGN);
    expect(await h.interactions.workspaceUnreachable(SCOPE, 'token_revoked')).toBe(2);
    for (const id of [ROLLOUT, conversationKey(OTHER)]) {
      expect(await mark(id)).toEqual({ code: 'token_revoked', since: '2026-11-25T09:00:00.000Z', installation: true });
    }
    expect(await mark(conversationKey(FOREIGN))).toBeUndefined();
    // Told again: nothing new to mark.
    h.clock.advance(60_000);
    expect(await h.interactions.workspaceUnreachable(SCOPE, 'app_uninstalled')).toBe(0);
    expect(await mark(ROLLOUT)).toMatchObject({ code: 'token_revoked', since: '2026-11-25T09:00:00.000Z' });
  });

  it('a conversation already unreachable learns that the whole installation is gone', async () => {
    await start(CONVERSATION, OTHER);
    await h.service.markUnreachable(ROLLOUT, 'not_in_channel');
    expect(await h.interactions.workspaceUnreachable(SCOPE, 'token_revoked')).toBe(2);
    expect(await mark(ROLLOUT)).toMatchObject({ code: 'token_revoked', installation: true });
  });

  it('a workspace with no rollouts: nothing marked', async () => {
    await start(FOREIGN);
    expect(await h.interactions.workspaceUnreachable(SCOPE, 'token_revoked')).toBe(0);
    expect(await h.interactions.workspaceUnreachable({ platform: 'slack', workspace: 'tenant-2' }, 'token_revoked')).toBe(0);
    expect(await mark(conversationKey(FOREIGN))).toBeUndefined();
  });

  it('the installation back clears the marks with one of the codes, in that workspace only', async () => {
    await start(CONVERSATION, OTHER, FOREIGN);
    await h.service.markUnreachable(ROLLOUT, 'token_revoked', { installation: true });
    await h.service.markUnreachable(conversationKey(OTHER), 'is_archived');
    await h.service.markUnreachable(conversationKey(FOREIGN), 'token_revoked', { installation: true });
    const actor = h.person(ADA).actor;
    expect(await h.interactions.workspaceReachable(SCOPE, ['token_revoked', 'app_uninstalled'], actor)).toBe(1);
    expect(await mark(ROLLOUT)).toBeUndefined();
    // Another reason the conversation is unreachable stands, and so does another workspace's.
    expect(await mark(conversationKey(OTHER))).toMatchObject({ code: 'is_archived' });
    expect(await mark(conversationKey(FOREIGN))).toMatchObject({ code: 'token_revoked' });
    // Nothing left to clear.
    expect(await h.interactions.workspaceReachable(SCOPE, ['token_revoked', 'app_uninstalled'], actor)).toBe(0);
  });

  it('the round trip: marked, then cleared, the rollout is as before', async () => {
    await start(CONVERSATION);
    const actor = h.person(ADA).actor;
    expect(await h.interactions.workspaceUnreachable(SCOPE, 'app_uninstalled')).toBe(1);
    expect(await h.interactions.workspaceReachable(SCOPE, ['app_uninstalled'], actor)).toBe(1);
    expect(await mark(ROLLOUT)).toBeUndefined();
  });
});

describe('home: notices for the rollout’s admins', () => {
  it('a rollout admin is told which conversation bwprep cannot post in, since when', async () => {
    await start(CONVERSATION, OTHER);
    h.clock.set('2026-11-27T10:00:00.000Z');
    await h.service.markUnreachable(ROLLOUT, 'not_in_channel');
    const home = await h.interactions.home(ADA, SCOPE);
    expect(home.notices.map((n) => plainText(n))).toEqual(["Since 27 Nov 2026 I can't post in #bitwarden-rollout, so its daily digest is paused."]);
    expect((await h.interactions.home(ADA, SCOPE, 'nl')).notices.map((n) => plainText(n))).toEqual([
      'Sinds 27 nov 2026 kan ik niet posten in #bitwarden-rollout, dus het dagelijkse overzicht daar staat stil.',
    ]);
  });

  it('nothing for someone who is not its admin, nor when all is well', async () => {
    await start(CONVERSATION);
    expect((await h.interactions.home(ADA, SCOPE)).notices).toEqual([]);
    await h.service.markUnreachable(ROLLOUT, 'not_in_channel');
    expect((await h.interactions.home(BRAM, SCOPE)).notices).toEqual([]);
    // Nor for the admin looking at another workspace.
    expect((await h.interactions.home(ADA, { platform: 'teams', workspace: 'tenant-2' })).notices).toEqual([]);
  });

  it('a global admin (BWPREP_ADMINS) is told too', async () => {
    await start(CONVERSATION);
    await h.service.markUnreachable(ROLLOUT, 'not_in_channel');
    expect((await h.interactions.home(ROOT, SCOPE)).notices.map((n) => plainText(n))).toEqual([UNREACHABLE]);
  });

  it('with what to do about it, where the platform knows the code', async () => {
    await start(CONVERSATION, OTHER);
    const asked: string[] = [];
    Object.assign(h.platform, {
      explain: (code: string) => {
        asked.push(code);
        return code === 'not_in_channel' ? { key: 'error.slack.not_in_channel' } : undefined;
      },
    });
    await h.service.markUnreachable(ROLLOUT, 'not_in_channel');
    await h.service.markUnreachable(conversationKey(OTHER), 'something_else');
    const notices = (await h.interactions.home(ADA, SCOPE)).notices.map((n) => plainText(n));
    expect(asked.sort()).toEqual(['not_in_channel', 'something_else']);
    expect(notices.sort()).toEqual([
      `${UNREACHABLE} I can't post in this channel yet. Invite me with /invite @bwprep, then try again.`,
      "Since 25 Nov 2026 I can't post in #other, so its daily digest is paused.",
    ]);
  });
});
