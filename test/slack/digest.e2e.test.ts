import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import {
  blockActions,
  button,
  FAKE_CHANNEL_ID,
  FAKE_TEAM_ID,
  FAKE_USERS,
  slashCommand,
  stateValue,
  setupStateValues,
  type SetupStateValues,
  viewSubmission,
} from '../helpers/slack-requests';
import { blockText, type SlackHarness, startSlackHarness, TestClock } from './harness';
import { registerSecret } from '../helpers/secret-guard';

const { alice, bob, carol } = FAKE_USERS; // alice: nl-NL admin; bob: en-GB, Europe/London; carol: en-US
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
// Obviously fake; must never show up in a Slack call, a log line or the store file in clear.
const SECRET = 'fake-bw-client-secret-not-real-7f3a';
registerSecret(SECRET); // entered in the setup dialog: the suite-wide guard watches for it too
const ENCRYPTION_KEY = 'ab'.repeat(32);
const ORG_ID = 'organization.00000000-0000-4000-8000-00000000f00d';

let h: SlackHarness;
let n = 0;
afterEach(async () => {
  await h?.close();
});

// Wednesday 25 November 2026, 08:30 in Amsterdam (07:30 UTC): before the 09:00 digest.
const clock = new TestClock(new Date('2026-11-25T07:30:00Z'));

async function start(env: Record<string, string> = {}) {
  clock.set('2026-11-25T07:30:00Z');
  h = await startSlackHarness({ clock, env: { BWPREP_ENCRYPTION_KEY: ENCRYPTION_KEY, ...env } });
  await command('status');
  await h.slack.waitFor('chat.postMessage');
  await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card).toBeDefined());
}

async function command(text: string, user: string = alice) {
  const id = `c${++n}`;
  const res = await h.send(slashCommand({ text, user_id: user, response_url: h.slack.responseUrl(id), trigger_id: `trigger-${n}` }));
  expect(res.status).toBe(200);
  return id;
}

type Values = SetupStateValues;

function setupValues(over: Partial<Record<string, unknown>> = {}): Values {
  return setupStateValues({ admins: [alice, bob], clientId: ORG_ID, clientSecret: SECRET, policies: ['0', '8'] }, over);
}

function submit(values: Values, user: string = alice) {
  return h.send(viewSubmission({ user, view: { callback_id: ACTIONS.setupSubmit, private_metadata: ROLLOUT, state: { values } } }));
}

describe('/bwprep setup', () => {
  it('opens the modal for an admin, pre-filled, with the admin’s Slack time zone proposed', async () => {
    await start();
    await command('setup', bob); // not an admin yet
    await command('setup', alice);
    const open = await h.slack.waitFor('views.open');
    expect(h.slack.calls('views.open')).toHaveLength(1);
    const view = open.args.view as { callback_id: string; blocks: { block_id?: string; element?: { initial_value?: string } }[] };
    expect(view.callback_id).toBe(ACTIONS.setupSubmit);
    const ids = view.blocks.map((b) => b.block_id).filter(Boolean);
    expect(ids).toEqual(
      expect.arrayContaining([
        'locale',
        'hosting',
        'serverUrl',
        'clientId',
        'clientSecret',
        'digestTime',
        'timezone',
        'weekdays',
        'goLive',
        'admins',
        'desiredPolicies',
      ]),
    );
    expect(view.blocks.find((b) => b.block_id === 'timezone')?.element?.initial_value).toBe('Europe/Amsterdam');
    expect(blockText(view.blocks)).toContain('Taal van het kanaal'); // alice's Slack is Dutch
    const refusal = h.slack.responses().find((r) => String(r.body.text).includes('Only a rollout admin (<@'));
    expect(refusal).toBeDefined();
  });

  it('shows each invalid field in the modal and saves nothing', async () => {
    await start({ BWPREP_ADMINS: `slack:${bob}` });
    const before = await h.app.service.get(ROLLOUT);
    const res = await submit(
      setupValues({
        hosting: stateValue.staticSelect('self-hosted'),
        timezone: stateValue.plainText('Mars/Olympus_Mons'),
        clientId: stateValue.plainText('not-an-org-id'),
        weekdays: stateValue.checkboxes([]),
        goLive: stateValue.datepicker('2026-01-01'),
        onboardingWarnPct: { type: 'number_input', value: '99' },
        minOwners: { type: 'number_input', value: '0' },
      }),
      bob, // English
    );
    expect(res.status).toBe(200);
    const body = res.body as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(body.errors.serverUrl).toContain('needs the server URL');
    expect(body.errors.timezone).toContain('"Mars/Olympus_Mons" is not a time zone');
    expect(body.errors.clientId).toContain('organization.<uuid>');
    expect(body.errors.weekdays).toContain('at least one day');
    expect(body.errors.goLive).toContain('in the past');
    expect(body.errors.onboardingWarnPct).toContain('cannot be above the pass level');
    expect(body.errors.minOwners).toContain('from 1 to 20');
    const after = await h.app.service.get(ROLLOUT);
    expect(after?.settings).toEqual(before?.settings);
    expect(JSON.stringify(body)).not.toContain(SECRET);
  });

  it('refuses a non-admin on submit', async () => {
    await start();
    const res = await submit(setupValues(), carol);
    expect((res.body as { errors: Record<string, string> }).errors.admins).toContain('Only a rollout admin');
    expect((await h.app.service.get(ROLLOUT))?.settings.credentials).toBeUndefined();
  });

  it('saves valid settings: the secret encrypted, never echoed or logged; due dates planned from go-live', async () => {
    await start();
    const res = await submit(setupValues());
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.settings.setupAt).toBeDefined());
    const r = (await h.app.service.get(ROLLOUT))!;
    expect(r.settings).toMatchObject({
      locale: 'en',
      hosting: 'cloud-eu',
      digestTime: '08:30',
      timezone: 'Europe/Brussels',
      goLive: '2026-12-18',
      admins: [`slack:${alice}`, `slack:${bob}`],
      desiredPolicies: [0, 8],
      thresholds: { extensionPassPct: 70, onboardingPassPct: 95, onboardingWarnPct: 60, minOwners: 3 },
    });
    expect(r.settings.credentials?.clientId).toBe(ORG_ID);
    expect(JSON.stringify(r)).not.toContain(SECRET);
    // Steps without a due date got one, before go-live.
    const planned = Object.values(r.steps).filter((s) => s.dueSource === 'planned');
    expect(planned.length).toBeGreaterThan(5);
    for (const s of planned) expect(s.due! < '2026-12-18').toBe(true);
    const confirm = await h.slack.waitFor('chat.postEphemeral', (c) => c.args.user === alice);
    expect(String(confirm.args.text)).toContain('Instellingen van deze uitrol opgeslagen');
    expect(String(confirm.args.text)).toContain(ORG_ID);
    // The secret is nowhere: not in Slack calls, not in logs, not in the store file on disk.
    await h.app.slack!.idle(); // everything the submission set off has run
    expect(JSON.stringify(h.slack.calls())).not.toContain(SECRET);
    expect(h.logs()).not.toContain(SECRET);
    const file = path.join(h.dir, 'bwprep.sqlite');
    const raw = [file, `${file}-wal`].map((f) => {
      try {
        return readFileSync(f).toString('latin1');
      } catch {
        return '';
      }
    });
    expect(raw.join('')).not.toContain(SECRET);
    // Audit says the key was set, without the secret.
    const audit = await h.app.store.audit.list(ROLLOUT);
    expect(audit.find((a) => a.action === 'rollout.credentials_set')?.detail).toEqual({ clientId: ORG_ID });
  });

  it('refuses to store an API key when the bot has no encryption key, on that field', async () => {
    await start({ BWPREP_ENCRYPTION_KEY: '', BWPREP_ADMINS: `slack:${bob}` });
    const res = await submit(setupValues(), bob);
    const body = res.body as { errors: Record<string, string> };
    expect(body.errors.clientSecret).toContain('BWPREP_ENCRYPTION_KEY');
    expect((await h.app.service.get(ROLLOUT))?.settings.setupAt).toBeUndefined();
  });
});

describe('daily digest', () => {
  it('posts at 09:00 Amsterdam on a weekday, once, in the rollout language, and not again after a restart', async () => {
    await start();
    await command('lang nl');
    await command(`assign 2a <@${bob}>`);
    await command('done 2a', bob);
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done'));
    expect((await h.app.scheduler!.tick()).digests.filter((d) => d.posted)).toHaveLength(0); // 08:30: not yet
    clock.set('2026-11-25T08:01:00Z'); // 09:01 in Amsterdam
    const tick = await h.app.scheduler!.tick();
    expect(tick.digests.filter((d) => d.posted)).toHaveLength(1);
    const post = await h.slack.waitFor(
      'chat.postMessage',
      (c) => String(c.args.text).includes('gereedheid') || blockText(c.args.blocks).includes('Gereedheid'),
    );
    const text = blockText(post.args.blocks);
    expect(post.args.channel).toBe(FAKE_CHANNEL_ID);
    expect(text).toContain('25 november 2026');
    expect(text).toContain('1 van 10');
    expect(text).toContain('5 uur'); // 5,5 − 0,5 h left
    // No Bitwarden key configured: the checks could not run, and the digest says so.
    expect(text).toMatch(/controles konden niet/i);
    // The card is one click away.
    expect(JSON.stringify(post.args.blocks)).toContain('/archives/C0FAKEROLL');
    await h.app.scheduler!.tick();
    await h.restart();
    clock.set('2026-11-25T08:20:00Z');
    await h.app.scheduler!.tick();
    expect(h.slack.calls('chat.postMessage').filter((c) => blockText(c.args.blocks).includes('Gereedheid'))).toHaveLength(1);
  });

  it('/bwprep digest posts a preview now', async () => {
    await start();
    await command('digest', bob);
    const post = await h.slack.waitFor('chat.postMessage', (c) => blockText(c.args.blocks).includes('Preview'), 10_000);
    expect(post.args.channel).toBe(FAKE_CHANNEL_ID);
    expect(blockText(post.args.blocks)).toContain('Readiness');
  });
});

describe('owner reminders', () => {
  it('DMs the owner of an overdue step at the start of their own day, once, with done / snooze / open', async () => {
    await start();
    await command(`assign 4a <@${bob}>`);
    await command('due 4a 2026-11-24');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.steps['4a']?.due).toBe('2026-11-24'));
    clock.set('2026-11-25T08:30:00Z'); // 08:30 in London: bob's day has not started
    await h.app.scheduler!.tick();
    expect(h.slack.calls('chat.postMessage').filter((c) => String(c.args.channel).startsWith('D'))).toHaveLength(0);
    clock.set('2026-11-25T09:05:00Z'); // 09:05 in London
    await h.app.scheduler!.tick();
    const dm = await h.slack.waitFor('chat.postMessage', (c) => String(c.args.channel).startsWith('D'));
    expect(h.slack.last('conversations.open')?.args.users).toBe(bob);
    const blocks = JSON.stringify(dm.args.blocks);
    expect(blockText(dm.args.blocks)).toContain('4a');
    expect(blocks).toContain(ACTIONS.markDone);
    expect(blocks).toContain(ACTIONS.snoozeStep);
    expect(blocks).toContain('/archives/C0FAKEROLL');
    await h.app.scheduler!.tick();
    clock.set('2026-11-25T13:00:00Z');
    await h.app.scheduler!.tick();
    expect(h.slack.calls('chat.postMessage').filter((c) => String(c.args.channel).startsWith('D'))).toHaveLength(1);
    // Snooze from the DM: no reminder tomorrow.
    await h.send(
      blockActions({
        user: bob,
        channel: String(dm.args.channel),
        message_ts: String(dm.response.ts),
        actions: [button(ACTIONS.snoozeStep, encodeStepRef(ROLLOUT, '4a'))],
        response_url: h.slack.responseUrl('snooze'),
      }),
    );
    const snoozed = await h.slack.waitForResponse('snooze');
    expect(String(snoozed.body.text)).toContain('snoozed until');
    clock.set('2026-11-26T09:05:00Z');
    await h.app.scheduler!.tick();
    expect(h.slack.calls('chat.postMessage').filter((c) => String(c.args.channel).startsWith('D'))).toHaveLength(1);
  });
});
