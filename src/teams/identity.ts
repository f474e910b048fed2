/**
 * Microsoft Entra ID (Azure AD) tokens for bwprep's bot identity: one source for the Bot Connector token
 * (scope `https://api.botframework.com/.default`, botbuilder's outbound calls) and the Microsoft Graph
 * token (scope `https://graph.microsoft.com/.default`, the digest lookup of graph.ts). Tokens come from
 * `@azure/identity`'s ClientSecretCredential (the OAuth 2.0 client-credentials grant against
 * `https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`), which caches each token until shortly
 * before it expires and retries transient failures itself.
 *
 * The tenant differs by purpose: the Bot Connector token comes from the bot's own tenant
 * (`botframework.com` for a multi-tenant bot, MICROSOFT_APP_TENANT_ID for a single-tenant one, as
 * botbuilder's PasswordServiceClientCredentialFactory does); a Graph token for a team's messages comes from
 * the tenant that installed the app there (the resource-specific consent lives in that tenant).
 *
 * A user-assigned managed identity (MICROSOFT_APP_TYPE=UserAssignedMSI) has no secret: botbuilder keeps its
 * own credentials for it, and there is no Graph lookup.
 */
import { ClientSecretCredential } from '@azure/identity';
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import {
  AppCredentials,
  type AuthenticatorResult,
  AuthenticationConstants,
  PasswordServiceClientCredentialFactory,
  type ServiceClientCredentials,
} from 'botframework-connector';

/** `<resource>/.default`, the client-credentials scope of a resource (an app id URI or a bare resource URL). */
function defaultScope(resource: string): string {
  return resource.endsWith('/.default') ? resource : `${resource.replace(/\/+$/, '')}/.default`;
}

/**
 * A token source for one app registration (client id + secret), across tenants.
 * `token()` throws @azure/identity's `AuthenticationError` (wrong secret, app unknown in the tenant) or
 * `CredentialUnavailableError`; the message names the tenant and the Entra error code, never the secret.
 */
export class MicrosoftIdentity {
  private readonly byTenant = new Map<string, ClientSecretCredential>();

  constructor(
    readonly appId: string,
    private readonly secret: string,
    /** The HTTP client of every token request (tests route it to a local fake; default Node's). */
    private readonly httpClient?: HttpClient,
  ) {}

  /** An access token for `scope` issued by `tenantId` (a GUID, a domain, or `botframework.com`). */
  async token(scope: string, tenantId: string): Promise<string> {
    let credential = this.byTenant.get(tenantId);
    if (!credential) {
      credential = new ClientSecretCredential(tenantId, this.appId, this.secret, this.httpClient ? { httpClient: this.httpClient } : {});
      this.byTenant.set(tenantId, credential);
    }
    return (await credential.getToken(defaultScope(scope))).token;
  }

  /** Never serialise the secret (a logged object, an error's cause). */
  toJSON(): { appId: string } {
    return { appId: this.appId };
  }
}

/**
 * An HTTP client that sends requests for the given origins to other origins: `{ 'https://login.microsoftonline.com':
 * 'http://127.0.0.1:4001' }`. MSAL (under @azure/identity) accepts only `https` authorities, so tests keep
 * the real authority and move the request here, at the HTTP boundary.
 */
export function routedHttpClient(routes: Record<string, string>, inner: HttpClient = createDefaultHttpClient()): HttpClient {
  return {
    sendRequest(request) {
      const url = new URL(request.url);
      const to = routes[url.origin];
      if (to) {
        request.url = new URL(`${url.pathname}${url.search}`, to).toString();
        // A local fake speaks plain http; core-rest-pipeline refuses that unless told.
        request.allowInsecureConnection = request.url.startsWith('http:');
      }
      return inner.sendRequest(request);
    },
  };
}

/** Bot Connector credentials whose token comes from {@link MicrosoftIdentity}. */
class IdentityAppCredentials extends AppCredentials {
  private readonly tokenTenant: string;

  constructor(
    appId: string,
    tenant: string | undefined,
    scope: string,
    private readonly identity: MicrosoftIdentity,
  ) {
    super(appId, tenant, scope);
    // As AppCredentials: the bot's tenant, else botframework.com.
    this.tokenTenant = tenant || AuthenticationConstants.DefaultChannelAuthTenant;
  }

  override getToken(): Promise<string> {
    return this.identity.token(this.oAuthScope, this.tokenTenant);
  }

  protected override refreshToken(): Promise<AuthenticatorResult> {
    // Never called: getToken above replaces AppCredentials' own token cache and refresh.
    return Promise.reject(new Error('IdentityAppCredentials gets its tokens through MicrosoftIdentity'));
  }
}

/**
 * botbuilder's password credentials factory, with the public cloud's Bot Connector token taken from
 * {@link MicrosoftIdentity}. Government and private clouds keep botbuilder's own credentials.
 */
export class IdentityCredentialsFactory extends PasswordServiceClientCredentialFactory {
  constructor(
    private readonly identity: MicrosoftIdentity,
    password: string,
    /** The bot's tenant for SingleTenant; undefined for MultiTenant (then botframework.com). */
    private readonly botTenant: string | undefined,
  ) {
    super(identity.appId, password, botTenant ?? '');
  }

  override async createCredentials(appId: string, audience: string, loginEndpoint: string, validateAuthority: boolean): Promise<ServiceClientCredentials> {
    const publicCloud = loginEndpoint?.toLowerCase().startsWith(AuthenticationConstants.ToChannelFromBotLoginUrlPrefix);
    if (!publicCloud || (await this.isAuthenticationDisabled())) return super.createCredentials(appId, audience, loginEndpoint, validateAuthority);
    if (!(await this.isValidAppId(appId))) throw new Error('Invalid appId.');
    return new IdentityAppCredentials(appId, this.botTenant, audience || AuthenticationConstants.ToChannelFromBotOAuthScope, this.identity);
  }
}
