import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONSOLE_CONVERSATION, type ConsoleDeps, resolveConsoleUser, runConsole } from '../../src/cli/console';
import { displayWidth } from '../../src/cli/text-renderer';
import { conversationKey } from '../../src/core/checklist/model';
import { ChecklistService } from '../../src/core/checklist/service';
import type { Store } from '../../src/core/ports';
import { openStore } from '../../src/store';
import { FakeClock, TEMPLATE } from '../core/harness';

const ROLLOUT_ID = conversationKey(CONSOLE_CONVERSATION);

let dir: string;
let store: Store;
let service: ChecklistService;
const clock = new FakeClock(new Date('2026-11-25T09:00:00.000Z'));

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bwprep-console-'));
  store = await openStore(`sqlite://${join(dir, 'bwprep.sqlite')}`);
  service = new ChecklistService({
    store: store.rollouts,
    template: TEMPLATE,
    clock,
    defaults: { locale: 'en', hosting: 'cloud-eu', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] },
    globalAdmins: [],
  });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the console over piped input (no TTY) and returns everything it printed. */
async function session(lines: string[], extra: Partial<ConsoleDeps> = {}): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  input.end(lines.map((l) => `${l}\n`).join(''));
  await runConsole({ service, template: TEMPLATE, clock, input, output, user: 'cli:admin', ...extra });
  return Buffer.concat(chunks).toString('utf8');
}

/** The output after the welcome and first checklist (which end with the footer line). */
function afterWelcome(out: string): string {
  return out.slice(out.indexOf('lists every command') + 'lists every command'.length);
}

describe('terminal console', () => {
  it('welcomes, says how to connect Slack, and shows the checklist at once; EOF ends it', async () => {
    const out = await session([]);
    const flat = out.replace(/\s+/g, ' ');
    expect(flat).toContain('No chat platform (Slack or Teams) is configured');
    expect(flat).toContain('Socket Mode (no public URL needed): create a Slack app from manifests/slack/manifest.socket.json');
    expect(flat).toContain('SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…, scope connections:write)');
    expect(flat).toContain('Production, over HTTP: create the app from manifests/slack/manifest.http.json, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET');
    expect(flat).toContain('https://your-host/slack/events as the request URL');
    expect(out).toContain('You are @admin, an admin of this checklist.');
    expect(out).toContain('Bitwarden rollout checklist');
    expect(out).toContain('Readiness: 0 of 10 steps done (0%) · 5.5 h of 5.5 h left (+ 1 step not estimated)');
    expect(out).toContain('Phase 6: Onboard the team');
    expect(out.trimEnd().endsWith('Bye. Your changes are saved.')).toBe(true);
  });

  it('status, assign 2a @alice, done 2a: the same commands as Slack, saved in the store', async () => {
    const out = afterWelcome(await session(['status', 'assign 2a @alice', 'done 2a all three policies on', 'mine']));
    expect(out).toContain('Bitwarden rollout checklist');
    expect(out).toContain('✔ Step 2a is now owned by @alice.');
    expect(out).toContain('✔ Step 2a is marked done.');
    expect(out).toContain('Readiness: 1 of 10 steps done (10%) · 5 h of 5.5 h left');
    expect(out).toContain("You don't own any steps here.");

    const r = await store.rollouts.get(ROLLOUT_ID);
    expect(r?.steps['2a']).toMatchObject({ owner: 'cli:alice', state: 'done', doneBy: 'cli:admin', note: 'all three policies on' });
    const audit = await store.audit.list(ROLLOUT_ID);
    expect(audit.slice(-2).map((e) => [e.action, e.actor, e.surface])).toEqual([
      ['step.assigned', 'cli:admin', 'console'],
      ['step.done', 'cli:admin', 'console'],
    ]);
  });

  it('shows the updated row of a step after a status', async () => {
    const out = afterWelcome(await session(['assign 2a @alice', 'done 2a', 'status']));
    const row = out.split('\n').find((l) => /^\s+\S+ 2a\s/.test(l));
    expect(row).toMatch(/2a\s+Review the policy configuration\s+@alice\s+Done/);
    expect(out).toContain('done by @admin');
  });

  it('lang nl / lang en switch the language of everything printed after', async () => {
    const out = afterWelcome(await session(['lang nl', 'status', 'done 2a', 'lang en', 'done 2b']));
    const [nl, en] = out.split('From now on bwprep speaks English');
    expect(nl).toContain('Vanaf nu spreekt bwprep Nederlands in dit kanaal.');
    expect(nl).toContain('Checklist Bitwarden-uitrol');
    expect(nl).toContain('Gereedheid: 0 van 10 stappen afgerond');
    expect(nl).toContain('Stap 2a is afgerond.');
    expect(en).toContain('Step 2b is marked done.');
    expect(en).not.toContain('Stap');
    expect((await store.rollouts.get(ROLLOUT_ID))?.settings.locale).toBe('en');
  });

  it('starts in the language it is given', async () => {
    const out = await session([], { locale: 'nl' });
    expect(out).toContain('Er is geen chatplatform (Slack of Teams) ingesteld');
    expect(out).toContain('SLACK_SIGNING_SECRET');
    expect(out).toContain('Fase 1: Organisatie upgraden of opnieuw beginnen');
    expect(out).toContain('Tot ziens.');
  });

  it('a bad step id gets a localized error that lists the steps; a missing one shows the usage', async () => {
    const out = afterWelcome(await session(['done 9z', 'done', 'lang nl', 'done 9z', 'done']));
    expect(out).toContain('⚠ There is no step "9z". The steps are: 1a, 2a, 2b, 3a, 3b, 3c, 4a, 4b, 4c, 4d, 4e, 5a, 5b, 6.');
    expect(out).toContain('⚠ Which step? Give a step id such as 2a.\n  Usage: done <step> [note]: mark a step done');
    expect(out).toContain('⚠ Er is geen stap "9z". De stappen zijn: 1a, 2a');
    expect(out).toContain('⚠ Welke stap? Geef een stapnummer zoals 2a.\n  Gebruik: done <stap> [notitie] (ook: klaar, afronden, afgerond, gedaan): rond een stap af');
  });

  it('explains console mentions, unknown commands and bad dates with their usage', async () => {
    const out = afterWelcome(await session(['assign 2a bob', 'frobnicate', 'due 2a 01-12-2026', 'skip 4e']));
    expect(out).toContain('⚠ "bob" is not a user. Write @ and a name, for example @alice.\n  Usage: assign <step> @user: give a step an owner');
    expect(out).not.toContain('Slack user');
    expect(out).toContain('⚠ I don\'t know the command "frobnicate".\n  Usage: help: list every command');
    expect(out).toContain('⚠ "01-12-2026" is not a date. Write it as YYYY-MM-DD, for example 2026-12-01.');
    expect(out).toContain('Usage: due <step> <YYYY-MM-DD>');
    expect(out).toContain('Say why the step is skipped');
  });

  it('an impossible date is quoted as typed', async () => {
    const out = afterWelcome(await session(['due 2a 2026-02-30']));
    expect(out).toContain('⚠ "2026-02-30" is not a date.');
  });

  it('a step the hosting excludes is refused with the reason', async () => {
    const out = afterWelcome(await session(['done 3a']));
    expect(out).toContain("⚠ Step 3a does not apply to this rollout's hosting.");
    expect((await store.rollouts.get(ROLLOUT_ID))?.steps['3a']?.state).toBe('not_applicable');
  });

  it('says when nothing changed', async () => {
    const out = afterWelcome(await session(['done 2a', 'done 2a']));
    expect(out).toContain('ℹ Step 2a is already done.');
    expect((await store.audit.list(ROLLOUT_ID)).filter((e) => e.action === 'step.done')).toHaveLength(1);
  });

  it('quit and exit end the session; nothing after them runs', async () => {
    await session(['quit', 'done 2a']);
    await session(['EXIT', 'done 2b']);
    const r = await store.rollouts.get(ROLLOUT_ID);
    expect(r?.steps['2a']?.state).toBe('open');
    expect(r?.steps['2b']?.state).toBe('open');
  });

  it('accepts a typed /bwprep prefix and ignores blank lines', async () => {
    const out = afterWelcome(await session(['', '   ', '/bwprep done 2a']));
    expect(out).toContain('✔ Step 2a is marked done.');
    expect(out).not.toContain('⚠');
  });

  it('the person at the terminal is admin even of a checklist someone else started', async () => {
    await session(['lang en'], { user: 'cli:alice' });
    const out = afterWelcome(await session(['skip 4e built-in roles only', 'assign 2a @carol'], { user: 'cli:bob' }));
    expect(out).not.toContain('⚠');
    expect((await store.rollouts.get(ROLLOUT_ID))?.steps['4e']).toMatchObject({ state: 'not_applicable', skipReason: 'built-in roles only' });
  });

  it('keeps its checklist between sessions', async () => {
    await session(['assign 4a @alice', 'done 4a']);
    const out = await session([]);
    expect(out).toContain('Readiness: 1 of 10 steps done (10%)');
    expect(out).toMatch(/4a\s+Import the shared data\s+@alice/);
  });

  it('check, digest, setup and export go to the hook; without one the console says what to do instead', async () => {
    const seen: string[] = [];
    const hooked = afterWelcome(
      await session(['check 2A', 'export csv', 'digest'], {
        onCommand: async (cmd, rollout) => {
          seen.push(`${JSON.stringify(cmd)}@${rollout.id}`);
          return cmd.name === 'digest' ? undefined : `ran ${cmd.name}`;
        },
      }),
    );
    expect(seen).toEqual([`{"name":"check","step":"2A"}@${ROLLOUT_ID}`, `{"name":"export","format":"csv"}@${ROLLOUT_ID}`, `{"name":"digest"}@${ROLLOUT_ID}`]);
    expect(hooked).toContain('ran check');
    expect(hooked).toContain('ran export');
    expect(hooked).toContain('The daily digest is posted in the chat channel.');

    const plainOut = afterWelcome(await session(['check', 'setup', 'check 9z']));
    expect(plainOut).toContain('Run bwprep check in a shell instead');
    expect(plainOut).toContain('Change the language with lang nl or lang en.');
    expect(plainOut).toContain('There is no step "9z"');
  });

  it('the hook gets the console language, so its output matches the rest of the session', async () => {
    const locales: string[] = [];
    const onCommand: ConsoleDeps['onCommand'] = async (_cmd, rollout) => {
      locales.push(rollout.settings.locale);
      return 'ok';
    };
    await session(['digest'], { locale: 'nl', onCommand });
    await session(['lang nl', 'digest', 'lang en', 'digest'], { onCommand });
    expect(locales).toEqual(['nl', 'nl', 'en']);
  });

  it('help lists every command without the Slash prefix, and how to leave', async () => {
    const out = afterWelcome(await session(['help']));
    expect(out).toContain('bwprep: your Bitwarden trial-to-production checklist');
    for (const c of ['status', 'mine', 'assign <step> @user', 'unassign <step>', 'done <step> [note]', 'reopen <step>', 'skip <step> <reason>', 'due <step> <YYYY-MM-DD>', 'lang nl|en']) {
      expect(out).toContain(`  ${c}`);
    }
    expect(out).toContain('quit or exit: leave the console');
    expect(out).not.toContain('/bwprep');
  });

  it('prints plain text only, within 100 columns', async () => {
    const out = await session(['assign 2a @alice', 'due 2a 2026-11-20', 'done 4a imported 412 items; trial data wiped first, as the guide says', 'skip 4e built-in roles only', 'status', 'help', 'mine', 'lang nl', 'status']);
    expect(out).not.toMatch(/[*`]/);
    const wide = out.split('\n').filter((l) => displayWidth(l) > 100);
    expect(wide).toEqual([]);
    expect(out).toContain('overdue since 20 Nov 2026');
  });
});

describe('resolveConsoleUser', () => {
  it('turns @name and cli:name into console users, nothing else', () => {
    expect(resolveConsoleUser('@alice')).toBe('cli:alice');
    expect(resolveConsoleUser('@jan.de-vries')).toBe('cli:jan.de-vries');
    expect(resolveConsoleUser('cli:bob')).toBe('cli:bob');
    for (const bad of ['alice', '@', '@ alice', '<@U0123ABC>', 'slack:U0123ABC', '@al ice']) expect(resolveConsoleUser(bad)).toBeUndefined();
  });
});
