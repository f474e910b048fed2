import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { webApi } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import type { Actor, ConversationRef } from '../../src/core/checklist/model';
import { ChecklistService } from '../../src/core/checklist/service';
import { isBwprepError } from '../../src/core/errors';
import { kvCheckHistory } from '../../src/core/ports';
import { Interactions, Platforms, type Reply } from '../../src/interactions';
import type { Requester } from '../../src/interactions/ports';
import type { UserKey } from '../../src/core/checklist/model';
import { ACTIONS as BUTTONS, type ActionId } from '../../src/views/actions';
import { createLogger } from '../../src/logging/logger';
import { openStore } from '../../src/store';
import { boltLogger } from '../../src/slack/app';
import { getProfile, slackActor } from '../../src/slack/context';
import { installationOf } from '../../src/slack/installation';
import { startFakeSlackApi } from '../fakes/slack-api';
import { FAKE_BOT_TOKEN } from '../helpers/slack-requests';
import { plainText } from '../../src/views/rich';
import { ADMIN, CONVERSATION, makeHarness, TEMPLATE } from '../core/harness';
import { TestClock } from '../helpers/clock';
import { FakePlatform } from '../interactions/harness';

/**
 * The permission matrix: every command and card action × who asks → allowed or refused, on a fresh rollout
 * each time: typed commands, card buttons, the owner picker and the setup form through the application layer
 * as the Slack and Teams adapters call it; the step commands against the one writer (ChecklistService). The same table is the README's permission section
 * (between the `permissions:` markers); `UPDATE_PERMISSIONS=1 npx vitest run test/permissions` rewrites it.
 *
 * Roles as the adapters hand them to the core. The workspace admin and the external user are built by the
 * Slack adapter itself (`getProfile` + `slackActor`, src/slack/context.ts) from users.info answers of the
 * fake Slack Web API: both are admins of their own workspace, but only the installing workspace's admin
 * is vouched (`platformAdmin`); a person from another organization in a Slack Connect channel is not
 * (src/slack/installation.ts adminRightsCount).
 */
const OWNER: Actor = { user: 'slack:U0OWNER', surface: 'slack' };
/** A third person of the workspace, whom steps are assigned to. */
const THIRD: UserKey = 'slack:U0THIRD';
type Role = [string, Actor, { globalAdmin?: boolean }?];

/** users.info → the adapter's actor, through the real WebClient against the fake Slack Web API. */
async function slackAdapterActors(): Promise<{ workspaceAdmin: Actor; external: Actor }> {
  const slack = await startFakeSlackApi();
  const store = await openStore('sqlite://:memory:', { logger: createLogger({ level: 'silent' }) });
  try {
    slack.addUser({ id: 'U0WSADMIN', is_admin: true });
    slack.addUser({ id: 'U0EXTERNAL', is_admin: true, is_owner: true, team_id: 'T0PARTNER' });
    const client = new webApi.WebClient(FAKE_BOT_TOKEN, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
      logger: boltLogger(createLogger({ level: 'silent' })),
    });
    const installation = installationOf(client);
    const actor = async (id: string) => slackActor(id, await getProfile(client, store.kv, id, installation));
    return { workspaceAdmin: await actor('U0WSADMIN'), external: await actor('U0EXTERNAL') };
  } finally {
    await store.close();
    await slack.close();
  }
}

let roles: Role[] | undefined;
async function ROLES(): Promise<Role[]> {
  if (roles) return roles;
  const { workspaceAdmin, external } = await slackAdapterActors();
  roles = [
    ['step owner', OWNER],
    ['other member', { user: 'slack:U0OTHER', surface: 'slack' }],
    ['rollout admin', ADMIN],
    ['global admin (`BWPREP_ADMINS`)', { user: 'slack:U0GLOBAL', surface: 'slack' }, { globalAdmin: true }],
    ['workspace admin', workspaceAdmin],
    ['external user (Slack Connect; admin of their own workspace)', external],
  ];
  return roles;
}

type Op = (h: Awaited<ReturnType<typeof makeHarness>>, id: string, actor: Actor, globalAdmin: boolean) => Promise<unknown>;

/** A conversation of the same workspace that a rollout admin links to the rollout (for `unlink`). */
const LINKED: ConversationRef = { ...CONVERSATION, channel: 'C0LINKED', name: 'linked' };
const texts = (replies: Reply[]) => replies.map((r) => (r.kind === 'notice' ? r.lines.map((l) => plainText(l)).join('\n') : r.kind)).join('\n');
const DEFAULTS = loadConfig({ BWPREP_STORE_URL: 'sqlite://:memory:', BWPREP_LOCALE: 'en' }).defaults;

/** The application layer (src/interactions) on the real SQLite store, with the rollout every row starts from. */
interface LayerCtx {
  interactions: Interactions;
  service: ChecklistService;
  rolloutId: string;
  /** Types `text` in conversation `c` (default: the rollout's) as `a`; returns the replies. */
  run(a: Actor, text: string, c?: ConversationRef): Promise<Reply[]>;
  /** The requester the Slack and Teams adapters build for `a`, collecting replies in `replies`. */
  requester(a: Actor, replies: Reply[]): Requester;
}

/** Refused when a reply is a refusal (tone `refused`: a refusal always answers). */
const refusedIn = (replies: Reply[]) => replies.some((r) => r.kind === 'notice' && r.tone === 'refused');

/** A click's outcome: refused, or allowed with no failure of another kind (that would hide the answer). */
function clickOutcome(replies: Reply[]): 'allowed' | 'refused' {
  if (refusedIn(replies)) return 'refused';
  const failed = replies.find((r) => r.kind === 'notice' && (r.tone === 'fail' || r.tone === 'warn'));
  if (failed) throw new Error(`matrix: the click failed for another reason: ${texts([failed])}`);
  return 'allowed';
}

function viaLayerWith(drive: (ctx: LayerCtx, actor: Actor) => Promise<'allowed' | 'refused'>, prepare?: (ctx: LayerCtx) => Promise<void>): Op {
  return async (_h, _id, actor, globalAdmin) => {
    const logger = createLogger({ level: 'silent' });
    const store = await openStore('sqlite://:memory:', { logger });
    try {
      const clock = new TestClock('2026-11-25T09:00:00.000Z');
      const service = new ChecklistService({
        store: store.rollouts,
        template: TEMPLATE,
        clock,
        defaults: DEFAULTS,
        globalAdmins: globalAdmin ? [actor.user] : [],
        checkHistory: kvCheckHistory(store.kv, clock),
      });
      const slack = new FakePlatform('slack');
      // Everyone a row names is a person of the workspace (the owner picker checks).
      for (const user of [OWNER.user, ADMIN.user, actor.user, THIRD]) slack.people.set(user, {});
      const interactions = new Interactions({ service, store, clock, platforms: new Platforms().register(slack), logger, defaults: DEFAULTS });
      const requester = (a: Actor, replies: Reply[]): Requester => ({
        actor: a,
        scope: { platform: 'slack', workspace: CONVERSATION.workspace },
        reply: async (r) => void replies.push(r),
      });
      const run = async (a: Actor, text: string, c: ConversationRef = CONVERSATION): Promise<Reply[]> => {
        const replies: Reply[] = [];
        await interactions.command(c, requester(a, replies), text, () => undefined);
        return replies;
      };
      const rollout = await service.ensureRollout(CONVERSATION, ADMIN);
      await service.assign(rollout.id, '2a', OWNER.user, ADMIN);
      const ctx: LayerCtx = { interactions, service, rolloutId: rollout.id, run, requester };
      await prepare?.(ctx);
      if ((await drive(ctx, actor)) === 'refused') throw Object.assign(new Error('forbidden'), { name: 'BwprepError', code: 'forbidden' });
    } finally {
      await store.close();
    }
  };
}

/**
 * Commands typed to the application layer (parser, error boundary, the checks it makes itself — `link`,
 * `setup` — and the service's). Every command of a row must agree.
 */
function viaLayer(commands: string[], o: { in?: ConversationRef; prepare?: (run: LayerCtx['run']) => Promise<void> } = {}): Op {
  return viaLayerWith(
    async (ctx, actor) => {
      const outcomes = new Set<string>();
      for (const text of commands) outcomes.add(refusedIn(await ctx.run(actor, text, o.in)) ? 'refused' : 'allowed');
      if (outcomes.size !== 1) throw new Error(`matrix: ${commands.join(', ')} disagree for ${actor.user}`);
      return outcomes.has('refused') ? 'refused' : 'allowed';
    },
    o.prepare ? (ctx) => o.prepare!(ctx.run) : undefined,
  );
}

/** A card button or picker, as the Slack and Teams adapters hand a click to the layer (`cardAction`). */
function viaCard(
  action: ActionId,
  stepId: string,
  o: { owner?: UserKey | ((actor: Actor) => UserKey); prepare?: (ctx: LayerCtx) => Promise<void>; anyAnswer?: boolean } = {},
): Op {
  return viaLayerWith(async (ctx, actor) => {
    const replies: Reply[] = [];
    const owner = typeof o.owner === 'function' ? o.owner(actor) : o.owner;
    await ctx.interactions.cardAction(ctx.requester(actor, replies), { action, rolloutId: ctx.rolloutId, stepId, ...(owner ? { owner } : {}) });
    if (o.anyAnswer) return refusedIn(replies) ? 'refused' : 'allowed';
    return clickOutcome(replies);
  }, o.prepare);
}

/** The setup form's submission (Slack modal, Teams card): only admins may change settings. */
const viaSetupForm: Op = viaLayerWith(async (ctx, actor) => {
  const outcome = await ctx.interactions.submitSetup(ctx.requester(actor, []), ctx.rolloutId, { locale: 'nl' });
  if (outcome.ok) return 'allowed';
  if (outcome.errors.admins && Object.keys(outcome.errors).length === 1) return 'refused';
  throw new Error(`matrix: the setup form was refused for another reason: ${JSON.stringify(outcome.errors)}`);
});

const ACTIONS: [string, Op][] = [
  // Reading and checking are open to everyone in the conversation (DESIGN §7): typed to the application layer.
  ['`status`, `help`, `mine`, `check`, `digest`, `export`', viaLayer(['status', 'help', 'mine', 'check', 'digest', 'export csv'])],
  // No Bitwarden here: the check answers "not available" to everyone alike; what the row shows is that nobody is refused.
  ['Check button on a step', viaCard(BUTTONS.runCheck, '2a', { anyAnswer: true })],
  ['`done <step>` (an owned step)', (h, id, a) => h.service.markDone(id, '2a', a)],
  ['Done button (an owned step)', viaCard(BUTTONS.markDone, '2a')],
  [
    '`reopen <step>` (a done step)',
    async (h, id, a) => {
      await h.service.markDone(id, '2a', OWNER);
      return h.service.reopen(id, '2a', a);
    },
  ],
  ['Reopen button (a done step)', viaCard(BUTTONS.reopenStep, '2a', { prepare: async (ctx) => void (await ctx.service.markDone(ctx.rolloutId, '2a', OWNER)) })],
  ['`due <step> <date>` (an owned step)', (h, id, a) => h.service.setDue(id, '2a', '2026-12-01', a)],
  ['Snooze button on a reminder (an owned step)', viaCard(BUTTONS.snoozeStep, '2a')],
  ['`assign <step> @me` (an unowned step)', (h, id, a) => h.service.assign(id, '2b', a.user, a)],
  ['Owner picker: oneself (an unowned step)', viaCard(BUTTONS.assignOwner, '2b', { owner: (actor) => actor.user })],
  ['`assign <step> @someone-else`', (h, id, a) => h.service.assign(id, '2b', THIRD, a)],
  ['Owner picker: someone else', viaCard(BUTTONS.assignOwner, '2b', { owner: THIRD })],
  ['`unassign <step>` (own step)', (h, id, a) => h.service.unassign(id, '2a', a)],
  [
    "`unassign <step>` (someone else's step)",
    async (h, id, a) => {
      await h.service.assign(id, '2b', THIRD, ADMIN);
      return h.service.unassign(id, '2b', a);
    },
  ],
  ['`skip <step> <reason>`', (h, id, a) => h.service.skip(id, '4e', 'built-in roles only', a)],
  ['`lang nl\\|en`, `setup`', viaLayer(['lang nl', 'setup'])],
  ['Setup form: save', viaSetupForm],
  ['`link` (a code)', viaLayer(['link'])],
  [
    '`unlink` (a linked conversation)',
    viaLayer(['unlink'], {
      in: LINKED,
      prepare: async (run) => {
        const code = /\b[A-Z0-9]{4}-[A-Z0-9]{4}\b/.exec(texts(await run(ADMIN, 'link')))?.[0];
        if (!code) throw new Error('matrix: the admin got no link code');
        await run(ADMIN, `link ${code}`, LINKED);
      },
    }),
  ],
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
  const all = await ROLES();
  const lines = [`| | ${all.map(([r]) => r).join(' | ')} |`, `|---|${all.map(() => '---').join('|')}|`];
  for (const [action, op] of ACTIONS) {
    const cells: string[] = [];
    for (const [, actor, o] of all) cells.push((await outcome(op, actor, Boolean(o?.globalAdmin))) === 'allowed' ? '✅' : '—');
    lines.push(`| ${action} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

const README = path.join(__dirname, '..', '..', 'README.md');
const START = '<!-- permissions:start (generated by test/permissions/matrix.test.ts) -->';
const END = '<!-- permissions:end -->';

describe('permission matrix', () => {
  it('the workspace admin and the Slack Connect guest come from the Slack adapter: only the first is vouched', async () => {
    const all = await ROLES();
    expect(all[4]![1]).toMatchObject({ user: 'slack:U0WSADMIN', platformAdmin: true });
    expect(all[5]![1]).toEqual({ user: 'slack:U0EXTERNAL', surface: 'slack', name: 'u0external', external: true });
    expect(all[4]![1].external).toBeUndefined();
  });

  it('who may do what, as run against the service, is what the README says', async () => {
    const table = await permissionTable();
    // The rules of DESIGN §7, spot-checked in the table itself.
    expect(table).toContain('| `assign <step> @someone-else` | — | — | ✅ | ✅ | ✅ | — |');
    expect(table).toContain('| Done button (an owned step) | ✅ | — | ✅ | ✅ | ✅ | — |');
    expect(table).toContain('| Setup form: save | — | — | ✅ | ✅ | ✅ | — |');
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
