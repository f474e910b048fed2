import type { Locale, Message, RolloutSettings, UserKey } from '../core/checklist/model';
import type { SetupField, SetupInput } from '../core/checklist/settings';
import { formatDate, policyName, t } from '../i18n';
import type { SetupFormView } from '../interactions/ports';
import { consoleUser, DEFAULT_WIDTH, displayWidth, hang, wrap } from './text-renderer';

/**
 * `setup` in the terminal console: the same settings as the Slack setup modal, one per line, changed one
 * at a time with `setup <name> <value>`. The console only turns the typed words into a SetupInput; the
 * application layer validates it (validateSetup, via Interactions.submitSetup) exactly as for the modal.
 */

/** The console's names of the settings, in the modal's order, with the SetupInput field each one fills. */
export const SETTINGS = [
  ['language', 'locale'],
  ['hosting', 'hosting'],
  ['api-key', 'clientId'],
  ['digest', 'digestEnabled'],
  ['digest-time', 'digestTime'],
  ['timezone', 'timezone'],
  ['weekdays', 'weekdays'],
  ['go-live', 'goLive'],
  ['admins', 'admins'],
  ['policies', 'desiredPolicies'],
  ['extension-pass', 'extensionPassPct'],
  ['onboarding-pass', 'onboardingPassPct'],
  ['onboarding-warn', 'onboardingWarnPct'],
  ['min-owners', 'minOwners'],
] as const satisfies readonly (readonly [string, SetupField])[];

export type SettingName = (typeof SETTINGS)[number][0];

const NAMES = SETTINGS.map(([n]) => n) as readonly string[];
const NONE = new Set(['none', 'geen', '-', 'clear']);
const ON = new Set(['on', 'aan', 'yes', 'ja', 'true']);
const OFF = new Set(['off', 'uit', 'no', 'nee', 'false']);
/** English and Dutch day names (first letters) → ISO weekday. */
const DAYS: Record<string, number> = {
  ...{ mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7, mo: 1, tu: 2, we: 3, th: 4, fr: 5, sa: 6, su: 7 },
  ...{ ma: 1, di: 2, wo: 3, do: 4, vr: 5, za: 6, zo: 7 },
};

/** A setting the console cannot read, as a message for the person (with the setting's syntax). */
export class SetupInputError extends Error {
  constructor(
    readonly userMessage: Message,
    readonly setting?: SettingName,
  ) {
    super(userMessage.key);
  }
}

function day(token: string): number | undefined {
  const x = token.toLowerCase();
  if (/^[1-7]$/.test(x)) return Number(x);
  return DAYS[x.slice(0, 3)] ?? DAYS[x.slice(0, 2)];
}

/** `mon-fri`, `1-5`, `mon,wed,fri`, `ma wo vr` → ISO weekdays; throws on a word that is no day. */
function parseWeekdays(value: string): number[] {
  const days = new Set<number>();
  for (const part of value.split(/[\s,]+/).filter(Boolean)) {
    const [a, b, ...more] = part.split(/[-–]/);
    const from = a ? day(a) : undefined;
    const to = b === undefined ? from : day(b);
    if (from === undefined || to === undefined || more.length)
      throw new SetupInputError({ key: 'console.setup.bad_weekday', vars: { value: part } }, 'weekdays');
    for (let d = from; ; d = (d % 7) + 1) {
      days.add(d);
      if (d === to) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

/**
 * `setup <name> <value…>` → the one field of a SetupInput it changes. Throws SetupInputError for an
 * unknown name, a missing value or words the console cannot read (e.g. a day name); everything else —
 * including a wrong time zone or an out-of-range number — is left to validateSetup.
 */
export function parseSetting(name: string, args: string[], resolveUser: (token: string) => UserKey | undefined): SetupInput {
  const setting = name.toLowerCase() as SettingName;
  if (!NAMES.includes(setting)) throw new SetupInputError({ key: 'console.setup.unknown', vars: { name, names: NAMES.join(', ') } });
  const value = args.join(' ').trim();
  if (!value) throw new SetupInputError({ key: 'console.setup.missing_value', vars: { name: setting } }, setting);
  const lower = value.toLowerCase();
  switch (setting) {
    case 'language':
      return { locale: lower };
    case 'hosting': {
      const [kind = '', url] = args;
      const hosting = { us: 'cloud-us', eu: 'cloud-eu' }[kind.toLowerCase()] ?? kind.toLowerCase();
      return { hosting, serverUrl: url ?? '' };
    }
    case 'api-key':
      if (NONE.has(lower)) return { clientId: '', clientSecret: '' };
      return { clientId: args[0] ?? '', clientSecret: args[1] ?? '' };
    case 'digest':
      if (ON.has(lower)) return { digestEnabled: true };
      if (OFF.has(lower)) return { digestEnabled: false };
      throw new SetupInputError({ key: 'console.setup.bad_on_off', vars: { value } }, setting);
    case 'digest-time':
      return { digestTime: value };
    case 'timezone':
      return { timezone: value };
    case 'weekdays':
      return { weekdays: parseWeekdays(value).map(String) };
    case 'go-live':
      return { goLive: NONE.has(lower) ? '' : value };
    case 'admins': {
      if (NONE.has(lower)) return { admins: [] };
      const admins = args.map((a) => {
        const user = resolveUser(a.replace(/,$/, ''));
        if (!user) throw new SetupInputError({ key: 'console.bad_user', vars: { value: a } }, setting);
        return user;
      });
      return { admins };
    }
    case 'policies': {
      if (NONE.has(lower)) return { desiredPolicies: [] };
      const parts = value.split(/[\s,]+/).filter(Boolean);
      const bad = parts.find((p) => !/^\d{1,3}$/.test(p));
      if (bad !== undefined) throw new SetupInputError({ key: 'console.setup.bad_policy', vars: { value: bad } }, setting);
      return { desiredPolicies: parts };
    }
    case 'extension-pass':
      return { extensionPassPct: value };
    case 'onboarding-pass':
      return { onboardingPassPct: value };
    case 'onboarding-warn':
      return { onboardingWarnPct: value };
    case 'min-owners':
      return { minOwners: value };
  }
}

/** The console name of the setting that a SetupInput field belongs to (server URL and secret: their setting). */
export function settingOf(field: SetupField): SettingName {
  if (field === 'serverUrl') return 'hosting';
  if (field === 'clientSecret') return 'api-key';
  return SETTINGS.find(([, f]) => f === field)?.[0] ?? 'language';
}

/** Mon–Fri style: runs of three or more days as a range, with the locale's short day names. */
function weekdays(locale: Locale, days: number[]): string {
  const name = (d: number) =>
    t(locale, `setup.weekday.${d}`)
      .slice(0, locale === 'nl' ? 2 : 3)
      .toLowerCase();
  const out: string[] = [];
  for (let i = 0; i < days.length;) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === days[j]! + 1) j++;
    if (j - i >= 2) out.push(`${name(days[i]!)}-${name(days[j]!)}`);
    else for (let k = i; k <= j; k++) out.push(name(days[k]!));
    i = j + 1;
  }
  return out.join(',');
}

/** Each setting's current value, as the person reads it. */
function settingValues(form: Pick<SetupFormView, 'settings' | 'locale'>, formatUser: (k: UserKey) => string = consoleUser): Record<SettingName, string> {
  const s: RolloutSettings = form.settings;
  const L = form.locale;
  const none = t(L, 'console.setup.none');
  return {
    language: `${t(L, `setup.language.${s.locale}`)} (${s.locale})`,
    hosting: `${t(L, `hosting.${s.hosting}`)}${s.hosting === 'self-hosted' && s.serverUrl ? ` · ${s.serverUrl}` : ''}`,
    'api-key': s.credentials ? t(L, 'console.setup.api_key_saved', { clientId: s.credentials.clientId }) : t(L, 'console.setup.api_key_default'),
    digest: t(L, s.digestEnabled ? 'console.setup.on' : 'console.setup.off'),
    'digest-time': s.digestTime,
    // The saved zone, not the form's proposal (the admin's own zone before the first setup): the console
    // changes one setting at a time, so the others stay as they are.
    timezone: s.timezone,
    weekdays: weekdays(L, s.weekdays),
    'go-live': s.goLive ? `${s.goLive} (${formatDate(L, s.goLive, 'long')})` : none,
    admins: s.admins.length ? s.admins.map(formatUser).join(' ') : none,
    policies: s.desiredPolicies.length ? s.desiredPolicies.map((p) => policyName(L, p)).join(', ') : none,
    'extension-pass': `${s.thresholds.extensionPassPct}%`,
    'onboarding-pass': `${s.thresholds.onboardingPassPct}%`,
    'onboarding-warn': `${s.thresholds.onboardingWarnPct}%`,
    'min-owners': String(s.thresholds.minOwners),
  };
}

/**
 * `setup` without arguments: every setting with its value, then how to change one. `persistent: false`
 * adds that nothing is kept (an in-memory store).
 */
export function renderSetupText(form: SetupFormView, opts: { width?: number; formatUser?: (k: UserKey) => string } = {}): string {
  const width = opts.width ?? DEFAULT_WIDTH;
  const L = form.locale;
  const values = settingValues(form, opts.formatUser);
  const nameWidth = Math.max(...NAMES.map((n) => displayWidth(n)));
  const out = [...wrap(t(L, 'console.setup.title'), width), ''];
  for (const [name] of SETTINGS) {
    const first = `  ${name.padEnd(nameWidth)}  `;
    out.push(...hang(values[name], width, first));
  }
  out.push('', ...wrap(t(L, 'console.setup.how'), width));
  for (const [name] of SETTINGS) out.push(...hang(t(L, `console.setup.form.${name}`), width, `  setup ${name} `, '      '));
  if (!form.encryptionAvailable) out.push('', ...wrap(t(L, 'console.setup.no_encryption_key'), width));
  return out.join('\n');
}
