import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Bwprep, startBwprep } from '../../src/app';
import { CONSOLE_CONVERSATION, type ConsoleIo, isMemoryStore, resolveConsoleUser, runConsole } from '../../src/cli/console';
import { displayWidth } from '../../src/cli/text-renderer';
import { loadConfig } from '../../src/config/load';
import { conversationKey } from '../../src/core/checklist/model';
import { createLogger } from '../../src/logging/logger';
import { FakeBitwardenServer } from '../fakes/bitwarden-server';
import { FAKE_SECRET, policy, readyOrg } from '../fixtures/bitwarden';
import { TestClock } from '../helpers/clock';

const ROLLOUT_ID = conversationKey(CONSOLE_CONVERSATION);

let bw: FakeBitwardenServer;
let dir: string;
let app: Bwprep | undefined;
const clock = new TestClock(new Date('2026-11-25T09:00:00.000Z'));

beforeAll(async () => {
  bw = await new FakeBitwardenServer().start();
  bw.load(readyOrg(clock.now()));
});
afterAll(async () => {
  await bw.stop();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bwprep-console-'));
});
afterEach(async () => {
  await app?.stop();
  app = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** The bot as `bwprep` starts it with no chat platform: real config, store, services and Bitwarden (faked over HTTP). */
async function start(env: Record<string, string> = {}): Promise<Bwprep> {
  await app?.stop();
  const config = loadConfig({
    BWPREP_STORE_URL: `sqlite://${join(dir, 'bwprep.sqlite')}`,
    BWPREP_LOCALE: 'en',
    BW_REGION: 'eu',
    BW_API_URL: bw.url,
    BW_IDENTITY_URL: `${bw.url}/identity`,
    BW_CLIENT_ID: bw.clientId,
    BW_CLIENT_SECRET: FAKE_SECRET,
    ...env,
  });
  app = await startBwprep(config, { logger: createLogger({ level: 'silent' }), clock });
  return app;
}

/** Runs the console over piped input (no TTY) on a freshly started bot and returns everything it printed. */
async function session(lines: string[], opts: { env?: Record<string, string>; io?: Partial<ConsoleIo> } = {}): Promise<string> {
  const a = await start(opts.env);
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  input.end(lines.map((l) => `${l}\n`).join(''));
  await runConsole(a, { input, output, user: 'cli:admin', exportDir: join(dir, 'exports'), ...opts.io });
  return Buffer.concat(chunks).toString('utf8');
}

/** The output after the welcome and first checklist (which end with the footer line). */
function afterWelcome(out: string): string {
  return out
    .slice(out.lastIndexOf('\n', out.search(/(Updated|Bijgewerkt) .* · help/)) + 1)
    .split('\n')
    .slice(1)
    .join('\n');
}

/** The output with every run of white space as one space: prose wraps at 80 columns. */
const flat = (out: string) => out.replace(/\s+/g, ' ');

const rollout = async () => (await app!.service.get(ROLLOUT_ID))!;

describe('terminal console', () => {
  it('welcomes, says how to connect Slack, and shows the checklist at once; EOF ends it', async () => {
    const out = await session([]);
    expect(flat(out)).toContain('No chat platform (Slack or Teams) is configured');
    expect(flat(out)).toContain('Changes are saved in the store and kept for the next start.');
    expect(flat(out)).toContain('Socket Mode (no public URL needed): create a Slack app from manifests/slack/manifest.socket.json');
    expect(flat(out)).toContain('https://your-host/slack/events as the request URL');
    expect(out).toContain('You are @admin, an admin of this checklist.');
    expect(out).toContain('Bitwarden rollout checklist');
    expect(flat(out)).toContain('Readiness: 0 of 10 steps done (0%) · 5.5 h of 5.5 h left (+ 1 step not estimated)');
    expect(out).toContain('Phase 6: Onboard the team');
    expect(out).not.toContain('/bwprep');
    expect(out.trimEnd().endsWith('Bye. Your changes are saved.')).toBe(true);
  });

  it('status, assign 2a @alice, done 2a: the same commands as Slack, through the application layer', async () => {
    const out = afterWelcome(await session(['status', 'assign 2a @alice', 'done 2a all three policies on', 'mine']));
    expect(out).toContain('Bitwarden rollout checklist');
    expect(out).toContain('✔ Step 2a is now owned by @alice.');
    expect(flat(out)).toContain('✔ Step 2a is marked done. Readiness: 1 of 10 steps done (10%) · 5 h of 5.5 h left');
    expect(out).toContain("You don't own any steps here.");
    // The readiness line shows under a change that moved it, not under one that did not.
    expect(out).toContain('✔ Step 2a is now owned by @alice.\n✔ Step 2a is marked done.');

    const r = await rollout();
    expect(r.steps['2a']).toMatchObject({ owner: 'cli:alice', state: 'done', doneBy: 'cli:admin', note: 'all three policies on' });
    expect(r.card).toMatchObject({ platform: 'cli', channel: 'console' });
    const audit = await app!.store.audit.list(ROLLOUT_ID);
    expect(audit.filter((e) => e.action.startsWith('step.')).map((e) => [e.action, e.actor, e.surface])).toEqual([
      ['step.assigned', 'cli:admin', 'console'],
      ['step.done', 'cli:admin', 'console'],
    ]);
  });

  it('the table fits 80 columns, has column headers, and shows a cut title in full below its row', async () => {
    const out = await session([
      'assign 2b @bartholomew.van-der-linden',
      'due 2a 2026-11-20',
      'done 4a imported 412 items; trial data wiped first, as the guide says',
      'skip 4e built-in roles only',
      'status',
      'help',
      'setup',
      'lang nl',
      'status',
      'setup',
    ]);
    const wide = out.split('\n').filter((l) => displayWidth(l) > 80);
    expect(wide).toEqual([]);
    // Plain text only: no markup of ours (the step's note is the person's own text).
    expect(out).not.toMatch(/[*`]|<\/?(b|i|code|cmd)>/);
    expect(out).toMatch(/^ {2}Step +Title +Owner +Due$/m);
    expect(out).toMatch(/^ {2}Stap +Titel +Eigenaar +Deadline$/m);
    // 1a's title is longer than the title column: cut with an ellipsis, then shown whole under the row.
    const lines = out.split('\n');
    const i = lines.findIndex((l) => /^ {2}\S+ +1a +Upgrade the trial organization.*…/.test(l));
    expect(i).toBeGreaterThan(0);
    expect(lines[i + 1]?.trim()).toBe('Upgrade the trial organization or start a fresh one');
    expect(out).toContain('owner: @bartholomew.van-der-linden');
    expect(out).toContain('⬜ Open · ☑️ Done · ✅ Verified · ❌ Failing · ➖ Not applicable · ⏰ Overdue');
    expect(out).toContain('overdue since 20 Nov 2026');
  });

  it('renders in the rollout language: after lang en a restart with BWPREP_LOCALE=nl stays English', async () => {
    await session(['lang en'], { env: { BWPREP_LOCALE: 'nl' } });
    const out = await session(['done 2a', 'help'], { env: { BWPREP_LOCALE: 'nl' } });
    expect(out).toContain('No chat platform (Slack or Teams) is configured');
    expect(out).toContain('Bitwarden cloud (EU) · language: English');
    expect(out).toContain('Step 2a is marked done.');
    expect(out).toContain('quit or exit: leave the console');
    expect(out).not.toMatch(/Stap|taal:|Gereedheid/);

    const nl = await session(['lang nl', 'done 2b'], { env: { BWPREP_LOCALE: 'en' } });
    expect(nl).toContain('Vanaf nu spreekt bwprep Nederlands in dit kanaal.');
    expect(nl).toContain('Stap 2b is afgerond.');
    const again = await session([], { env: { BWPREP_LOCALE: 'en' } });
    expect(again).toContain('Er is geen chatplatform');
    expect(again).toContain('taal: Nederlands');
    expect(again.trimEnd().endsWith('Tot ziens. Je wijzigingen zijn opgeslagen.')).toBe(true);
  });

  it('a bad step id gets a localized error that lists the steps; a missing one shows the usage', async () => {
    const out = afterWelcome(await session(['done 9z', 'done', 'lang nl', 'done 9z', 'done']));
    expect(flat(out)).toContain('⚠ There is no step "9z". The steps are: 1a, 2a, 2b, 3a, 3b, 3c, 4a, 4b, 4c, 4d, 4e, 5a, 5b, 6.');
    expect(out).toContain('⚠ Which step? Give a step id such as 2a.\n  Usage: done <step> [note]: mark a step done');
    expect(flat(out)).toContain('⚠ Er is geen stap "9z". De stappen zijn: 1a, 2a');
    // The Dutch usage line (with its aliases) is wider than the terminal, so it wraps.
    expect(flat(out)).toContain(
      '⚠ Welke stap? Geef een stapnummer zoals 2a. Gebruik: done <stap> [notitie] (ook: klaar, afronden, afgerond, gedaan): rond een stap af',
    );
  });

  it('explains console mentions, unknown commands and bad dates with their usage', async () => {
    const out = afterWelcome(await session(['assign 2a bob', 'frobnicate', 'due 2a 01-12-2026', 'skip 4e']));
    expect(out).toContain('⚠ "bob" is not a user. Write @ and a name, for example @alice.\n  Usage: assign <step> @user: give a step an owner');
    expect(out).not.toContain('mention');
    expect(out).toContain('⚠ I don\'t know the command "frobnicate".\n  Usage: help: list every command');
    expect(out).toContain('⚠ "01-12-2026" is not a date. Write it as YYYY-MM-DD, for example 2026-12-01.');
    expect(out).toContain('Say why the step is skipped');
  });

  it('says when nothing changed, and quit ends the session before the next line', async () => {
    const out = afterWelcome(await session(['done 2a', 'done 2a', 'quit', 'done 2b']));
    expect(out).toContain('ℹ Step 2a is already done.');
    expect((await rollout()).steps['2b']?.state).toBe('open');
  });

  it('accepts a typed /bwprep prefix and ignores blank lines', async () => {
    const out = afterWelcome(await session(['', '   ', '/bwprep done 2a']));
    expect(out).toContain('✔ Step 2a is marked done.');
    expect(out).not.toContain('⚠');
  });

  it('the person at the terminal is admin even of a checklist someone else started', async () => {
    await session(['lang en'], { io: { user: 'cli:alice' } });
    const out = afterWelcome(await session(['skip 4e built-in roles only', 'assign 2a @carol'], { io: { user: 'cli:bob' } }));
    expect(out).not.toContain('⚠');
    expect((await rollout()).steps['4e']).toMatchObject({ state: 'not_applicable', skipReason: 'built-in roles only' });
  });

  it('a console on sqlite://:memory: says changes are not kept', async () => {
    expect(isMemoryStore('sqlite://:memory:')).toBe(true);
    expect(isMemoryStore(`sqlite://${dir}/x.sqlite`)).toBe(false);
    const out = await session(['done 2a'], { env: { BWPREP_STORE_URL: 'sqlite://:memory:' } });
    expect(out.replace(/\s+/g, ' ')).toContain(
      'The store is in memory (sqlite://:memory:): changes are not kept when the console ends. Set BWPREP_STORE_URL to a file to keep them.',
    );
    expect(out.trimEnd().endsWith('Bye. The store was in memory, so the changes of this session are not kept.')).toBe(true);
  });
});

describe('console check, digest and export (through the application layer)', () => {
  it('check runs the real Bitwarden checks: checking…, the report, the card readiness', async () => {
    const out = afterWelcome(await session(['check']));
    expect(out).toContain('⏳ Checking');
    expect(out).toContain('Verification against Bitwarden');
    expect(out).toMatch(/\d+ pass/);
    expect(out).toContain('now verified');
    expect(out).not.toContain(FAKE_SECRET);
    expect((await rollout()).steps['2a']?.state).toBe('verified');
  });

  it('a step of the person at the terminal that drifts to failing: the DM prints in the console', async () => {
    try {
      const first = afterWelcome(await session(['assign 2a @admin', 'check']));
      expect(first).not.toContain('✉');
      const org = readyOrg(clock.now());
      bw.load({ ...org, policies: org.policies.map((p) => (p.type === 0 ? policy(0, false) : p)) });
      const out = afterWelcome(await session(['check']));
      expect(flat(out)).toMatch(/✉ Direct message for you: ❌ Step 2a \(Review the policy configuration\) in console no longer passes the Bitwarden check: /);
      expect((await rollout()).steps['2a']?.state).toBe('failing');
    } finally {
      bw.load(readyOrg(clock.now()));
    }
  });

  it('check of one step answers with that step only; an unknown step is refused', async () => {
    const out = afterWelcome(await session(['check 2A', 'check 9z']));
    expect(out).toContain('Verification of step 2a');
    expect(out).toContain('There is no step "9z"');
  });

  it('without an API key, check says how to set one and changes nothing', async () => {
    const out = afterWelcome(await session(['check'], { env: { BW_CLIENT_ID: '', BW_CLIENT_SECRET: '' } }));
    expect(out).toContain('No Bitwarden organization API key is set');
    expect(out).toContain('The check could not run, so no step changed.');
  });

  it('digest previews the daily digest through the scheduler, after fresh checks', async () => {
    const out = afterWelcome(await session(['digest']));
    expect(out).toContain('Daily readiness digest');
    expect(out).toContain('Preview');
    expect(out).toMatch(/Readiness: \d+% of steps/);
    const audit = await app!.store.audit.list(ROLLOUT_ID);
    expect(audit.some((e) => e.action === 'digest.posted' && (e.detail as { preview?: boolean } | undefined)?.preview === true)).toBe(true);
  });

  it('export writes the report under the export folder and prints where; a second export keeps the first', async () => {
    const out = afterWelcome(await session(['check', 'export md', 'export md', 'export csv']));
    const files = readdirSync(join(dir, 'exports')).sort();
    expect(files).toEqual(['bwprep-readiness-2026-11-25-2.md', 'bwprep-readiness-2026-11-25.csv', 'bwprep-readiness-2026-11-25.md']);
    expect(out).toContain(`Written to ${join(dir, 'exports', 'bwprep-readiness-2026-11-25.md')}.`);
    const md = readFileSync(join(dir, 'exports', 'bwprep-readiness-2026-11-25.md'), 'utf8');
    expect(md).toContain('# Bitwarden readiness report');
    expect(md).toContain('GET /public/policies');
    expect(md).toContain('| 2a |');
    // No section without content: every `##` heading is followed by a line of content.
    const sections = md.split(/^## /m).slice(1);
    for (const s of sections)
      expect(
        s
          .split('\n')
          .slice(1)
          .some((l) => l.trim()),
      ).toBe(true);
  });

  it('a fresh checklist exports without evidence or history sections', async () => {
    await session(['export md']);
    const md = readFileSync(join(dir, 'exports', 'bwprep-readiness-2026-11-25.md'), 'utf8');
    expect(md).not.toContain('## Evidence');
    expect(md).not.toContain('## Check history');
    expect(existsSync(join(dir, 'exports'))).toBe(true);
  });
});

describe('console setup', () => {
  it('setup lists every setting with its value and how to change it', async () => {
    const out = afterWelcome(await session(['setup']));
    expect(out).toContain('Settings of this checklist');
    for (const [name, value] of [
      ['language', 'English (en)'],
      ['hosting', 'Bitwarden cloud (EU)'],
      ['digest', 'on'],
      ['digest-time', '09:00'],
      ['timezone', 'Europe/Amsterdam'],
      ['weekdays', 'mon-fri'],
      ['go-live', 'none'],
      ['admins', '@admin'],
      ['extension-pass', '80%'],
      ['min-owners', '2'],
    ]) {
      expect(out).toMatch(new RegExp(`^ {2}${name} +${value!.replace(/[()]/g, '\\$&')}`, 'm'));
    }
    expect(out).toContain('setup hosting cloud-us, cloud-eu, or self-hosted followed by the server URL');
  });

  it('changes every setting with the modal validation and saves it', async () => {
    await session([
      'setup language nl',
      'setup hosting self-hosted https://vault.example.com/',
      'setup timezone Europe/Brussels',
      'setup digest-time 08:30',
      'setup weekdays ma,wo,vr',
      'setup go-live 2026-12-31',
      'setup digest off',
      'setup admins @admin @carol',
      'setup policies 0,1,11',
      'setup extension-pass 70',
      'setup onboarding-pass 95',
      'setup onboarding-warn 40',
      'setup min-owners 3',
    ]);
    const s = (await rollout()).settings;
    expect(s).toMatchObject({
      locale: 'nl',
      hosting: 'self-hosted',
      serverUrl: 'https://vault.example.com',
      timezone: 'Europe/Brussels',
      digestTime: '08:30',
      weekdays: [1, 3, 5],
      goLive: '2026-12-31',
      digestEnabled: false,
      admins: ['cli:admin', 'cli:carol'],
      desiredPolicies: [0, 1, 11],
      thresholds: { extensionPassPct: 70, onboardingPassPct: 95, onboardingWarnPct: 40, minOwners: 3 },
    });
    // A hosting that no longer matches BW_REGION is pointed out at the next start.
    const out = await session(['setup hosting cloud-eu', 'setup go-live none']);
    expect(flat(out)).toContain('BW_REGION bepaalt alleen de hosting van nieuwe checklists');
    expect(out).toContain('✔ Instellingen van deze uitrol opgeslagen.');
    expect((await rollout()).settings).toMatchObject({ hosting: 'cloud-eu' });
    expect((await rollout()).settings.goLive).toBeUndefined();
  });

  it('refuses bad values per setting in the console language, and saves nothing', async () => {
    const out = afterWelcome(
      await session([
        'setup timezone Mars/Olympus',
        'setup digest-time 25:00',
        'setup weekdays someday',
        'setup hosting self-hosted http://x',
        'setup onboarding-warn 99',
        'setup admins none',
        'setup colour blue',
        'setup digest maybe',
        'lang nl',
        'setup timezone Mars/Olympus',
      ]),
    );
    expect(flat(out)).toContain(
      '⚠ timezone: "Mars/Olympus" is not a time zone. Use an IANA name such as Europe/Amsterdam. Usage: setup timezone an IANA name such as Europe/Amsterdam',
    );
    expect(flat(out)).toContain('⚠ digest-time: Choose a time like 09:00.');
    expect(flat(out)).toContain('⚠ "someday" is not a day.');
    expect(flat(out)).toContain('⚠ hosting: Use the https:// address of your Bitwarden server');
    expect(flat(out)).toContain('⚠ onboarding-warn: The warning level cannot be above the pass level.');
    expect(flat(out)).toContain('⚠ admins: Keep at least one rollout admin.');
    expect(flat(out)).toContain('⚠ There is no setting "colour". The settings are: language, hosting, api-key');
    expect(flat(out)).toContain('⚠ "maybe" is not on or off.');
    expect(flat(out)).toContain('⚠ timezone: "Mars/Olympus" is geen tijdzone.');
    const s = (await rollout()).settings;
    expect(s).toMatchObject({ timezone: 'Europe/Amsterdam', digestTime: '09:00', hosting: 'cloud-eu', admins: ['cli:admin'] });
  });

  it('an API key needs BWPREP_ENCRYPTION_KEY; with it, the key is stored encrypted and never printed', async () => {
    const id = 'organization.11111111-2222-3333-4444-555555555555';
    const refused = afterWelcome(await session([`setup api-key ${id} fake-rollout-secret`]));
    expect(flat(refused)).toContain('⚠ api-key: The bot has no BWPREP_ENCRYPTION_KEY');
    // The secret is asked for on its own line (not echoed on a terminal).
    const out = afterWelcome(await session([`setup api-key ${id}`, 'fake-rollout-secret', 'setup'], { env: { BWPREP_ENCRYPTION_KEY: 'a'.repeat(64) } }));
    expect(out).toContain('client_secret (not shown as you type):');
    expect(flat(out)).toContain(`The Bitwarden API key for ${id} is stored encrypted.`);
    expect(flat(out)).toContain(`${id} (stored encrypted)`);
    expect(out).not.toContain('fake-rollout-secret');
    expect((await rollout()).settings.credentials?.clientId).toBe(id);
  });
});

describe('resolveConsoleUser', () => {
  it('turns @name and cli:name into console users, nothing else', () => {
    expect(resolveConsoleUser('@alice')).toBe('cli:alice');
    expect(resolveConsoleUser('@jan.de-vries')).toBe('cli:jan.de-vries');
    expect(resolveConsoleUser('cli:bob')).toBe('cli:bob');
    for (const bad of ['alice', '@', '@ alice', '<@U0123ABC>', 'slack:U0123ABC', '@al ice']) expect(resolveConsoleUser(bad)).toBeUndefined();
  });

  it('help and mine speak of the console, not of card buttons; setup is listed once', async () => {
    const out = afterWelcome(await session(['help', 'mine']));
    expect(out).not.toMatch(/buttons|on the card/);
    expect(out.match(/^ {2}setup\b/gm)?.length ?? 0).toBe(1);
    expect(out).toContain("You don't own any steps here. Take one with assign <step> @you");
  });
});
