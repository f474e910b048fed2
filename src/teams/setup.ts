/**
 * `setup` in Teams: the settings form as an Adaptive Card (schema 1.5), with the same fields and the same
 * validation as the Slack modal (src/slack/blocks/setup.ts; validation in core/checklist/settings.ts via
 * `Interactions.submitSetup`). Input ids are the `SetupInput` field names, so an error from validateSetup
 * lands under its own field. The Bitwarden `client_secret` input is never pre-filled, and a re-rendered
 * form (after an error) never carries what was typed in it.
 *
 * Wire (Teams Action.Execute, verb `setup_submit`): Teams merges every input's value into `action.data`
 * beside the card's own `data.rolloutId`; values are strings (multi-selects comma-separated, the toggle
 * `on`/`off`, dates `YYYY-MM-DD`, times `HH:MM`).
 */
import type { Attachment } from 'botbuilder';
import { type Locale, THRESHOLD_LIMITS, type ThresholdField, type UserKey } from '../core/checklist/model';
import type { SetupField, SetupInput } from '../core/checklist/settings';
import { t, tr } from '../i18n';
import { SETUP_POLICIES } from '../interactions';
import type { SetupFormView } from '../interactions/ports';
import { ACTIONS } from '../views/actions';
import type { Rich } from '../views/rich';
import { adaptiveCard, escapeMarkdown, type RenderContext, teamsMarkdown } from './render';

/** The Graph dataset Teams' people picker searches (the people of the current conversation). */
const PEOPLE_DATASET = 'graph.microsoft.com/users?scope=currentContext';

/** Form values as Teams sends them back: field id → string. */
export type SetupValues = Partial<Record<SetupField, string>>;

export interface SetupCardOptions extends RenderContext {
  /** People to offer as static admin choices (the conversation's members bwprep knows), beside the search. */
  people?: { key: string; name: string }[];
  /** What the admin submitted, shown again after an error (the secret is dropped here). */
  values?: SetupValues;
  /** One message per invalid field, shown under that field. */
  errors?: Partial<Record<SetupField, Rich>>;
  /** A problem with the whole form (saving failed), shown at its top; Teams Markdown. */
  banner?: string;
}

type Element = Record<string, unknown>;

const text = (value: string, extra: Element = {}): Element => ({ type: 'TextBlock', text: value, wrap: true, ...extra });

/** The form's values from the rollout's settings (what the Slack modal pre-fills). Never the secret. */
function setupValuesFrom(form: SetupFormView): SetupValues {
  const s = form.settings;
  return {
    locale: s.locale,
    hosting: s.hosting,
    serverUrl: s.serverUrl ?? '',
    clientId: s.credentials?.clientId ?? '',
    digestEnabled: s.digestEnabled ? 'on' : 'off',
    digestTime: s.digestTime,
    timezone: form.timezone,
    weekdays: s.weekdays.join(','),
    goLive: s.goLive ?? '',
    admins: s.admins.filter((a) => a.startsWith('teams:')).join(','),
    desiredPolicies: s.desiredPolicies.join(','),
    extensionPassPct: String(s.thresholds.extensionPassPct),
    onboardingPassPct: String(s.thresholds.onboardingPassPct),
    onboardingWarnPct: String(s.thresholds.onboardingWarnPct),
    minOwners: String(s.thresholds.minOwners),
  };
}

/** The setup form card. `locale` is the reader's (the form is answered by one admin). */
export function setupCard(form: SetupFormView, locale: Locale, o: SetupCardOptions): Attachment {
  const tl = (k: string, v?: Record<string, string | number>) => t(locale, k, v);
  const values: SetupValues = { ...setupValuesFrom(form), ...o.values };
  delete values.clientSecret;
  const body: Element[] = [
    text(escapeMarkdown(tl('setup.title')), { size: 'Large', weight: 'Bolder' }),
    text(escapeMarkdown(tl('setup.intro')), { isSubtle: true, spacing: 'None' }),
  ];
  if (o.banner) body.push(text(o.banner, { color: 'Attention', weight: 'Bolder' }));
  const field = (id: SetupField, input: Element, hint?: Rich) => {
    body.push({ id, ...input, ...(input.isRequired ? { errorMessage: tl('teams.setup_required') } : {}) });
    const error = o.errors?.[id];
    if (error) body.push(text(`⚠️ ${teamsMarkdown(error, o)}`, { color: 'Attention', spacing: 'None' }));
    if (hint) body.push(text(teamsMarkdown(hint, o), { isSubtle: true, size: 'Small', spacing: 'None' }));
  };
  const section = (key: string) => body.push(text(`**${escapeMarkdown(tl(key))}**`, { spacing: 'Large', separator: true }));
  const value = (id: SetupField) => (values[id] ? { value: values[id] } : {});
  const choice = (title: string, v: string) => ({ title, value: v });

  field('locale', {
    type: 'Input.ChoiceSet',
    label: tl('setup.field.locale'),
    style: 'compact',
    isRequired: true,
    choices: (['nl', 'en'] as const).map((l) => choice(tl(`setup.language.${l}`), l)),
    ...value('locale'),
  });
  field('hosting', {
    type: 'Input.ChoiceSet',
    label: tl('setup.field.hosting'),
    style: 'compact',
    isRequired: true,
    choices: (['cloud-us', 'cloud-eu', 'self-hosted'] as const).map((h) => choice(tl(`hosting.${h}`), h)),
    ...value('hosting'),
  });
  field(
    'serverUrl',
    { type: 'Input.Text', label: tl('setup.field.server_url'), placeholder: 'https://vault.example.com', style: 'Url', ...value('serverUrl') },
    tr(locale, 'setup.hint.server_url'),
  );

  section('setup.section.api_key');
  field(
    'clientId',
    { type: 'Input.Text', label: tl('setup.field.client_id'), placeholder: 'organization.00000000-0000-0000-0000-000000000000', ...value('clientId') },
    tr(locale, 'setup.hint.client_id'),
  );
  const secretHint = !form.encryptionAvailable
    ? tr(locale, 'setup.hint.secret_no_key')
    : form.settings.credentials
      ? tr(locale, 'setup.hint.secret_saved', { clientId: form.settings.credentials.clientId })
      : tr(locale, 'setup.hint.secret_new');
  // Never a value: a saved secret is only named by its client id, and a typed one is not sent back.
  field('clientSecret', { type: 'Input.Text', label: tl('setup.field.client_secret'), style: 'Password' }, secretHint);

  section('setup.section.digest');
  field('digestEnabled', {
    type: 'Input.Toggle',
    label: tl('setup.field.digest_enabled'),
    title: tl('setup.digest_on'),
    valueOn: 'on',
    valueOff: 'off',
    value: values.digestEnabled === 'on' ? 'on' : 'off',
  });
  field('digestTime', { type: 'Input.Time', label: tl('setup.field.digest_time'), isRequired: true, ...value('digestTime') });
  field('timezone', { type: 'Input.Text', label: tl('setup.field.timezone'), isRequired: true, ...value('timezone') }, tr(locale, 'setup.hint.timezone'));
  field('weekdays', {
    type: 'Input.ChoiceSet',
    label: tl('setup.field.weekdays'),
    isMultiSelect: true,
    style: 'expanded',
    choices: [1, 2, 3, 4, 5, 6, 7].map((d) => choice(tl(`setup.weekday.${d}`), String(d))),
    ...value('weekdays'),
  });
  field('goLive', { type: 'Input.Date', label: tl('setup.field.go_live'), ...value('goLive') }, tr(locale, 'setup.hint.go_live'));

  section('setup.section.people');
  const adminKeys = (values.admins ?? '').split(',').filter(Boolean);
  const people = new Map((o.people ?? []).map((p) => [p.key, p.name]));
  for (const k of adminKeys) if (!people.has(k)) people.set(k, o.userName?.(k) ?? k.replace(/^[a-z]+:/, ''));
  const adminChoices = [...people].map(([k, name]) => choice(name, k));
  // Microsoft's parser rejects a choice set with no choices; the search (choices.data) still finds people.
  if (!adminChoices.length) adminChoices.push(choice(tl('setup.field.admins'), ''));
  field(
    'admins',
    {
      type: 'Input.ChoiceSet',
      label: tl('setup.field.admins'),
      isMultiSelect: true,
      style: 'filtered',
      choices: adminChoices,
      'choices.data': { type: 'Data.Query', dataset: PEOPLE_DATASET },
      ...value('admins'),
    },
    tr(locale, 'setup.hint.admins'),
  );
  field(
    'desiredPolicies',
    {
      type: 'Input.ChoiceSet',
      label: tl('setup.field.policies'),
      isMultiSelect: true,
      style: 'filtered',
      choices: SETUP_POLICIES.map((p) => choice(`${p} · ${tl(`bw.policy.${p}`)}`, String(p))),
      ...value('desiredPolicies'),
    },
    tr(locale, 'setup.hint.policies'),
  );

  section('setup.section.thresholds');
  const num = (id: ThresholdField, label: string, hint?: Rich) => {
    const n = Number(values[id]);
    field(id, { type: 'Input.Number', label: tl(label), ...THRESHOLD_LIMITS[id], ...(values[id] && Number.isFinite(n) ? { value: n } : {}) }, hint);
  };
  num('extensionPassPct', 'setup.field.extension_pass_pct', tr(locale, 'setup.hint.extension_pass_pct'));
  num('onboardingPassPct', 'setup.field.onboarding_pass_pct');
  num('onboardingWarnPct', 'setup.field.onboarding_warn_pct', tr(locale, 'setup.hint.onboarding'));
  num('minOwners', 'setup.field.min_owners', tr(locale, 'setup.hint.min_owners'));

  return adaptiveCard(body, {
    actions: [
      {
        type: 'Action.Execute',
        verb: ACTIONS.setupSubmit,
        title: tl('setup.submit'),
        style: 'positive',
        data: { rolloutId: form.rolloutId },
        associatedInputs: 'auto',
      },
    ],
  });
}

/** The card that replaces the form once the settings are saved: the confirmation lines, nothing of the form. */
export function setupDoneCard(locale: Locale, lines: Rich[], o: RenderContext): Attachment {
  return adaptiveCard([
    text(escapeMarkdown(t(locale, 'setup.title')), { weight: 'Bolder' }),
    ...lines.map((l, i) => text(`${i ? '' : '✅ '}${teamsMarkdown(l, o)}`, { spacing: i ? 'None' : 'Default' })),
  ]);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The submitted form → `SetupInput`. An admin is a static choice (`teams:<aadObjectId>`) or a person from
 * the people search (a bare AAD object id, which becomes `teams:<id>`). Admins on other platforms (a linked
 * Slack channel) cannot be shown in Teams' picker, so they are kept as they are.
 */
export function readSetupData(data: Record<string, unknown>, currentAdmins: readonly UserKey[]): SetupInput {
  const s = (f: SetupField) => (typeof data[f] === 'string' ? (data[f] as string) : typeof data[f] === 'number' ? String(data[f]) : '').trim();
  const list = (f: SetupField) =>
    s(f)
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const teamsAdmins = list('admins').map((a) => (GUID.test(a) ? `teams:${a}` : a));
  const others = currentAdmins.filter((a) => !a.startsWith('teams:'));
  return {
    locale: s('locale'),
    hosting: s('hosting'),
    serverUrl: s('serverUrl'),
    clientId: s('clientId'),
    clientSecret: s('clientSecret'),
    digestTime: s('digestTime'),
    timezone: s('timezone'),
    weekdays: list('weekdays'),
    goLive: s('goLive'),
    admins: [...new Set([...teamsAdmins, ...others])],
    desiredPolicies: list('desiredPolicies'),
    digestEnabled: s('digestEnabled') === 'on' || s('digestEnabled') === 'true',
    extensionPassPct: s('extensionPassPct'),
    onboardingPassPct: s('onboardingPassPct'),
    onboardingWarnPct: s('onboardingWarnPct'),
    minOwners: s('minOwners'),
  };
}

/** What to show again after an error: everything submitted except the secret. */
export function resubmittedValues(data: Record<string, unknown>): SetupValues {
  const out: SetupValues = {};
  for (const [k, v] of Object.entries(data))
    if (k !== 'clientSecret' && k !== 'rolloutId' && (typeof v === 'string' || typeof v === 'number')) out[k as SetupField] = String(v);
  return out;
}
