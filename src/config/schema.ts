import { z } from 'zod';
import { isValidTimeZone } from '../core/time';
import { t } from '../i18n';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined));

const url = (hint: string) => optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), { message: `must be an http(s) URL, ${hint}` });

/**
 * A whole number of seconds from `min` to `max` (`PORT`'s rules: an empty value is unset, so the default
 * applies).
 */
const seconds = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/**
 * Seconds a digest post may take once the checks are done, allowed for in the digest lease: one Slack
 * request may take up to 30 s (`src/slack/http-client.ts`) and the Web API client retries it (twice,
 * `src/slack/app.ts`); a post slower than this cannot post twice (the slot claim), it only lets another
 * replica retry a failed post sooner.
 */
export const DIGEST_POST_ALLOWANCE_SECONDS = 60;
const CHECK_TIMEOUT_DEFAULT_SECONDS = 120;
const CHECK_TIMEOUT_MAX_SECONDS = 1800;
const LEASE_DEFAULT_SECONDS = 600;

const WEEKDAY_NAMES: Record<string, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };

/** Parses `09:00`, `09:00 Mon-Fri`, `08:30 mon,wed,fri`. */
export function parseDigestTime(v: string): { time: string; weekdays: number[] } | undefined {
  const m = /^\s*([01]\d|2[0-3]):([0-5]\d)\s*(.*)$/.exec(v);
  if (!m) return undefined;
  const time = `${m[1]}:${m[2]}`;
  const rest = (m[3] ?? '').trim().toLowerCase();
  if (!rest) return { time, weekdays: [1, 2, 3, 4, 5] };
  const days = new Set<number>();
  for (const part of rest.split(',')) {
    const [a, b] = part
      .trim()
      .split('-')
      .map((x) => WEEKDAY_NAMES[x.trim().slice(0, 3)]);
    if (a === undefined) return undefined;
    if (b === undefined) {
      if (part.includes('-')) return undefined;
      days.add(a);
    } else {
      for (let d = a; ; d = (d % 7) + 1) {
        days.add(d);
        if (d === b) break;
      }
    }
  }
  return { time, weekdays: [...days].sort((x, y) => x - y) };
}

/**
 * The whole environment of DESIGN §4, parsed once. The texts in the refinements below are notes for the
 * reader of this file; what the operator sees comes from `invalidValue` (locales/*.json, `config.*`). Names ending in _TOKEN, _SECRET, _PASSWORD or _KEY
 * are secrets: never logged (see logging/logger.ts redaction) and never echoed in errors.
 */
export const envSchema = z.object({
  // Slack
  SLACK_BOT_TOKEN: optionalString.refine((v) => v === undefined || v.startsWith('xoxb-'), {
    message: 'must be a bot token starting with xoxb- (Slack app → OAuth & Permissions → Bot User OAuth Token)',
  }),
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString.refine((v) => v === undefined || v.startsWith('xapp-'), {
    message: 'must be an app-level token starting with xapp- (Slack app → Basic Information → App-Level Tokens, scope connections:write)',
  }),
  SLACK_API_URL: url('for example https://slack.com/api/').transform((v) => (v ? (v.endsWith('/') ? v : `${v}/`) : undefined)),
  // Teams (served once the Teams adapter lands; validated now so operators get one consistent message)
  MICROSOFT_APP_ID: optionalString,
  MICROSOFT_APP_PASSWORD: optionalString,
  MICROSOFT_APP_TENANT_ID: optionalString,
  MICROSOFT_APP_TYPE: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).optional(),
  TEAMS_ENABLED: bool,
  TEAMS_ALLOW_UNAUTHENTICATED: bool,
  // Bitwarden
  BW_REGION: z.enum(['us', 'eu', 'self-hosted']).default('us'),
  BW_SERVER_URL: url('the base URL of your self-hosted Bitwarden, e.g. https://vault.example.com'),
  BW_API_URL: url('e.g. https://api.bitwarden.eu'),
  BW_IDENTITY_URL: url('e.g. https://identity.bitwarden.eu'),
  BW_CLIENT_ID: optionalString.refine((v) => v === undefined || /^organization\.[0-9a-f-]{36}$/i.test(v), {
    message: 'must look like organization.<uuid> (Admin Console → Settings → Organization info → API key)',
  }),
  BW_CLIENT_SECRET: optionalString,
  BW_CA_FILE: optionalString,
  // bwprep
  BWPREP_STORE_URL: z
    .string()
    .default('sqlite://./data/bwprep.sqlite')
    .refine((v) => /^(sqlite:\/\/.+|redis(s)?:\/\/.+|postgres(ql)?:\/\/.+)$/.test(v), {
      message: 'must be sqlite://<file>, redis://host:port or postgres://user@host/db',
    }),
  BWPREP_TEMPLATE: optionalString,
  BWPREP_ENCRYPTION_KEY: optionalString.refine((v) => v === undefined || decodeKey(v) !== undefined, {
    message: 'must be 32 bytes as 64 hex characters or base64 (generate one with: openssl rand -hex 32)',
  }),
  BWPREP_LOCALE: z.enum(['nl', 'en']).default('nl'),
  BWPREP_TIMEZONE: z.string().default('Europe/Amsterdam').refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Amsterdam' }),
  BWPREP_DIGEST_TIME: z
    .string()
    .default('09:00')
    .refine((v) => parseDigestTime(v) !== undefined, { message: 'must be HH:mm with optional weekdays, e.g. 09:00 or 08:30 Mon-Fri' }),
  BWPREP_ADMINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .refine((list) => list.every((a) => /^(slack|teams|cli):\S+$/.test(a)), {
      message: 'must be a comma list like slack:U0123ABC,teams:<aadObjectId>',
    }),
  BWPREP_PUBLIC_URL: url('the public base URL of this bot, used in links (optional)'),
  // The digest scheduler (ARCHITECTURE.md, "Digest, reminders, scheduler"): how often it looks for due
  // digests, how long the checks before a digest may take, and how long a replica holds a digest's lease.
  BWPREP_SCHEDULER_INTERVAL_SECONDS: seconds(1, 600, 60),
  BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS: seconds(1, CHECK_TIMEOUT_MAX_SECONDS, CHECK_TIMEOUT_DEFAULT_SECONDS),
  // At least the check timeout + DIGEST_POST_ALLOWANCE_SECONDS (crossVariableProblems).
  BWPREP_DIGEST_LEASE_SECONDS: seconds(1, 3600, LEASE_DEFAULT_SECONDS),
  // Where Slack commands' and clicks' work after the ack runs (src/work-thread/, ARCHITECTURE.md).
  BWPREP_SLACK_WORK_THREAD: z.enum(['auto', 'on', 'off']).default('auto'),
  // The living card (ARCHITECTURE.md, "The living card"): the shortest time between two updates of one
  // rollout's cards; changes in between are shown together by the next update.
  BWPREP_CARD_UPDATE_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  PORT: z.coerce
    .number({ message: 'must be a port number such as 3000' })
    .int({ message: 'must be a whole port number such as 3000' })
    .min(0, { message: 'must be 0–65535' })
    .max(65535, { message: 'must be 0–65535' })
    .default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/**
 * One wrong setting: the variable and an i18n key (`config.invalid.*` / `config.missing.*` in
 * locales/*.json) whose text is a whole sentence that names the variable and says what it must be.
 * `message` is that sentence in English (logs, tests). A value is never echoed (it may be a secret).
 */
export interface ConfigProblem {
  variable: string;
  key: string;
  vars?: Record<string, string>;
  message: string;
}

/** Variables whose invalid value has its own sentence (`config.invalid.<lower-case name>`). */
const OWN_SENTENCE = new Set([
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_API_URL',
  'MICROSOFT_APP_TYPE',
  'BW_REGION',
  'BW_SERVER_URL',
  'BW_API_URL',
  'BW_IDENTITY_URL',
  'BW_CLIENT_ID',
  'BWPREP_STORE_URL',
  'BWPREP_ENCRYPTION_KEY',
  'BWPREP_LOCALE',
  'BWPREP_TIMEZONE',
  'BWPREP_DIGEST_TIME',
  'BWPREP_ADMINS',
  'BWPREP_PUBLIC_URL',
  'BWPREP_SCHEDULER_INTERVAL_SECONDS',
  'BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS',
  'BWPREP_DIGEST_LEASE_SECONDS',
  'BWPREP_CARD_UPDATE_INTERVAL_MS',
  'BWPREP_SLACK_WORK_THREAD',
  'PORT',
  'LOG_LEVEL',
]);
const BOOLEANS = new Set(['TEAMS_ENABLED', 'TEAMS_ALLOW_UNAUTHENTICATED']);

function problem(variable: string, key: string, vars: Record<string, string> = {}): ConfigProblem {
  return { variable, key, ...(Object.keys(vars).length ? { vars } : {}), message: t('en', key, { variable, ...vars }) };
}

/** The problem for a variable the schema refused, in our words rather than zod's. */
export function invalidValue(variable: string): ConfigProblem {
  if (OWN_SENTENCE.has(variable)) return problem(variable, `config.invalid.${variable.toLowerCase()}`);
  if (BOOLEANS.has(variable)) return problem(variable, 'config.invalid.boolean');
  return problem(variable, 'config.invalid.other');
}

/**
 * Checks that span variables. They run on the raw environment, apart from the schema, so they are listed
 * together with type errors (zod skips refinements once a field fails) and the operator sees every problem
 * in one go.
 */
export function crossVariableProblems(env: Record<string, string | undefined>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const has = (k: string) => Boolean(env[k]?.trim());
  const add = (variable: string, key: string, vars?: Record<string, string>) => out.push(problem(variable, key, vars));
  // A platform that is configured must be configured completely.
  if (has('SLACK_BOT_TOKEN') || has('SLACK_SIGNING_SECRET') || has('SLACK_APP_TOKEN')) {
    if (!has('SLACK_BOT_TOKEN')) add('SLACK_BOT_TOKEN', 'config.missing.slack_bot_token');
    if (!has('SLACK_APP_TOKEN') && !has('SLACK_SIGNING_SECRET')) add('SLACK_SIGNING_SECRET', 'config.missing.slack_signing_secret');
  }
  const truthy = (k: string) => ['true', '1', 'yes'].includes((env[k] ?? '').trim());
  if (truthy('TEAMS_ENABLED') && !has('MICROSOFT_APP_ID') && !truthy('TEAMS_ALLOW_UNAUTHENTICATED')) add('MICROSOFT_APP_ID', 'config.missing.microsoft_app_id');
  if (has('MICROSOFT_APP_ID') && !has('MICROSOFT_APP_PASSWORD') && env.MICROSOFT_APP_TYPE !== 'UserAssignedMSI')
    add('MICROSOFT_APP_PASSWORD', 'config.missing.microsoft_app_password');
  // botbuilder's ConfigurationServiceClientCredentialFactory asserts these at start; say it in our words first.
  if (has('MICROSOFT_APP_ID') && ['SingleTenant', 'UserAssignedMSI'].includes(env.MICROSOFT_APP_TYPE?.trim() ?? '') && !has('MICROSOFT_APP_TENANT_ID'))
    add('MICROSOFT_APP_TENANT_ID', 'config.missing.microsoft_app_tenant_id', { type: env.MICROSOFT_APP_TYPE?.trim() ?? '' });
  if (env.MICROSOFT_APP_TYPE?.trim() === 'UserAssignedMSI' && has('MICROSOFT_APP_PASSWORD'))
    add('MICROSOFT_APP_PASSWORD', 'config.missing.microsoft_app_password_msi');
  if (env.BW_REGION?.trim() === 'self-hosted' && !has('BW_SERVER_URL') && !(has('BW_API_URL') && has('BW_IDENTITY_URL')))
    add('BW_SERVER_URL', 'config.missing.bw_server_url');
  if (has('BW_CLIENT_ID') !== has('BW_CLIENT_SECRET'))
    add(has('BW_CLIENT_ID') ? 'BW_CLIENT_SECRET' : 'BW_CLIENT_ID', 'config.missing.bw_client_pair', {
      present: has('BW_CLIENT_ID') ? 'BW_CLIENT_ID' : 'BW_CLIENT_SECRET',
    });
  // The digest lease must outlast the checks and the post, or a second replica starts the same digest's work.
  // (Only when both are whole numbers and the check timeout is in its range; otherwise the schema says so.)
  const lease = wholeNumber(env.BWPREP_DIGEST_LEASE_SECONDS, LEASE_DEFAULT_SECONDS);
  const checks = wholeNumber(env.BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS, CHECK_TIMEOUT_DEFAULT_SECONDS);
  if (lease !== undefined && checks !== undefined && checks >= 1 && checks <= CHECK_TIMEOUT_MAX_SECONDS && lease < checks + DIGEST_POST_ALLOWANCE_SECONDS)
    add('BWPREP_DIGEST_LEASE_SECONDS', 'config.invalid.digest_lease_too_short', {
      min: String(checks + DIGEST_POST_ALLOWANCE_SECONDS),
      timeout: String(checks),
      post: String(DIGEST_POST_ALLOWANCE_SECONDS),
    });
  return out;
}

/** A set variable as a whole number (undefined when it is not one: the schema reports that), else `fallback`. */
function wholeNumber(v: string | undefined, fallback: number): number | undefined {
  if (v === undefined || !v.trim()) return fallback;
  const n = Number(v.trim());
  return Number.isInteger(n) ? n : undefined;
}

export type Env = z.infer<typeof envSchema>;

/** A 32-byte key from 64 hex chars or base64; undefined when it is not one. */
export function decodeKey(v: string): Buffer | undefined {
  const s = v.trim();
  if (/^[0-9a-f]{64}$/i.test(s)) return Buffer.from(s, 'hex');
  try {
    const b = Buffer.from(s, 'base64');
    return b.length === 32 ? b : undefined;
  } catch {
    return undefined;
  }
}
