import { KNOWN_POLICY_TYPES, type Locale, type RolloutSettings, THRESHOLD_LIMITS, type ThresholdField } from '../../core/checklist/model';
import { t } from '../../i18n';
import { ACTIONS } from '../../views/actions';
import { clip } from './limits';
import type { KnownBlock, View } from './types';

/** Policy types offered for step 2a (Bitwarden PolicyType numbers with a name in both locales). */
const SETUP_POLICIES = KNOWN_POLICY_TYPES;

const opt = (text: string, value: string) => ({ text: { type: 'plain_text' as const, text: clip(text, 75), emoji: true }, value });

/** A threshold's number_input bounds: validateSetup's (THRESHOLD_LIMITS), as Slack takes them (strings). */
const bounds = (f: ThresholdField) => ({ min_value: String(THRESHOLD_LIMITS[f].min), max_value: String(THRESHOLD_LIMITS[f].max) });

/**
 * The setup modal. Block ids are the SetupInput field names, so field errors from validateSetup land on the
 * right input. The secret field is never pre-filled: a saved key is only named by its client id.
 */

export function setupModal(rolloutId: string, s: RolloutSettings, locale: Locale, opts: { timezone: string; encryptionAvailable: boolean }): View {
  const tr = (k: string, v?: Record<string, string | number>) => t(locale, k, v);
  const input = (blockId: string, label: string, element: Record<string, unknown>, extra: { optional?: boolean; hint?: string } = {}): KnownBlock =>
    ({
      type: 'input',
      block_id: blockId,
      optional: extra.optional ?? false,
      label: { type: 'plain_text', text: clip(label, 2000) },
      ...(extra.hint ? { hint: { type: 'plain_text', text: clip(extra.hint, 2000) } } : {}),
      element: { action_id: 'value', ...element },
    }) as KnownBlock;
  const days = [1, 2, 3, 4, 5, 6, 7].map((d) => opt(tr(`setup.weekday.${d}`), String(d)));
  const hostings = (['cloud-us', 'cloud-eu', 'self-hosted'] as const).map((h) => opt(tr(`hosting.${h}`), h));
  const languages = (['nl', 'en'] as const).map((l) => opt(tr(`setup.language.${l}`), l));
  const policies = SETUP_POLICIES.map((p) => opt(`${p} · ${tr(`bw.policy.${p}`)}`, String(p)));
  const slackAdmins = s.admins.filter((a) => a.startsWith('slack:')).map((a) => a.slice(6));
  const secretHint = !opts.encryptionAvailable
    ? tr('setup.hint.secret_no_key')
    : s.credentials
      ? tr('setup.hint.secret_saved', { clientId: s.credentials.clientId })
      : tr('setup.hint.secret_new');
  const blocks: KnownBlock[] = [
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(tr('setup.intro'), 2000) }] },
    input('locale', tr('setup.field.locale'), { type: 'static_select', options: languages, initial_option: languages.find((o) => o.value === s.locale) }),
    input('hosting', tr('setup.field.hosting'), { type: 'static_select', options: hostings, initial_option: hostings.find((o) => o.value === s.hosting) }),
    input(
      'serverUrl',
      tr('setup.field.server_url'),
      {
        type: 'plain_text_input',
        ...(s.serverUrl ? { initial_value: s.serverUrl } : {}),
        placeholder: { type: 'plain_text', text: 'https://vault.example.com' },
      },
      { optional: true, hint: tr('setup.hint.server_url') },
    ),
    { type: 'header', text: { type: 'plain_text', text: clip(tr('setup.section.api_key'), 150) } },
    input(
      'clientId',
      tr('setup.field.client_id'),
      {
        type: 'plain_text_input',
        ...(s.credentials ? { initial_value: s.credentials.clientId } : {}),
        placeholder: { type: 'plain_text', text: 'organization.00000000-0000-0000-0000-000000000000' },
      },
      { optional: true, hint: tr('setup.hint.client_id') },
    ),
    input('clientSecret', tr('setup.field.client_secret'), { type: 'plain_text_input' }, { optional: true, hint: secretHint }),
    { type: 'header', text: { type: 'plain_text', text: clip(tr('setup.section.digest'), 150) } },
    input(
      'digestEnabled',
      tr('setup.field.digest_enabled'),
      {
        type: 'checkboxes',
        options: [opt(tr('setup.digest_on'), 'on')],
        ...(s.digestEnabled ? { initial_options: [opt(tr('setup.digest_on'), 'on')] } : {}),
      },
      { optional: true },
    ),
    input('digestTime', tr('setup.field.digest_time'), { type: 'timepicker', initial_time: s.digestTime }),
    input('timezone', tr('setup.field.timezone'), { type: 'plain_text_input', initial_value: opts.timezone }, { hint: tr('setup.hint.timezone') }),
    input('weekdays', tr('setup.field.weekdays'), {
      type: 'checkboxes',
      options: days,
      initial_options: days.filter((d) => s.weekdays.includes(Number(d.value))),
    }),
    input(
      'goLive',
      tr('setup.field.go_live'),
      { type: 'datepicker', ...(s.goLive ? { initial_date: s.goLive } : {}) },
      { optional: true, hint: tr('setup.hint.go_live') },
    ),
    { type: 'header', text: { type: 'plain_text', text: clip(tr('setup.section.people'), 150) } },
    input(
      'admins',
      tr('setup.field.admins'),
      { type: 'multi_users_select', ...(slackAdmins.length ? { initial_users: slackAdmins } : {}) },
      { hint: tr('setup.hint.admins') },
    ),
    input(
      'desiredPolicies',
      tr('setup.field.policies'),
      {
        type: 'multi_static_select',
        options: policies,
        ...(s.desiredPolicies.length ? { initial_options: policies.filter((p) => s.desiredPolicies.includes(Number(p.value))) } : {}),
      },
      { optional: true, hint: tr('setup.hint.policies') },
    ),
    { type: 'header', text: { type: 'plain_text', text: clip(tr('setup.section.thresholds'), 150) } },
    input(
      'extensionPassPct',
      tr('setup.field.extension_pass_pct'),
      { type: 'number_input', is_decimal_allowed: false, ...bounds('extensionPassPct'), initial_value: String(s.thresholds.extensionPassPct) },
      { optional: true, hint: tr('setup.hint.extension_pass_pct') },
    ),
    input(
      'onboardingPassPct',
      tr('setup.field.onboarding_pass_pct'),
      { type: 'number_input', is_decimal_allowed: false, ...bounds('onboardingPassPct'), initial_value: String(s.thresholds.onboardingPassPct) },
      { optional: true },
    ),
    input(
      'onboardingWarnPct',
      tr('setup.field.onboarding_warn_pct'),
      { type: 'number_input', is_decimal_allowed: false, ...bounds('onboardingWarnPct'), initial_value: String(s.thresholds.onboardingWarnPct) },
      { optional: true, hint: tr('setup.hint.onboarding') },
    ),
    input(
      'minOwners',
      tr('setup.field.min_owners'),
      { type: 'number_input', is_decimal_allowed: false, ...bounds('minOwners'), initial_value: String(s.thresholds.minOwners) },
      { optional: true, hint: tr('setup.hint.min_owners') },
    ),
  ];
  return {
    type: 'modal',
    callback_id: ACTIONS.setupSubmit,
    private_metadata: rolloutId,
    title: { type: 'plain_text', text: clip(tr('setup.title'), 24) },
    submit: { type: 'plain_text', text: clip(tr('setup.submit'), 24) },
    close: { type: 'plain_text', text: clip(tr('setup.close'), 24) },
    blocks,
  };
}
