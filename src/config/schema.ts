import { z } from 'zod';
import { isValidTimeZone } from '../core/time';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined));

const url = (hint: string) =>
  optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), { message: `must be an http(s) URL, ${hint}` });

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
    const [a, b] = part.trim().split('-').map((x) => WEEKDAY_NAMES[x.trim().slice(0, 3)]);
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
 * The whole environment of DESIGN §4, parsed once. Names ending in _TOKEN, _SECRET, _PASSWORD or _KEY
 * are secrets: never logged (see logging/logger.ts redaction) and never echoed in errors.
 */
export const envSchema = z
  .object({
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
    BWPREP_ENCRYPTION_KEY: optionalString.refine((v) => v === undefined || decodeKey(v) !== undefined, {
      message: 'must be 32 bytes as 64 hex characters or base64 (generate one with: openssl rand -hex 32)',
    }),
    BWPREP_LOCALE: z.enum(['nl', 'en']).default('nl'),
    BWPREP_TIMEZONE: z
      .string()
      .default('Europe/Amsterdam')
      .refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Amsterdam' }),
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
    PORT: z.coerce.number({ message: 'must be a port number such as 3000' }).int({ message: 'must be a whole port number such as 3000' }).min(0, { message: 'must be 0–65535' }).max(65535, { message: 'must be 0–65535' }).default(3000),
    HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  ;

/**
 * Checks that span variables. They run on the raw environment, apart from the schema, so they are listed
 * together with type errors (zod skips refinements once a field fails) and the operator sees every problem
 * in one go.
 */
export function crossVariableProblems(env: Record<string, string | undefined>): { variable: string; message: string }[] {
  const out: { variable: string; message: string }[] = [];
  const has = (k: string) => Boolean(env[k]?.trim());
  const add = (variable: string, message: string) => out.push({ variable, message });
  // A platform that is configured must be configured completely.
  if (has('SLACK_BOT_TOKEN') || has('SLACK_SIGNING_SECRET') || has('SLACK_APP_TOKEN')) {
    if (!has('SLACK_BOT_TOKEN')) add('SLACK_BOT_TOKEN', 'is required when Slack is configured (Slack app → OAuth & Permissions → Bot User OAuth Token)');
    if (!has('SLACK_APP_TOKEN') && !has('SLACK_SIGNING_SECRET'))
      add('SLACK_SIGNING_SECRET', 'is required for Slack over HTTP (Slack app → Basic Information → Signing Secret); or set SLACK_APP_TOKEN for Socket Mode');
  }
  const truthy = (k: string) => ['true', '1', 'yes'].includes((env[k] ?? '').trim());
  if (truthy('TEAMS_ENABLED') && !has('MICROSOFT_APP_ID') && !truthy('TEAMS_ALLOW_UNAUTHENTICATED'))
    add('MICROSOFT_APP_ID', 'is required when TEAMS_ENABLED=true (or set TEAMS_ALLOW_UNAUTHENTICATED=true for a local emulator only)');
  if (has('MICROSOFT_APP_ID') && !has('MICROSOFT_APP_PASSWORD') && env.MICROSOFT_APP_TYPE !== 'UserAssignedMSI')
    add('MICROSOFT_APP_PASSWORD', 'is required with MICROSOFT_APP_ID');
  // botbuilder's ConfigurationServiceClientCredentialFactory asserts these at start; say it in our words first.
  if (has('MICROSOFT_APP_ID') && ['SingleTenant', 'UserAssignedMSI'].includes(env.MICROSOFT_APP_TYPE?.trim() ?? '') && !has('MICROSOFT_APP_TENANT_ID'))
    add('MICROSOFT_APP_TENANT_ID', `is required when MICROSOFT_APP_TYPE=${env.MICROSOFT_APP_TYPE?.trim()} (Azure Bot → Configuration → App Tenant ID)`);
  if (env.MICROSOFT_APP_TYPE?.trim() === 'UserAssignedMSI' && has('MICROSOFT_APP_PASSWORD'))
    add('MICROSOFT_APP_PASSWORD', 'must be empty when MICROSOFT_APP_TYPE=UserAssignedMSI (the managed identity needs no secret)');
  if (env.BW_REGION?.trim() === 'self-hosted' && !has('BW_SERVER_URL') && !(has('BW_API_URL') && has('BW_IDENTITY_URL')))
    add('BW_SERVER_URL', 'is required when BW_REGION=self-hosted (or set both BW_API_URL and BW_IDENTITY_URL)');
  if (has('BW_CLIENT_ID') !== has('BW_CLIENT_SECRET'))
    add(has('BW_CLIENT_ID') ? 'BW_CLIENT_SECRET' : 'BW_CLIENT_ID', 'BW_CLIENT_ID and BW_CLIENT_SECRET go together (the organization API key)');
  return out;
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
