import { webApi } from '@slack/bolt';
import type { Config } from '../config/load';
import { reasonOf, StartupError } from '../config/errors';
import type { Logger } from '../logging/logger';
import { boltLogger } from './app';

/**
 * Who the bot is in Slack, from `auth.test` at start-up (https://api.slack.com/methods/auth.test):
 * `team_id`, `enterprise_id` (an Enterprise Grid org, when the app is installed there), `user_id` and
 * `bot_id` of the bot user. The team id tells our own workspace apart from a Slack Connect partner's.
 */
export interface SlackInstallation {
  teamId: string;
  enterpriseId?: string;
  botUserId: string;
  botId?: string;
}

const DEFAULT_API_URL = 'https://slack.com/api/';

/** Slack errors that mean the token itself is not accepted, each with its own advice in locales (`startup.slack.*`). */
const KNOWN = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive']);

/**
 * A Slack Web API failure during start-up as a StartupError that names the variable holding the token
 * (`SLACK_BOT_TOKEN`, or `SLACK_APP_TOKEN` for Socket Mode's `apps.connections.open`) and what Slack
 * said. Returns undefined for anything that is not a Web API error.
 */
export function slackStartupError(err: unknown, token: 'bot' | 'app', apiUrl: string | undefined): StartupError | undefined {
  const variable = token === 'bot' ? 'SLACK_BOT_TOKEN' : 'SLACK_APP_TOKEN';
  const url = apiUrl ?? DEFAULT_API_URL;
  if (err instanceof webApi.WebAPIPlatformError) {
    const error = String(err.data.error);
    const which = KNOWN.has(error) ? (error === 'not_authed' ? 'invalid_auth' : error === 'token_expired' ? 'token_revoked' : error) : 'unknown';
    return new StartupError(`startup.slack.${token}_${which}`, { variable, error }, { cause: err });
  }
  if (err instanceof webApi.WebAPIRequestError)
    return new StartupError('startup.slack.unreachable', { variable, url, reason: reasonOf(err.original) }, { cause: err });
  if (err instanceof webApi.WebAPIHTTPError)
    return new StartupError('startup.slack.unreachable', { variable, url, reason: `HTTP ${err.statusCode}` }, { cause: err });
  if (err instanceof webApi.WebAPIRateLimitedError)
    return new StartupError('startup.slack.unreachable', { variable, url, reason: `rate limited, retry after ${err.retryAfter} s` }, { cause: err });
  return undefined;
}

/**
 * Calls `auth.test` with the bot token before bwprep announces that it is listening. A rejected token or
 * an unreachable Slack API throws a StartupError (see slackStartupError); nothing else is started.
 */
export async function verifySlackToken(config: NonNullable<Config['slack']>, logger: Logger): Promise<SlackInstallation> {
  const client = new webApi.WebClient(config.botToken, {
    ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
    logger: boltLogger(logger),
    retryConfig: { retries: 2 },
    timeout: 10_000,
    rejectRateLimitedCalls: true,
  });
  let r: Awaited<ReturnType<typeof client.auth.test>>;
  try {
    r = await client.auth.test();
  } catch (err) {
    throw slackStartupError(err, 'bot', config.apiUrl) ?? err;
  }
  const installation: SlackInstallation = {
    teamId: String(r.team_id ?? ''),
    ...(r.enterprise_id ? { enterpriseId: String(r.enterprise_id) } : {}),
    botUserId: String(r.user_id ?? ''),
    ...(r.bot_id ? { botId: String(r.bot_id) } : {}),
  };
  logger.info({ teamId: installation.teamId, enterpriseId: installation.enterpriseId, botUserId: installation.botUserId }, 'Slack accepted the bot token');
  return installation;
}

/**
 * `auth.test` once per process: the first call asks Slack, every later call gets the same answer. A failed
 * call is not remembered, so the next caller asks again. Throws what the WebClient throws.
 */
export function installationOf(client: webApi.WebClient): () => Promise<SlackInstallation> {
  let pending: Promise<SlackInstallation> | undefined;
  return () => {
    pending ??= client.auth
      .test()
      .then((res): SlackInstallation => ({
        teamId: String(res.team_id ?? ''),
        ...(res.enterprise_id ? { enterpriseId: String(res.enterprise_id) } : {}),
        botUserId: String(res.user_id ?? ''),
        ...(res.bot_id ? { botId: String(res.bot_id) } : {}),
      }))
      .catch((e: unknown) => {
        pending = undefined;
        throw e;
      });
    return pending;
  };
}

/**
 * Whether workspace admin rights from `users.info` count here (issue 9, Slack Connect): only for a person of
 * the installing workspace (`team_id`), or on Enterprise Grid of its organization (`enterprise_user.enterprise_id`).
 * A person from another organization in a shared channel is an ordinary member, whatever their own
 * workspace says. Unknown installation: no.
 */
export function adminRightsCount(
  user: { team_id?: string; enterprise_user?: { enterprise_id?: string } },
  installation: Pick<SlackInstallation, 'teamId' | 'enterpriseId'> | undefined,
): boolean {
  if (!installation?.teamId) return false;
  if (user.team_id && user.team_id === installation.teamId) return true;
  const enterprise = user.enterprise_user?.enterprise_id;
  return Boolean(installation.enterpriseId && enterprise && enterprise === installation.enterpriseId);
}
