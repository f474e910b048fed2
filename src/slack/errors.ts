import type { Message } from '../core/checklist/model';
import { CardGoneError, PlatformError } from '../interactions/errors';

/**
 * Slack Web API error codes, classified once (docs.slack.dev, each method's "Errors" table) and used on
 * every path: commands, clicks, the scheduler, exports. A code not listed here is an unexpected error.
 *
 * - lasting: a condition of the channel or the installation; retrying will not help until someone acts.
 * - transient: Slack is busy or down; a later try may work (the WebClient already retried).
 * - user: the request went stale (Slack gives 3 s for a trigger); the user just runs the command again.
 */
const LASTING: Record<string, string> = {
  not_in_channel: 'error.slack.not_in_channel',
  channel_not_found: 'error.slack.channel_not_found',
  is_archived: 'error.slack.is_archived',
  restricted_action: 'error.slack.restricted_action',
  restricted_action_read_only_channel: 'error.slack.restricted_action',
  cannot_dm_bot: 'error.slack.cannot_dm',
  user_not_found: 'error.slack.user_not_found',
  account_inactive: 'error.slack.installation',
  token_revoked: 'error.slack.installation',
  invalid_auth: 'error.slack.installation',
  not_authed: 'error.slack.installation',
  team_access_not_granted: 'error.slack.installation',
  missing_scope: 'error.slack.missing_scope',
  no_permission: 'error.slack.no_permission',
  ekm_access_denied: 'error.slack.ekm_access_denied',
  method_deprecated: 'error.slack.installation',
  // Not Web API errors but events (app_uninstalled, tokens_revoked), stored as the reason a rollout is unreachable.
  app_uninstalled: 'error.slack.installation',
  tokens_revoked: 'error.slack.installation',
};

/** Codes that mean the installation itself no longer works (cleared when auth.test answers again). */
export const INSTALLATION_CODES = [
  'account_inactive',
  'token_revoked',
  'invalid_auth',
  'not_authed',
  'team_access_not_granted',
  'app_uninstalled',
  'tokens_revoked',
] as const;

/** The hint for a stored lasting code (Rollout.unreachable.code), for the App Home notice. */
export function lastingHint(code: string): Message | undefined {
  const key = Object.hasOwn(LASTING, code) ? LASTING[code] : undefined;
  // The stored code has lost the scope Slack named; the installation hint names the code instead.
  if (code === 'missing_scope') return { key: 'error.slack.installation', vars: { code } };
  return key ? { key, vars: { code, scope: '?' } } : undefined;
}

const TRANSIENT = new Set(['ratelimited', 'rate_limited', 'internal_error', 'service_unavailable', 'request_timeout', 'fatal_error', 'team_added_to_org']);

const USER = new Set(['expired_trigger_id', 'exchanged_trigger_id', 'invalid_trigger_id', 'trigger_exchanged', 'expired_url']);

/** Message codes that mean "the card you want to update is gone". */
const CARD_GONE = new Set(['message_not_found', 'cant_update_message', 'channel_not_found']);

/**
 * A call that got no Slack answer: the request failed, or HTTP answered with an error instead of Slack's
 * JSON (@slack/web-api's request and HTTP errors). Whether Slack acted on it is not known.
 */
function isTransportFailure(e: unknown): boolean {
  const code = (e as { code?: string } | undefined)?.code;
  return code === 'slack_webapi_request_error' || code === 'slack_webapi_http_error';
}

/** The Web API's error code of a failed call (`WebAPIPlatformError.data.error`), if any. */
export function slackErrorCode(e: unknown): string | undefined {
  const data = (e as { data?: { error?: string; needed?: string } } | undefined)?.data;
  if (typeof data?.error === 'string') return data.error;
  const code = (e as { code?: string } | undefined)?.code;
  // Transport failures of @slack/web-api: slack_webapi_request_error, slack_webapi_rate_limited_error, …
  if (code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  if (isTransportFailure(e)) return 'service_unavailable';
  return undefined;
}

/** A Slack failure as a PlatformError (with the hint for the user), or undefined when it is not a Slack API error. */
export function classifySlackError(e: unknown): PlatformError | undefined {
  if (e instanceof PlatformError) return e;
  const code = slackErrorCode(e);
  if (!code) return undefined;
  const needed = (e as { data?: { needed?: string } }).data?.needed;
  if (Object.hasOwn(LASTING, code))
    return new PlatformError('slack', code, 'lasting', { key: LASTING[code]!, vars: { scope: needed ?? '?', code } }, { cause: e });
  if (USER.has(code)) return new PlatformError('slack', code, 'user', { key: 'error.slack.expired_trigger' }, { cause: e });
  if (TRANSIENT.has(code))
    return new PlatformError('slack', code, 'transient', { key: 'error.slack.unavailable' }, { cause: e, uncertain: isTransportFailure(e) });
  return undefined;
}

/** Rethrows a Slack failure in classified form (unclassified errors pass through unchanged). */
export function rethrowSlack(e: unknown): never {
  throw classifySlackError(e) ?? e;
}

/** For card updates: a vanished card becomes CardGoneError, the rest is classified. */
export function rethrowCardUpdate(e: unknown): never {
  const code = slackErrorCode(e);
  if (code && CARD_GONE.has(code)) throw new CardGoneError(code);
  rethrowSlack(e);
}
