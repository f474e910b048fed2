/**
 * Bot Framework authentication for bwprep: botbuilder's ConfigurationBotFrameworkAuthentication (token
 * validation on inbound requests, AAD tokens on outbound ones), with bwprep's send queue and retry
 * installed on every connector client it creates (see outbound.ts). With an app password, the outbound
 * tokens come from the same @azure/identity source as the Graph ones (identity.ts).
 */
import { type Activity, CallerIdConstants, ConfigurationBotFrameworkAuthentication, type ConfigurationBotFrameworkAuthenticationOptions } from 'botbuilder';
import { type AuthenticateRequestResult, AuthenticationConstants, type ClaimsIdentity, type ConnectorClient, ConnectorFactory } from 'botframework-connector';
import type { Pipeline } from '@azure/core-rest-pipeline';
import type { Logger } from '../logging/logger';
import { IdentityCredentialsFactory, type MicrosoftIdentity } from './identity';
import type { OutboundControl } from './outbound';

export interface TeamsAuthSettings {
  appId?: string;
  appPassword?: string;
  tenantId?: string;
  appType?: string;
}

export interface TeamsAuthOverrides {
  /**
   * Where inbound tokens' signing keys are published. Default: Bot Framework's
   * `https://login.botframework.com/v1/.well-known/openidconfiguration`. Tests point it at a local
   * server that publishes a test key.
   */
  openIdMetadataUrl?: string;
}

/** The settings botbuilder reads (names as in its ConfigurationServiceClientCredentialFactory). */
function botFrameworkOptions(s: TeamsAuthSettings, o: TeamsAuthOverrides = {}): ConfigurationBotFrameworkAuthenticationOptions & Record<string, string> {
  return {
    ...(s.appId ? { MicrosoftAppId: s.appId } : {}),
    ...(s.appPassword ? { MicrosoftAppPassword: s.appPassword } : {}),
    ...(s.tenantId ? { MicrosoftAppTenantId: s.tenantId } : {}),
    // botbuilder spells the managed identity type UserAssignedMsi; it compares case-insensitively.
    ...(s.appType ? { MicrosoftAppType: s.appType } : {}),
    // Any endpoint setting switches botbuilder from its public-cloud defaults to "all given here"
    // (BotFrameworkAuthenticationFactory.create), so an override carries the public-cloud values with it.
    ...(o.openIdMetadataUrl
      ? {
          ToBotFromChannelOpenIdMetadataUrl: o.openIdMetadataUrl,
          ToBotFromChannelTokenIssuer: AuthenticationConstants.ToBotFromChannelTokenIssuer,
          ToChannelFromBotLoginUrl: AuthenticationConstants.ToChannelFromBotLoginUrl,
          ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
          ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
          OAuthUrl: AuthenticationConstants.OAuthUrl,
          CallerId: CallerIdConstants.PublicAzureChannel,
          ValidateAuthority: 'true',
        }
      : {}),
  };
}

/** Reaches the private core-client pipeline of a connector client (botbuilder-stdlib ServiceClientContext#client). */
function pipelineOf(client: ConnectorClient): Pipeline | undefined {
  return (client as unknown as { client?: { pipeline?: Pipeline } }).client?.pipeline;
}

export class BwprepBotFrameworkAuthentication extends ConfigurationBotFrameworkAuthentication {
  private warned = false;

  constructor(
    settings: TeamsAuthSettings,
    private readonly outbound: OutboundControl,
    private readonly logger: Logger,
    overrides: TeamsAuthOverrides = {},
    /** The token source for the Bot Connector (identity.ts); without it botbuilder's own credentials. */
    identity?: MicrosoftIdentity,
  ) {
    super(
      botFrameworkOptions(settings, overrides),
      identity && settings.appPassword
        ? new IdentityCredentialsFactory(identity, settings.appPassword, settings.appType === 'SingleTenant' ? settings.tenantId : undefined)
        : undefined,
    );
  }

  /** Turn replies: botbuilder takes the connector factory from the authentication result, not from createConnectorFactory. */
  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    const result = await super.authenticateRequest(activity, authHeader);
    return result.connectorFactory ? { ...result, connectorFactory: this.tuned(result.connectorFactory) } : result;
  }

  /** Proactive sends (continueConversationAsync, createConversationAsync). */
  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return this.tuned(super.createConnectorFactory(claimsIdentity));
  }

  /** A factory whose every connector client sends through bwprep's queue and retry (outbound.ts). */
  private tuned(inner: ConnectorFactory): ConnectorFactory {
    const tune = (client: ConnectorClient) => {
      const pipeline = pipelineOf(client);
      if (!pipeline || !this.outbound.install(pipeline)) {
        if (!this.warned) this.logger.warn('botbuilder connector client has an unexpected shape; Teams sends use the SDK retries without bwprep send queue');
        this.warned = true;
      }
      return client;
    };
    return new (class extends ConnectorFactory {
      async create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
        return tune(await inner.create(serviceUrl, audience));
      }
    })();
  }
}
