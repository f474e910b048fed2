/**
 * The outbound half of Bot Framework auth for the Teams benchmark's bare bot, without Microsoft Entra ID.
 * (bwprep gets its token through @azure/identity from the fake Entra ID token endpoint beside the fake
 * connector, servers/fake-connector.ts: since the Graph digest lookup its token no longer comes from
 * botframework-connector's cache, and a seeded cache left it waiting for login.microsoftonline.com.)
 *
 * With an app id, every request a bot makes to the Bot Connector carries an Entra ID token for the scope
 * `https://api.botframework.com`. botframework-connector gets it through MSAL from login.microsoftonline.com
 * and keeps it in a process-wide cache (`AppCredentials.cache`, key `<appId><scope>-cache`) until 5 minutes
 * before it expires, so a running bot fetches one token about once an hour. The benchmark cannot reach
 * Entra ID, and MSAL accepts only https authorities, so instead of a fake token endpoint each bench server
 * puts an obviously fake token into that cache before it starts: the state a real bot is in after its
 * first token fetch. The fake Bot Connector does not check it. Token fetches are not measured (one an hour).
 */
import { AppCredentials, AuthenticationConstants } from 'botframework-connector';

const FAKE_OUTBOUND_TOKEN = 'fake-bench-outbound-token-not-a-secret';

/** The token cache botframework-connector keeps private (`AppCredentials.cache`, botframework-connector 4.23). */
const tokenCache = (AppCredentials as unknown as { cache: Map<string, { accessToken: string; expiresOn: Date }> }).cache;

/** Seeds botframework-connector's token cache for `appId` (valid for a day). Throws when the cache is not where 4.23 keeps it. */
export function seedOutboundToken(appId: string): void {
  if (!(tokenCache instanceof Map)) throw new Error('botframework-connector: AppCredentials.cache not found; the bench cannot fake the outbound token');
  tokenCache.set(`${appId}${AuthenticationConstants.ToChannelFromBotOAuthScope}-cache`, {
    accessToken: FAKE_OUTBOUND_TOKEN,
    expiresOn: new Date(Date.now() + 24 * 3600_000),
  });
}
