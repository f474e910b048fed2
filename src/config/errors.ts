import type { Locale } from '../core/checklist/model';
import { t, type Vars } from '../i18n';

/**
 * A start-up failure the operator can fix: a port in use, a store that cannot be opened, a Slack token
 * that Slack rejects, a custom template with problems. It carries an i18n key and vars (locales/*.json,
 * `startup.*`), so the binary prints it as one sentence in the operator's language and exits non-zero,
 * without a stack trace. `message` is the English text, for logs and for callers that do not localize.
 * Vars never hold a secret (store URLs are shown without their password).
 */
export class StartupError extends Error {
  constructor(
    readonly key: string,
    readonly vars: Vars = {},
    opts: { cause?: unknown } = {},
  ) {
    super(t('en', key, vars), opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'StartupError';
  }

  /** The message in `locale`. */
  render(locale: Locale): string {
    return t(locale, this.key, this.vars);
  }
}

/** The reason a Node/library error gives, without a trailing period (we end our own sentences). */
export function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  // fetch (undici) says only "fetch failed"; the cause says what happened (connect ECONNREFUSED …).
  if (e?.message === 'fetch failed' && e.cause) return reasonOf(e.cause);
  // Node's AggregateError (both ::1 and 127.0.0.1 refused) has an empty message but a code.
  const msg = typeof e?.message === 'string' && e.message ? e.message : typeof e?.code === 'string' ? e.code : String(err);
  return msg.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}

/** A connection URL for a message: the password replaced by `***` (`redis://:s3cret@h` → `redis://:***@h`). */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/%2A%2A%2A/g, '***');
  } catch {
    return url.replace(/\/\/([^:/@\s]*):[^@\s]*@/g, '//$1:***@');
  }
}
