import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import type { Actor, ConversationRef } from '../../src/core/checklist/model';
import { ChecklistService } from '../../src/core/checklist/service';
import { isBwprepError } from '../../src/core/errors';
import { kvCheckHistory } from '../../src/core/ports';
import { Interactions, Platforms, type Reply } from '../../src/interactions';
import { createLogger } from '../../src/logging/logger';
import { openStore } from '../../src/store';
import { plainText } from '../../src/views/rich';
import { ADMIN, CONVERSATION, makeHarness, TEMPLATE } from '../core/harness';
import { TestClock } from '../helpers/clock';
import { FakePlatform } from '../interactions/harness';

/**
 * The permission matrix: every command and card action × who asks → allowed or refused, run against the one
 * writer (ChecklistService) on a fresh rollout each time. The same table is the README's permission section
 * (between the `permissions:` markers); `UPDATE_PERMISSIONS=1 npx vitest run test/permissions` rewrites it.
 *
 * Roles as the adapters hand them to the core: a Slack workspace admin of the installing workspace is
 * vouched (`platformAdmin`); a user from another organization in a Slack Connect channel is not, whatever
 * their own workspace says (src/slack/installation.ts adminRightsCount, tested in test/slack/).
 */
const OWNER: Actor = { user: 'slack:U0OWNER', surface: 'slack' };
const ROLES: [string, Actor, { globalAdmin?: boolean }?][] = [
  ['step owner', OWNER],
  ['other member', { user: 'slack:U0OTHER', surface: 'slack' }],
  ['rollout admin', ADMIN],
  ['global admin (`BWPREP_ADMINS`)', { user: 'slack:U0GLOBAL', surface: 'slack' }, { globalAdmin: true }],
  ['workspace admin', { user: 'slack:U0WSADMIN', surface: 'slack', platformAdmin: true }],
  ['external user (Slack Connect)', { user: 'slack:U0EXTERNAL', surface: 'slack' }],
];

type Op = (h: Awaited<ReturnType<typeof makeHarness>>, id: string, actor: Actor, globalAdmin: boolean) => Promise<unknown>;

/** A conversation of the same workspace that a rollout admin links to the rollout (for `unlink`). */
const LINKED: ConversationRef = { ...CONVERSATION, channel: 'C0LINKED', name: 'linked' };
const texts = (replies: Reply[]) => replies.map((r) => (r.kind === 'notice' ? r.lines.map((l) => plainText(l)).join('\n') : r.kind)).join('\n');
const DEFAULTS = loadConfig({ BWPREP_STORE_URL: 'sqlite://:memory:', BWPREP_LOCALE: 'en' }).defaults;

/**
 * Commands typed to the application layer (src/interactions: parser, error boundary, the checks it makes
 * itself — `link`, `setup` — and the service's), on the real SQLite store, with the same rollout and owner
 * as the service rows. Refused when a reply is a refusal (tone `refused`: a refusal always answers; `status` answers with the
 * card itself); every command of a row must agree.
 */
function viaLayer(commands: string[], o: { in?: ConversationRef; prepare?: (run: (a: Actor, text: string, c?: ConversationRef) => Promise<Reply[]>) => Promise<void> } = {}): Op {
  return async (h, id, actor, globalAdmin) => {
    const logger = createLogger({ level: 'silent' });
    const store = await openStore('sqlite://:memory:', { logger });
    try {
      const clock = new TestClock('2026-11-25T09:00:00.000Z');
      const service = new ChecklistService({ store: store.rollouts, template: TEMPLATE, clock, defaults: DEFAULTS, globalAdmins: globalAdmin ? [actor.user] : [], checkHistory: kvCheckHistory(store.kv, clock) });
      const interactions = new Interactions({ service, store, clock, platforms: new Platforms().register(new FakePlatform('slack')), logger, defaults: DEFAULTS });
      const run = async (a: Actor, text: string, c: ConversationRef = CONVERSATION): Promise<Reply[]> => {
        const replies: Reply[] = [];
        await interactions.command(c, { actor: a, scope: { platform: 'slack', workspace: c.workspace }, reply: async (r) => void replies.push(r) }, text, () => undefined);
        return replies;
      };
      const rollout = await service.ensureRollout(CONVERSATION, ADMIN);
      await service.assign(rollout.id, '2a', OWNER.user, ADMIN);
      await o.prepare?.(run);
      const outcomes = new Set<string>();
      for (const text of commands) {
        const replies = await run(actor, text, o.in);
        outcomes.add(replies.some((r) => r.kind === 'notice' && r.tone === 'refused') ? 'refused' : 'allowed');
      }
      if (outcomes.size !== 1) throw new Error(`matrix: ${commands.join(', ')} disagree for ${actor.user}`);
      if (outcomes.has('refused')) throw Object.assign(new Error('forbidden'), { name: 'BwprepError', code: 'forbidden' });
    } finally {
      await store.close();
    }
  };
}
const ACTIONS: [string, Op][] = [
  // Reading and checking are open to everyone in the conversation (DESIGN §7): typed to the application layer.
  ['`status`, `help`, `mine`, `check`, `digest`, `export`', viaLayer(['status', 'help', 'mine', 'check', 'digest', 'export csv'])],
  ['`done <step>` / Done button (an owned step)', (h, id, a) => h.service.markDone(id, '2a', a)],
  ['`reopen <step>` / Reopen button (a done step)', async (h, id, a) => { await h.service.markDone(id, '2a', OWNER); return h.service.reopen(id, '2a', a); }],
  ['`due <step> <date>` (an owned step)', (h, id, a) => h.service.setDue(id, '2a', '2026-12-01', a)],
  ['Snooze button on a reminder (an owned step)', (h, id, a) => h.service.snooze(id, '2a', '2026-11-27', a)],
  ['`assign <step> @me` / owner picker (an unowned step)', (h, id, a) => h.service.assign(id, '2b', a.user, a)],
  ['`assign <step> @someone-else`', (h, id, a) => h.service.assign(id, '2b', 'slack:U0THIRD', a)],
  ['`unassign <step>` (own step)', (h, id, a) => h.service.unassign(id, '2a', a)],
  ['`unassign <step>` (someone else\'s step)', async (h, id, a) => { await h.service.assign(id, '2b', 'slack:U0THIRD', ADMIN); return h.service.unassign(id, '2b', a); }],
  ['`skip <step> <reason>`', (h, id, a) => h.service.skip(id, '4e', 'built-in roles only', a)],
  ['`lang nl\\|en`, `setup`', viaLayer(['lang nl', 'setup'])],
  ['`link` (a code)', viaLayer(['link'])],
  ['`unlink` (a linked conversation)', viaLayer(['unlink'], { in: LINKED, prepare: async (run) => {
    const code = /\b[A-Z0-9]{4}-[A-Z0-9]{4}\b/.exec(texts(await run(ADMIN, 'link')))?.[0];
    if (!code) throw new Error('matrix: the admin got no link code');
    await run(ADMIN, `link ${code}`, LINKED);
  } })],
];

async function outcome(op: Op, actor: Actor, globalAdmin: boolean): Promise<'allowed' | 'refused'> {
  const h = await makeHarness('memory', { globalAdmins: globalAdmin ? [actor.user] : [] });
  try {
    const id = (await h.rollout()).id;
    await h.service.assign(id, '2a', OWNER.user, ADMIN);
    await op(h, id, actor, globalAdmin);
    return 'allowed';
  } catch (e) {
    if (isBwprepError(e) && e.code === 'forbidden') return 'refused';
    throw e;
  } finally {
    await h.close();
  }
}

export async function permissionTable(): Promise<string> {
  const lines = [`| | ${ROLES.map(([r]) => r).join(' | ')} |`, `|---|${ROLES.map(() => '---').join('|')}|`];
  for (const [action, op] of ACTIONS) {
    const cells: string[] = [];
    for (const [, actor, o] of ROLES) cells.push((await outcome(op, actor, Boolean(o?.globalAdmin))) === 'allowed' ? '✅' : '—');
    lines.push(`| ${action} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

const README = path.join(__dirname, '..', '..', 'README.md');
const START = '<!-- permissions:start (generated by test/permissions/matrix.test.ts) -->';
const END = '<!-- permissions:end -->';

describe('permission matrix', () => {
  it('who may do what, as run against the service, is what the README says', async () => {
    const table = await permissionTable();
    // The rules of DESIGN §7, spot-checked in the table itself.
    expect(table).toContain('| `assign <step> @someone-else` | — | — | ✅ | ✅ | ✅ | — |');
    expect(table).toContain('| `done <step>` / Done button (an owned step) | ✅ | — | ✅ | ✅ | ✅ | — |');
    const readme = readFileSync(README, 'utf8');
    const block = `${START}\n${table}\n${END}`;
    if (process.env.UPDATE_PERMISSIONS) {
      const i = readme.indexOf(START);
      const j = readme.indexOf(END);
      writeFileSync(README, i >= 0 && j > i ? readme.slice(0, i) + block + readme.slice(j + END.length) : readme);
    }
    expect(readFileSync(README, 'utf8')).toContain(block);
  });
});
