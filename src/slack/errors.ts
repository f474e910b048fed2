import { randomUUID } from 'node:crypto';
import type { Locale } from '../core/checklist/model';
import { isBwprepError } from '../core/errors';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics';
import { render, t } from '../i18n';
import { slackUser } from './blocks/limits';

/**
 * One place that turns any failure into a localized message for the user: expected errors (BwprepError)
 * show their message and the right usage; anything else logs the details with a reference the user sees.
 */
export function describeError(e: unknown, locale: Locale, logger: Logger, metrics?: Metrics): string {
  if (isBwprepError(e)) {
    metrics?.errors.inc({ code: e.code });
    logger.info({ code: e.code, key: e.userMessage.key }, 'request refused');
    const lines = [`⚠️ ${render(locale, e.userMessage, slackUser)}`];
    if (e.usage) lines.push(`${t(locale, 'error.usage_prefix')} ${render(locale, e.usage)}`);
    return lines.join('\n');
  }
  const ref = randomUUID().slice(0, 8);
  metrics?.errors.inc({ code: 'internal' });
  logger.error({ err: e, ref }, 'unexpected error');
  return `⚠️ ${t(locale, 'error.internal', { ref })}`;
}
