import { randomUUID } from 'node:crypto';
import type { Locale, Message } from '../core/checklist/model';
import { isBwprepError } from '../core/errors';
import { renderRich, tr } from '../i18n';
import type { Rich } from '../views/rich';
import { isStoreUnavailable } from '../store/unavailable';

/**
 * The one place where a failure becomes what the user reads. Platforms throw the typed errors below (or a
 * BwprepError); everything else is unexpected: logged with a reference the user can quote.
 */

/** The card a surface was asked to update no longer exists (deleted message, deleted channel). */
export class CardGoneError extends Error {
  constructor(readonly reason: string) {
    super(`card gone: ${reason}`);
    this.name = 'CardGoneError';
  }
}

/**
 * Why a platform call failed, classified once per platform (e.g. Slack's error codes):
 * - `lasting`: a condition of the conversation or installation that retrying will not fix (bot not in the
 *   channel, channel archived, token revoked, a missing scope);
 * - `transient`: retrying later may work (rate limited, platform outage);
 * - `user`: the request itself went stale (an expired trigger) — the user can simply try again.
 * `hint` is the locale key that tells the user what to do; `vars` fills it.
 */
export class PlatformError extends Error {
  /**
   * The request may have been carried out although it failed here: the answer never came (a timeout, a
   * connection lost after sending, a 5xx). A post that failed so may be in the conversation.
   */
  readonly uncertain: boolean;

  constructor(
    readonly platform: string,
    readonly code: string,
    readonly kind: 'lasting' | 'transient' | 'user',
    readonly hint: Message,
    options?: { cause?: unknown; uncertain?: boolean },
  ) {
    super(`${platform}: ${code}`, options);
    this.name = 'PlatformError';
    this.uncertain = options?.uncertain ?? false;
  }
}

export function isPlatformError(e: unknown): e is PlatformError {
  return e instanceof PlatformError;
}

export interface ErrorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ErrorMetrics {
  errors: { inc(labels: { code: string }): void };
}

const USAGE_CODES = new Set(['unknown_step', 'bad_usage', 'bad_date', 'bad_user']);

/**
 * Any failure as lines for the user in `locale`: a refusal shows its message and, for input errors, how
 * the command is written; a platform condition shows what to do (logged at warn); anything else is logged
 * at error with a reference the user sees.
 */
export function describeError(e: unknown, locale: Locale, logger: ErrorLogger, metrics?: ErrorMetrics, commandUsage?: Message): Rich[] {
  if (isBwprepError(e)) {
    metrics?.errors.inc({ code: e.code });
    logger.info({ code: e.code, key: e.userMessage.key }, 'request refused');
    const lines: Rich[] = [renderRich(locale, e.userMessage)];
    // Input errors found past the parser (an unknown step id) still show how the command is written.
    const usage = e.usage ?? (commandUsage && USAGE_CODES.has(e.code) ? commandUsage : undefined);
    if (usage) lines.push([...tr(locale, 'error.usage_prefix'), ' ', ...renderRich(locale, usage)]);
    return lines;
  }
  if (isStoreUnavailable(e)) {
    // Every store write is atomic, so a failed one changed nothing; the store comes back without a restart.
    metrics?.errors.inc({ code: 'store_unavailable' });
    logger.warn({ err: e }, 'store unavailable');
    return [tr(locale, 'error.store_unavailable')];
  }
  if (isPlatformError(e)) {
    metrics?.errors.inc({ code: `${e.platform}:${e.code}` });
    logger.warn({ platform: e.platform, code: e.code, kind: e.kind }, 'platform refused the request');
    return [renderRich(locale, e.hint)];
  }
  const ref = randomUUID().slice(0, 8);
  metrics?.errors.inc({ code: 'internal' });
  logger.error({ err: e, ref }, 'unexpected error');
  return [tr(locale, 'error.internal', { ref })];
}
