import type { Hosting, Locale } from '../core/checklist/model';
import type { RolloutDefaults } from '../core/checklist/service';
import { t } from '../i18n';
import { type ConfigProblem, crossVariableProblems, decodeKey, type Env, envSchema, invalidValue, parseDigestTime } from './schema';

export type { ConfigProblem } from './schema';

export interface BitwardenEndpoints {
  hosting: Hosting;
  apiUrl: string;
  identityUrl: string;
  /** Self-hosted base URL, for /api/config probes. */
  serverUrl?: string;
}

export interface Config {
  slack?: {
    botToken: string;
    signingSecret?: string;
    appToken?: string;
    apiUrl?: string;
    socketMode: boolean;
    /** BWPREP_SLACK_WORK_THREAD: where post-ack work runs (src/work-thread/). */
    workThread: 'auto' | 'on' | 'off';
  };
  teams?: {
    appId?: string;
    appPassword?: string;
    tenantId?: string;
    appType?: string;
    allowUnauthenticated: boolean;
  };
  bitwarden: BitwardenEndpoints & {
    clientId?: string;
    clientSecret?: string;
    caFile?: string;
  };
  storeUrl: string;
  /** BWPREP_TEMPLATE: a custom checklist template file for new rollouts; undefined = the built-in one. */
  templateFile?: string;
  encryptionKey?: Buffer;
  defaults: RolloutDefaults;
  admins: string[];
  http: { port: number; host: string; publicUrl?: string };
  /**
   * The digest scheduler, in milliseconds: `intervalMs` between ticks (BWPREP_SCHEDULER_INTERVAL_SECONDS),
   * `checkTimeoutMs` for the checks before a digest (BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS) and `digestLeaseMs`,
   * the TTL of a digest's lease (BWPREP_DIGEST_LEASE_SECONDS, at least the check timeout plus
   * DIGEST_POST_ALLOWANCE_SECONDS). A replica that dies holding a lease delays that digest by at most
   * `digestLeaseMs + intervalMs` (ARCHITECTURE.md, "Digest, reminders, scheduler").
   */
  scheduler: { intervalMs: number; checkTimeoutMs: number; digestLeaseMs: number };
  /** The living card: `updateIntervalMs`, the shortest time between two updates of one rollout's cards (BWPREP_CARD_UPDATE_INTERVAL_MS). */
  cards: { updateIntervalMs: number };
  logLevel: Env['LOG_LEVEL'];
}

/**
 * Every wrong setting at once. `message` is English; `render(locale)` gives the same text in Dutch or
 * English (keys `config.*` in locales/*.json). No message ever holds a setting's value.
 */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(formatProblems(problems, 'en'));
    this.name = 'ConfigError';
  }

  render(locale: Locale): string {
    return formatProblems(this.problems, locale);
  }
}

/** One sentence per problem under a header and a closing hint, e.g. "  - BWPREP_LOCALE must be nl or en." */
function formatProblems(problems: ConfigProblem[], locale: Locale = 'en'): string {
  return [
    t(locale, 'config.header', { count: problems.length }),
    ...problems.map((p) => `  - ${t(locale, p.key, { variable: p.variable, ...(p.vars ?? {}) })}`),
    t(locale, 'config.footer'),
  ].join('\n');
}

/** Endpoints for a hosting choice: cloud US/EU, or a self-hosted base URL (→ /api, /identity). */
export function bitwardenEndpoints(hosting: Hosting, serverUrl?: string, overrides: { apiUrl?: string; identityUrl?: string } = {}): BitwardenEndpoints {
  const base = serverUrl?.replace(/\/+$/, '');
  const defaults =
    hosting === 'cloud-eu'
      ? { apiUrl: 'https://api.bitwarden.eu', identityUrl: 'https://identity.bitwarden.eu' }
      : hosting === 'self-hosted' && base
        ? { apiUrl: `${base}/api`, identityUrl: `${base}/identity` }
        : { apiUrl: 'https://api.bitwarden.com', identityUrl: 'https://identity.bitwarden.com' };
  return {
    hosting,
    apiUrl: (overrides.apiUrl ?? defaults.apiUrl).replace(/\/+$/, ''),
    identityUrl: (overrides.identityUrl ?? defaults.identityUrl).replace(/\/+$/, ''),
    ...(base ? { serverUrl: base } : {}),
  };
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`PORT=` in a .env or compose template) means "not set": the default applies.
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(env);
  // One problem per variable, in our own words (zod may report several issues for one value).
  const problems: ConfigProblem[] = [];
  for (const p of [...(parsed.success ? [] : parsed.error.issues.map((i) => invalidValue(String(i.path[0] ?? 'environment')))), ...crossVariableProblems(env)])
    if (!problems.some((x) => x.variable === p.variable)) problems.push(p);
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const e = parsed.data;
  const hosting: Hosting = e.BW_REGION === 'eu' ? 'cloud-eu' : e.BW_REGION === 'self-hosted' ? 'self-hosted' : 'cloud-us';
  const digest = parseDigestTime(e.BWPREP_DIGEST_TIME) ?? { time: '09:00', weekdays: [1, 2, 3, 4, 5] };
  const slackConfigured = Boolean(e.SLACK_BOT_TOKEN);
  return {
    ...(slackConfigured
      ? {
          slack: {
            botToken: e.SLACK_BOT_TOKEN as string,
            ...(e.SLACK_SIGNING_SECRET ? { signingSecret: e.SLACK_SIGNING_SECRET } : {}),
            ...(e.SLACK_APP_TOKEN ? { appToken: e.SLACK_APP_TOKEN } : {}),
            ...(e.SLACK_API_URL ? { apiUrl: e.SLACK_API_URL } : {}),
            socketMode: Boolean(e.SLACK_APP_TOKEN),
            workThread: e.BWPREP_SLACK_WORK_THREAD,
          },
        }
      : {}),
    ...(e.TEAMS_ENABLED
      ? {
          teams: {
            ...(e.MICROSOFT_APP_ID ? { appId: e.MICROSOFT_APP_ID } : {}),
            ...(e.MICROSOFT_APP_PASSWORD ? { appPassword: e.MICROSOFT_APP_PASSWORD } : {}),
            ...(e.MICROSOFT_APP_TENANT_ID ? { tenantId: e.MICROSOFT_APP_TENANT_ID } : {}),
            ...(e.MICROSOFT_APP_TYPE ? { appType: e.MICROSOFT_APP_TYPE } : {}),
            allowUnauthenticated: e.TEAMS_ALLOW_UNAUTHENTICATED,
          },
        }
      : {}),
    bitwarden: {
      ...bitwardenEndpoints(hosting, e.BW_SERVER_URL, {
        ...(e.BW_API_URL ? { apiUrl: e.BW_API_URL } : {}),
        ...(e.BW_IDENTITY_URL ? { identityUrl: e.BW_IDENTITY_URL } : {}),
      }),
      ...(e.BW_CLIENT_ID ? { clientId: e.BW_CLIENT_ID } : {}),
      ...(e.BW_CLIENT_SECRET ? { clientSecret: e.BW_CLIENT_SECRET } : {}),
      ...(e.BW_CA_FILE ? { caFile: e.BW_CA_FILE } : {}),
    },
    storeUrl: e.BWPREP_STORE_URL,
    ...(e.BWPREP_TEMPLATE ? { templateFile: e.BWPREP_TEMPLATE } : {}),
    ...(e.BWPREP_ENCRYPTION_KEY ? { encryptionKey: decodeKey(e.BWPREP_ENCRYPTION_KEY) as Buffer } : {}),
    defaults: {
      locale: e.BWPREP_LOCALE,
      hosting,
      ...(e.BW_SERVER_URL ? { serverUrl: e.BW_SERVER_URL.replace(/\/+$/, '') } : {}),
      timezone: e.BWPREP_TIMEZONE,
      digestTime: digest.time,
      weekdays: digest.weekdays,
    },
    admins: e.BWPREP_ADMINS,
    http: { port: e.PORT, host: e.HOST, ...(e.BWPREP_PUBLIC_URL ? { publicUrl: e.BWPREP_PUBLIC_URL } : {}) },
    scheduler: {
      intervalMs: e.BWPREP_SCHEDULER_INTERVAL_SECONDS * 1000,
      checkTimeoutMs: e.BWPREP_DIGEST_CHECK_TIMEOUT_SECONDS * 1000,
      digestLeaseMs: e.BWPREP_DIGEST_LEASE_SECONDS * 1000,
    },
    cards: { updateIntervalMs: e.BWPREP_CARD_UPDATE_INTERVAL_MS },
    logLevel: e.LOG_LEVEL,
  };
}
