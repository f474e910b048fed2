import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tr } from '../../src/i18n';
import { setupCard } from '../../src/teams/setup';
import { makeHarness } from '../core/harness';
import { registerSecret } from '../helpers/secret-guard';
import { ANNA, BOB, FAKE_CHANNEL, FAKE_TENANT, teamsCardAction, teamsMessage } from './activities';
import { expectValidCard } from './adaptive-cards';
import { startTeamsHarness, type TeamsHarness } from './harness';

/** Teams renders the people picker's `choices.data` on 1.5 cards; the library dates it to 1.6 (see adaptive-cards.test.ts). */
const PEOPLE_PICKER = /^Property "choices\.data" is supported in version 1\.6/;
const ROLLOUT = `teams:${FAKE_TENANT}:${FAKE_CHANNEL}`;
// Obviously fake; must never come back in a card, a connector call or a log line.
const SECRET = 'fake-bw-client-secret-not-real-teams-9c1d';
registerSecret(SECRET);
const ORG_ID = 'organization.00000000-0000-4000-8000-00000000f00d';

type CardBody = { id?: string; type: string; value?: unknown; text?: string; color?: string }[];
const bodyOf = (card: unknown) => (card as { body: CardBody }).body;
const input = (card: unknown, id: string) => bodyOf(card).find((e) => e.id === id);
/** The error shown right under a field (a TextBlock in the Attention colour), if any. */
function errorUnder(card: unknown, id: string): string | undefined {
  const body = bodyOf(card);
  const next = body[body.findIndex((e) => e.id === id) + 1];
  return next?.type === 'TextBlock' && next.color === 'Attention' ? next.text : undefined;
}

describe('the setup form card', () => {
  it("parses with Microsoft's adaptivecards package in both languages, with and without errors, never carrying a secret", async () => {
    const h = await makeHarness('memory', { hosting: 'self-hosted' });
    const r = await h.rollout();
    await h.close();
    for (const locale of ['en', 'nl'] as const)
      for (const withErrors of [false, true]) {
        const form = {
          rolloutId: r.id,
          settings: { ...r.settings, credentials: { clientId: ORG_ID, secret: { v: 1 as const, iv: 'fake-iv', tag: 'fake-tag', data: 'encrypted-fake' } } },
          locale,
          timezone: 'Europe/Amsterdam',
          encryptionAvailable: true,
        };
        const errors = withErrors
          ? { timezone: tr(locale, 'setup.error.timezone', { value: 'Mars/Olympus_Mons' }), clientSecret: tr(locale, 'setup.error.secret_required') }
          : undefined;
        const card = setupCard(form, locale, {
          personal: false,
          people: [{ key: 'teams:fake-aad', name: 'Olga' }],
          ...(errors ? { errors } : {}),
          ...(withErrors
            ? { values: { clientSecret: SECRET, timezone: 'Mars/Olympus_Mons' }, banner: '⚠️ Something went wrong on our side. Reference: 0000fake' }
            : {}),
        });
        expectValidCard(card.content, { allow: [PEOPLE_PICKER] });
        const json = JSON.stringify(card.content);
        expect(json).not.toContain(SECRET);
        expect(json).not.toContain('encrypted-fake');
        expect(input(card.content, 'clientSecret')).not.toHaveProperty('value');
        expect(input(card.content, 'clientId')?.value).toBe(ORG_ID);
        if (withErrors) {
          expect(errorUnder(card.content, 'timezone')).toContain('Mars/Olympus\\_Mons');
          expect(input(card.content, 'timezone')?.value).toBe('Mars/Olympus_Mons');
        }
        expect(json).toContain(locale === 'nl' ? 'Taal van het kanaal' : 'Language of the channel');
      }
  });
});

describe('`setup` in Teams, end to end', () => {
  let h: TeamsHarness;
  beforeAll(async () => {
    h = await startTeamsHarness({ env: { BWPREP_ENCRYPTION_KEY: 'ab'.repeat(32) } });
  });
  afterAll(async () => {
    await h?.close();
  });

  let formId = '';
  async function openForm(locale: string) {
    const msg = teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'setup', mention: true, locale, from: BOB, timezone: 'Europe/Amsterdam' });
    expect((await h.post(msg)).status).toBe(200);
    const reply = await h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id && c.status === 200);
    formId = reply.id!;
    return (reply.body?.attachments as { contentType: string; content: unknown }[])[0]!;
  }

  const values = (over: Record<string, string> = {}) => ({
    rolloutId: ROLLOUT,
    locale: 'en',
    hosting: 'cloud-eu',
    serverUrl: '',
    clientId: ORG_ID,
    clientSecret: SECRET,
    digestEnabled: 'on',
    digestTime: '08:30',
    timezone: 'Europe/Brussels',
    weekdays: '1,2,3,4,5',
    goLive: '2099-12-18',
    admins: `teams:${BOB.aadObjectId},${ANNA.aadObjectId}`,
    desiredPolicies: '0,8',
    extensionPassPct: '70',
    onboardingPassPct: '95',
    onboardingWarnPct: '60',
    minOwners: '3',
    ...over,
  });
  const submit = (data: Record<string, string>, from = BOB, locale = 'en-GB') =>
    h.post(teamsCardAction({ serviceUrl: h.connector.serviceUrl, from, verb: 'setup_submit', data, replyToId: formId, locale }));

  it('answers `@bwprep setup` with the form card in the admin’s language, the secret empty', async () => {
    // Bob's first command starts the rollout: he is its admin.
    await h.post(teamsMessage({ serviceUrl: h.connector.serviceUrl, text: 'status', mention: true, from: BOB }));
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.card).toBeDefined());
    const card = await openForm('nl-NL');
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expectValidCard(card.content, { allow: [PEOPLE_PICKER] });
    const json = JSON.stringify(card.content);
    expect(json).toContain('Taal van het kanaal');
    expect(json).toContain('"verb":"setup_submit"');
    for (const id of [
      'locale',
      'hosting',
      'serverUrl',
      'clientId',
      'clientSecret',
      'digestEnabled',
      'digestTime',
      'timezone',
      'weekdays',
      'goLive',
      'admins',
      'desiredPolicies',
      'minOwners',
    ])
      expect(input(card.content, id), id).toBeDefined();
    expect(input(card.content, 'clientSecret')).not.toHaveProperty('value');
    expect(input(card.content, 'timezone')?.value).toBe('Europe/Amsterdam'); // the admin's own time zone, not set up yet
  });

  it('shows each invalid field’s error on the form and saves nothing; the typed secret is not sent back', async () => {
    const before = (await h.app.service.get(ROLLOUT))?.settings;
    const res = await submit(
      values({
        hosting: 'self-hosted',
        timezone: 'Mars/Olympus_Mons',
        clientId: 'not-an-org-id',
        weekdays: '',
        goLive: '2020-01-01',
        onboardingWarnPct: '99',
        minOwners: '0',
      }),
    );
    expect(res.status).toBe(200);
    const body = res.body as { statusCode: number; type: string; value: unknown };
    expect(body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expectValidCard(body.value, { allow: [PEOPLE_PICKER] });
    expect(errorUnder(body.value, 'serverUrl')).toContain('needs the server URL');
    expect(errorUnder(body.value, 'timezone')).toContain('is not a time zone');
    expect(errorUnder(body.value, 'clientId')).toContain('organization.');
    expect(errorUnder(body.value, 'weekdays')).toContain('at least one day');
    expect(errorUnder(body.value, 'goLive')).toContain('in the past');
    expect(errorUnder(body.value, 'onboardingWarnPct')).toContain('cannot be above the pass level');
    expect(errorUnder(body.value, 'minOwners')).toContain('from 1 to 20');
    expect(errorUnder(body.value, 'locale')).toBeUndefined();
    // What was typed stays, except the secret.
    expect(input(body.value, 'timezone')?.value).toBe('Mars/Olympus_Mons');
    expect(JSON.stringify(body)).not.toContain(SECRET);
    expect((await h.app.service.get(ROLLOUT))?.settings).toEqual(before);
  });

  it('refuses someone who is not a rollout admin, on the form (in Dutch for a Dutch reader)', async () => {
    const res = await submit(values(), ANNA, 'nl-NL');
    const card = (res.body as { value: unknown }).value;
    expectValidCard(card, { allow: [PEOPLE_PICKER] });
    expect(errorUnder(card, 'admins')).toContain('Alleen een beheerder van de uitrol (Bob Fake)');
  });

  it('saves valid settings: confirmation on the form (for everyone), the key stored encrypted, the card updated; the secret is never echoed', async () => {
    const res = await submit(values());
    const body = res.body as { type: string; value: unknown };
    expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
    expectValidCard(body.value);
    const text = JSON.stringify(body.value);
    expect(text).toContain('Settings saved');
    expect(text).toContain(ORG_ID);
    const r = await h.app.service.get(ROLLOUT);
    expect(r?.settings).toMatchObject({ timezone: 'Europe/Brussels', digestTime: '08:30', hosting: 'cloud-eu', credentials: { clientId: ORG_ID } });
    // A person from the people search (a bare AAD id) becomes a Teams admin.
    expect(r?.settings.admins).toEqual(expect.arrayContaining([`teams:${BOB.aadObjectId}`, `teams:${ANNA.aadObjectId}`]));
    expect(r?.settings.credentials?.secret).not.toContain(SECRET);
    // The living card follows the new settings.
    await h.connector.waitFor((c) => c.kind === 'update' && c.activityId === r?.card?.ts && c.status === 200);
    // The form message is replaced for everyone.
    const put = await h.connector.waitFor((c) => c.kind === 'update' && c.activityId === formId);
    expect(JSON.stringify(put.body)).toContain('Settings saved');
    // Nothing sent to Teams and nothing logged carries the secret.
    expect(JSON.stringify(h.connector.calls)).not.toContain(SECRET);
    expect(h.logs()).not.toContain(SECRET);
  });
});
