import { randomUUID } from 'node:crypto';
import type { Locale, Message } from '../core/checklist/model';
import { isBwprepError } from '../core/errors';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics';
import { render, t } from '../i18n';
import { isStoreUnavailable } from '../store/unavailable';
import { slackUser } from './blocks/limits';

const USAGE_CODES = new Set(['unknown_step', 'bad_usage', 'bad_date', 'bad_user']);

/**
 * One place that turns any failure into a localized message for the user: expected errors (BwprepError)
 * show their message and the right usage; anything else logs the details with a reference the user sees.
 */
export function describeError(e: unknown, locale: Locale, logger: Logger, metrics?: Metrics, commandUsage?: Message): string {
  if (isBwprepError(e)) {
    metrics?.errors.inc({ code: e.code });
    logger.info({ code: e.code, key: e.userMessage.key }, 'request refused');
    const lines = [`⚠️ ${render(locale, e.userMessage, slackUser)}`];
    // Input errors found past the parser (an unknown step id) still show how the command is written.
    const usage = e.usage ?? (commandUsage && USAGE_CODES.has(e.code) ? commandUsage : undefined);
    if (usage) lines.push(`${t(locale, 'error.usage_prefix')} ${render(locale, usage)}`);
    return lines.join('\n');
  }
  if (isStoreUnavailable(e)) {
    // Every store write is atomic, so a failed one changed nothing; the store comes back without a restart.
    metrics?.errors.inc({ code: 'store_unavailable' });
    logger.warn({ err: e }, 'store unavailable');
    return `⚠️ ${t(locale, 'error.store_unavailable')}`;
  }
  const ref = randomUUID().slice(0, 8);
  metrics?.errors.inc({ code: 'internal' });
  logger.error({ err: e, ref }, 'unexpected error');
  return `⚠️ ${t(locale, 'error.internal', { ref })}`;
}
