import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino censors wherever they appear. Secrets never reach a log line: tokens, client secrets,
 * authorization headers, and Slack/Bitwarden request bodies that may carry them.
 */
const REDACT_PATHS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'clientSecret',
  'client_secret',
  'access_token',
  'secret',
  'password',
  'appPassword',
  'encryptionKey',
  'authorization',
  'Authorization',
  '*.token',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
  '*.clientSecret',
  '*.client_secret',
  '*.access_token',
  '*.secret',
  '*.password',
  '*.appPassword',
  '*.encryptionKey',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
  'config.slack',
  'config.bitwarden.clientSecret',
];

const SECRET_PATTERNS: RegExp[] = [/xox[abposr]-[A-Za-z0-9-]+/g, /xapp-[A-Za-z0-9-]+/g, /Bearer\s+[A-Za-z0-9._~+/=-]+/gi, /client_secret=[^&\s]+/gi];

/** Masks token-shaped substrings in free text (error messages from libraries can echo them). */
export function scrub(text: string, extraSecrets: readonly string[] = []): string {
  let out = text;
  for (const re of SECRET_PATTERNS) out = out.replace(re, (m) => `${m.slice(0, 5)}[REDACTED]`);
  for (const s of extraSecrets) if (s && s.length >= 6) out = out.split(s).join('[REDACTED]');
  return out;
}

/**
 * `parent.child(bindings)`, made on first use. A pino child serializes its bindings through the redaction
 * up front (~30 us); a request's logger is mostly never used (it logs only when something goes wrong), so
 * the listeners take this one per request (issue 12, bench/README.md "After the application layer, round 2").
 */
export function lazyChild(parent: Logger, bindings: pino.Bindings): Logger {
  let child: Logger | undefined;
  return new Proxy({} as Logger, {
    get(_target, prop) {
      child ??= parent.child(bindings);
      const value: unknown = Reflect.get(child, prop, child);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(child) : value;
    },
  });
}

export interface LoggerOptions {
  level: string;
  /** Known secret values (from config) masked anywhere in a log line, whatever field they end up in. */
  secrets?: readonly string[];
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const secrets = (opts.secrets ?? []).filter((s) => s && s.length >= 6);
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: { service: 'bwprep' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      // Last line of defence: a secret value that slipped into a message or error text is masked.
      streamWrite: secrets.length || SECRET_PATTERNS.length ? (s) => scrub(s, secrets) : undefined,
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
