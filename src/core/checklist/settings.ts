import { isValidTimeZone, localDate } from '../time';
import {
  HOSTINGS,
  type Hosting,
  KNOWN_POLICY_TYPES,
  LOCALES,
  type Locale,
  type Message,
  type RolloutSettings,
  THRESHOLD_LIMITS,
  type ThresholdField,
  thresholdError,
  type UserKey,
} from './model';
import { isValidDate } from './service';

/** What a setup form sends, as strings and lists, before validation. Platform-free (Slack modal, Teams card). */
export interface SetupInput {
  locale?: string;
  hosting?: string;
  serverUrl?: string;
  clientId?: string;
  /** Only when the admin typed a new one; empty means "keep the saved key". */
  clientSecret?: string;
  digestTime?: string;
  timezone?: string;
  weekdays?: string[];
  goLive?: string;
  admins?: UserKey[];
  desiredPolicies?: string[];
  digestEnabled?: boolean;
  /** Check thresholds as typed (percentages and a count). */
  extensionPassPct?: string;
  onboardingPassPct?: string;
  onboardingWarnPct?: string;
  minOwners?: string;
}

export type SetupField = keyof SetupInput;

export interface SetupResult {
  /** Field → localizable error; empty when the input is valid. */
  errors: Partial<Record<SetupField, Message>>;
  /** The settings to apply (credentials excluded: the caller encrypts the secret). */
  patch: Partial<RolloutSettings>;
  /** A new API key to store: the caller encrypts `clientSecret` before saving. */
  newKey?: { clientId: string; clientSecret: string };
  /** Forget the saved key (client id cleared). */
  clearKey?: boolean;
}

const CLIENT_ID_RE = /^organization\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Validates a setup form against the current settings. Every problem is reported on its own field, and
 * nothing is applied unless all fields are valid, so a form is never half-saved.
 */
export function validateSetup(input: SetupInput, current: RolloutSettings, now: Date): SetupResult {
  const errors: SetupResult['errors'] = {};
  const patch: Partial<RolloutSettings> = {};
  const err = (f: SetupField, key: string, vars?: Message['vars']) => {
    errors[f] = { key: `setup.error.${key}`, ...(vars ? { vars } : {}) };
  };

  if (input.locale !== undefined) {
    if ((LOCALES as readonly string[]).includes(input.locale)) patch.locale = input.locale as Locale;
    else err('locale', 'locale');
  }
  const hosting = (input.hosting ?? current.hosting) as Hosting;
  if (!(HOSTINGS as readonly string[]).includes(hosting)) err('hosting', 'hosting');
  else patch.hosting = hosting;

  const url = input.serverUrl?.trim();
  if (hosting === 'self-hosted') {
    const candidate = url || current.serverUrl;
    if (!candidate) err('serverUrl', 'server_url_required');
    else if (!/^https:\/\/[^\s/]+[^\s]*$/.test(candidate)) err('serverUrl', 'server_url');
    else patch.serverUrl = candidate.replace(/\/+$/, '');
  } else if (url) {
    err('serverUrl', 'server_url_cloud');
  }

  const clientId = input.clientId?.trim();
  const secret = input.clientSecret?.trim();
  let result: Pick<SetupResult, 'newKey' | 'clearKey'> = {};
  if (clientId === '' && !secret && current.credentials) {
    result = { clearKey: true };
  } else if (clientId) {
    if (!CLIENT_ID_RE.test(clientId)) err('clientId', 'client_id');
    else if (secret) result = { newKey: { clientId, clientSecret: secret } };
    else if (!current.credentials || current.credentials.clientId !== clientId) err('clientSecret', 'secret_required');
  } else if (secret) {
    err('clientId', 'client_id_required');
  }

  if (input.digestTime !== undefined) {
    if (/^([01]\d|2[0-3]):[0-5]\d$/.test(input.digestTime)) patch.digestTime = input.digestTime;
    else err('digestTime', 'digest_time');
  }
  if (input.timezone !== undefined) {
    const tz = input.timezone.trim();
    if (isValidTimeZone(tz) && tz.includes('/')) patch.timezone = tz;
    else if (tz.toUpperCase() === 'UTC') patch.timezone = 'UTC';
    else err('timezone', 'timezone', { value: tz });
  }
  if (input.weekdays !== undefined) {
    // ISO weekdays 1–7 as the forms send them; anything else refuses the field rather than being dropped.
    const valid = input.weekdays.every((d) => /^[1-7]$/.test(d));
    const days = [...new Set(input.weekdays.map(Number))].sort((a, b) => a - b);
    if (!valid || !days.length) err('weekdays', 'weekdays');
    else patch.weekdays = days;
  }
  if (input.goLive !== undefined) {
    const g = input.goLive.trim();
    if (!g) patch.goLive = undefined;
    else if (!isValidDate(g)) err('goLive', 'go_live');
    else if (g < localDate(now, patch.timezone ?? current.timezone) && g !== current.goLive) err('goLive', 'go_live_past');
    else patch.goLive = g;
  }
  if (input.admins !== undefined) {
    if (!input.admins.length) err('admins', 'admins');
    else patch.admins = [...new Set(input.admins)];
  }
  if (input.desiredPolicies !== undefined) {
    // Only policy types Bitwarden has: a typo (999) would make step 2a require a policy that cannot exist.
    const unknown = input.desiredPolicies.filter((v) => !/^\d+$/.test(v) || !(KNOWN_POLICY_TYPES as readonly number[]).includes(Number(v)));
    if (unknown.length) err('desiredPolicies', 'unknown_policy', { value: unknown.join(', '), known: KNOWN_POLICY_TYPES.join(', ') });
    else patch.desiredPolicies = [...new Set(input.desiredPolicies.map(Number))].sort((a, b) => a - b);
  }
  if (input.digestEnabled !== undefined) patch.digestEnabled = input.digestEnabled;

  // Thresholds of the checks (DESIGN §5 defaults), per rollout.
  const thresholds = { ...current.thresholds };
  let thresholdsTouched = false;
  for (const f of Object.keys(THRESHOLD_LIMITS) as ThresholdField[]) {
    const raw = input[f];
    if (raw === undefined || raw.trim() === '') continue;
    const { min, max } = THRESHOLD_LIMITS[f];
    // Whole numbers as people type them ("70", or "70,0" / "70.0"); not "1e2" or "0x10", which Number() reads.
    const whole = /^(\d{1,4})(?:[.,]0+)?$/.exec(raw.trim());
    const n = whole ? Number(whole[1]) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      errors[f] = thresholdError(f);
      continue;
    }
    thresholds[f] = n;
    thresholdsTouched = true;
  }
  if (!errors.onboardingWarnPct && !errors.onboardingPassPct && thresholds.onboardingWarnPct > thresholds.onboardingPassPct) {
    err('onboardingWarnPct', 'warn_above_pass');
  }
  if (thresholdsTouched) patch.thresholds = thresholds;

  if (Object.keys(errors).length) return { errors, patch: {} };
  return { errors, patch, ...result };
}
