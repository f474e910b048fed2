import type { Message } from './checklist/model';

/**
 * Every expected failure carries a stable code and a localizable message (an i18n key + vars).
 * Platform error handlers render `userMessage` in the reader's language; logs get `code` and `cause`.
 */
export type ErrorCode =
  | 'unknown_step'
  | 'unknown_command'
  | 'bad_usage'
  | 'bad_date'
  | 'bad_user'
  | 'forbidden'
  | 'invalid_transition'
  | 'not_applicable_step'
  | 'conflict'
  | 'check_in_progress'
  | 'no_credentials'
  | 'no_encryption_key'
  | 'bitwarden_auth'
  | 'bitwarden_region'
  | 'bitwarden_unavailable'
  | 'bitwarden_rate_limited'
  | 'bitwarden_timeout'
  | 'bitwarden_bad_response'
  | 'bitwarden_not_supported'
  | 'bitwarden_tls'
  | 'invalid_setting'
  | 'not_available'
  | 'internal';

export class BwprepError extends Error {
  readonly code: ErrorCode;
  readonly userMessage: Message;
  /** Extra usage hint to show (i18n key), e.g. the grammar of the command that failed. */
  readonly usage?: Message;

  constructor(code: ErrorCode, userMessage: Message, opts: { cause?: unknown; usage?: Message; detail?: string } = {}) {
    super(opts.detail ?? `${code}: ${userMessage.key}`, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'BwprepError';
    this.code = code;
    this.userMessage = userMessage;
    this.usage = opts.usage;
  }
}

export function isBwprepError(e: unknown): e is BwprepError {
  return e instanceof BwprepError || (typeof e === 'object' && e !== null && (e as { name?: string }).name === 'BwprepError');
}
