import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTIONS } from '../../src/views/actions';
import {
  FAKE_CHANNEL_ID,
  FAKE_TEAM_ID,
  FAKE_USERS,
  type SlackRequest,
  stateValue,
  setupStateValues,
  type SetupStateValues,
  viewSubmission,
} from '../helpers/slack-requests';
import { postFirstCard, type SlackHarness, startSlackHarness, TestClock } from './harness';

/**
 * The setup modal's submit with signed, well-formed JSON whose state values do not have the shape Slack
 * gives each element (a reviewer's rows, and counterexamples of test/fuzz/slack-setup.fuzz.test.ts): each is
 * refused on its own field, in the admin's language, like any invalid value; nothing is saved, and nothing
 * reaches the internal-error path.
 */
const { alice, bob } = FAKE_USERS; // alice: nl-NL, the rollout's creator; bob: en-GB, admin by BWPREP_ADMINS
const ROLLOUT = `slack:${FAKE_TEAM_ID}:${FAKE_CHANNEL_ID}`;
const ORG_ID = 'organization.00000000-0000-4000-8000-00000000f00d';
const clock = new TestClock(new Date('2026-11-25T07:30:00Z'));
let h: SlackHarness;
let logOffset = 0;

beforeAll(async () => {
  h = await startSlackHarness({ clock, env: { BWPREP_ENCRYPTION_KEY: 'ab'.repeat(32), BWPREP_ADMINS: `slack:${bob}` } });
  await postFirstCard(h, alice);
});
afterAll(async () => {
  await h?.close();
});

type Values = SetupStateValues;

/** A valid submission (it saves: see the last test), with some elements replaced. */
function setupValues(over: Record<string, unknown> = {}): Values {
  return setupStateValues({ admins: [alice, bob], clientId: ORG_ID, clientSecret: 'fake-bw-client-secret-setup-e2e' }, over);
}

/** A signed view_submission of the setup modal, its payload edited after it was built. */
function submission(user: string, values: Values, edit: (p: Record<string, unknown>) => void = () => {}): SlackRequest {
  const req = viewSubmission({ user, view: { callback_id: ACTIONS.setupSubmit, private_metadata: ROLLOUT, state: { values } } });
  const p = structuredClone(req.payload);
  edit(p);
  return { ...req, payload: p, body: new URLSearchParams({ payload: JSON.stringify(p) }).toString() };
}

async function snapshot() {
  const r = await h.app.service.get(ROLLOUT);
  return { settings: r?.settings, audit: (await h.app.store.audit.list(ROLLOUT)).length };
}

/** Sends, expects the modal's field errors (nothing else), and checks nothing was saved or logged as an error. */
async function refused(req: SlackRequest): Promise<Record<string, string>> {
  const before = await snapshot();
  const calls = h.slack.calls().length;
  const res = await h.send(req);
  expect(res.status).toBe(200);
  const body = res.body as { response_action?: string; errors?: Record<string, string> };
  expect(body.response_action).toBe('errors');
  await h.app.slack!.idle();
  expect(await snapshot()).toEqual(before);
  // No confirmation, no "something went wrong": the modal says it all.
  expect(
    h.slack
      .calls()
      .slice(calls)
      .filter((c) => c.method.startsWith('chat.')),
  ).toEqual([]);
  const logs = h.logs().slice(logOffset);
  logOffset = h.logs().length;
  expect(logs.split('\n').filter((l) => /unexpected error|setup submission failed|"level":("error"|50)/.test(l))).toEqual([]);
  const errors = body.errors!;
  for (const text of Object.values(errors)) expect(text).not.toMatch(/Something went wrong|Er ging aan onze kant|\{\{|setup\.error\./);
  return errors;
}

const el = (type: string, fields: Record<string, unknown>) => ({ type, ...fields });

describe('setup modal: state values of the wrong shape are refused on their field, in the admin’s language', () => {
  const rows: { name: string; values: Values; field: string; en: string; nl: string }[] = [
    {
      name: 'checkboxes whose selected_options is a string',
      values: setupValues({ weekdays: el('checkboxes', { selected_options: 'x' }) }),
      field: 'weekdays',
      en: 'Choose at least one day.',
      nl: 'Kies minstens één dag.',
    },
    {
      name: 'a users select whose selected_users is an object',
      values: setupValues({ admins: el('multi_users_select', { selected_users: { a: 1 } }) }),
      field: 'admins',
      en: 'Keep at least one rollout admin.',
      nl: 'Houd minstens één beheerder van de uitrol over.',
    },
    {
      name: 'a text input whose value is a number',
      values: setupValues({ clientId: el('plain_text_input', { value: 12345 }) }),
      field: 'clientId',
      en: 'This should look like organization.<uuid>; copy it from the API key screen.',
      nl: 'Dit hoort eruit te zien als organization.<uuid>; kopieer het uit het scherm met de API-sleutel.',
    },
    {
      name: 'a text input whose value is an object',
      values: setupValues({ timezone: el('plain_text_input', { value: {} }) }),
      field: 'timezone',
      en: 'bwprep could not read this answer. Fill it in or choose again.',
      nl: 'bwprep kon dit antwoord niet lezen. Vul het nog eens in of maak opnieuw een keuze.',
    },
    {
      name: 'checkboxes with a null option',
      values: setupValues({ weekdays: el('checkboxes', { selected_options: [null] }) }),
      field: 'weekdays',
      en: 'Choose at least one day.',
      nl: 'Kies minstens één dag.',
    },
    {
      name: 'a multi select with a null option',
      values: setupValues({ desiredPolicies: el('multi_static_select', { selected_options: [null] }) }),
      field: 'desiredPolicies',
      en: 'bwprep could not read this answer. Fill it in or choose again.',
      nl: 'bwprep kon dit antwoord niet lezen. Vul het nog eens in of maak opnieuw een keuze.',
    },
    {
      name: 'a number input whose value is a number',
      values: setupValues({ minOwners: el('number_input', { value: 3 }) }),
      field: 'minOwners',
      en: 'Choose a whole number from 1 to 20.',
      nl: 'Kies een geheel getal van 1 tot en met 20.',
    },
    {
      name: 'a static select whose selected_option has no value',
      values: setupValues({ locale: el('static_select', { selected_option: { text: 'en' } }) }),
      field: 'locale',
      en: 'Choose nl or en.',
      nl: 'Kies nl of en.',
    },
    {
      name: 'a checkbox element of another type',
      values: setupValues({ digestEnabled: el('plain_text_input', { value: 'on' }) }),
      field: 'digestEnabled',
      en: 'bwprep could not read this answer. Fill it in or choose again.',
      nl: 'bwprep kon dit antwoord niet lezen. Vul het nog eens in of maak opnieuw een keuze.',
    },
    {
      name: 'a missing block',
      values: (({ goLive: _, ...rest }) => rest)(setupValues()),
      field: 'goLive',
      en: 'Choose a valid date.',
      nl: 'Kies een geldige datum.',
    },
  ];

  for (const row of rows) {
    it(`${row.name}: ${row.field} (English admin, then Dutch admin)`, async () => {
      expect(await refused(submission(bob, row.values))).toEqual({ [row.field]: row.en });
      expect(await refused(submission(alice, row.values))).toEqual({ [row.field]: row.nl });
    });
  }

  it('a submission without view.state (or with state.values not an object): every field, nothing saved', async () => {
    const edits: ((p: Record<string, unknown>) => void)[] = [
      (p) => delete (p.view as Record<string, unknown>).state,
      (p) => ((p.view as Record<string, unknown>).state = null),
      (p) => ((p.view as Record<string, unknown>).state = { values: [] }),
      (p) => ((p.view as Record<string, unknown>).state = { values: 'x' }),
    ];
    for (const edit of edits) {
      const en = await refused(submission(bob, setupValues(), edit));
      expect(Object.keys(en).sort()).toEqual(Object.keys(setupValues()).sort());
      expect(en.locale).toBe('Choose nl or en.');
      expect(en.weekdays).toBe('Choose at least one day.');
      const nl = await refused(submission(alice, setupValues(), edit));
      expect(nl.locale).toBe('Kies nl of en.');
      expect(nl.timezone).toBe('bwprep kon dit antwoord niet lezen. Vul het nog eens in of maak opnieuw een keuze.');
    }
  });

  it('`__proto__` and `constructor` block ids read nothing inherited', async () => {
    const values = JSON.parse(`{"__proto__":{"value":{"type":"plain_text_input","value":"x"}},"constructor":{"value":1}}`) as Values;
    const errors = await refused(submission(bob, values));
    expect(Object.keys(errors).sort()).toEqual(Object.keys(setupValues()).sort());
  });

  it('an unreadable field and an invalid one are refused together; a refused non-admin only hears that', async () => {
    const values = setupValues({ weekdays: el('checkboxes', { selected_options: 'x' }), timezone: stateValue.plainText('Mars/Olympus_Mons') });
    expect(await refused(submission(bob, values))).toEqual({
      weekdays: 'Choose at least one day.',
      timezone: '"Mars/Olympus_Mons" is not a time zone. Use an IANA name such as Europe/Amsterdam.',
    });
    const carol = await refused(submission(FAKE_USERS.carol, setupValues({ admins: el('multi_users_select', { selected_users: { a: 1 } }) })));
    expect(Object.keys(carol)).toEqual(['admins']);
    expect(carol.admins).toContain('Only a rollout admin');
  });

  it('the same submission, well formed, saves (the rows above are refused for their one field only)', async () => {
    const res = await h.send(submission(bob, setupValues()));
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    await vi.waitFor(async () => expect((await h.app.service.get(ROLLOUT))?.settings.setupAt).toBeDefined());
    expect((await h.app.service.get(ROLLOUT))?.settings).toMatchObject({ timezone: 'Europe/Brussels', weekdays: [1, 2, 3, 4, 5], desiredPolicies: [0] });
    await h.app.slack!.idle();
    expect(h.logs()).not.toMatch(/"level":("error"|50)/);
  });
});
