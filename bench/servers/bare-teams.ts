/**
 * The baseline for the Teams benchmark: a bare botbuilder bot that only answers. A `CloudAdapter` with the
 * same Bot Framework auth as bwprep (ConfigurationBotFrameworkAuthentication: app id and password from
 * BENCH_MS_APP_ID / BENCH_MS_APP_PASSWORD, inbound tokens checked against the fake Bot Connector's key at
 * BENCH_TEAMS_OPENID_URL, the other endpoints the public cloud's), behind plain node:http with the JSON
 * body parsed first (what the botbuilder samples get from restify's body parser), and a
 * `TeamsActivityHandler` that answers every `adaptiveCard/action` invoke with a one-word message and every
 * message with nothing. It makes no outbound call; its token cache is seeded like bwprep's anyway.
 */
import '../lib/links';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AdaptiveCardInvokeResponse,
  CallerIdConstants,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
  TeamsActivityHandler,
} from 'botbuilder';
import { AuthenticationConstants } from 'botframework-connector';
import { seedOutboundToken } from '../lib/bot-token';
import { exitWithParent, toParent } from '../lib/child';

class BareBot extends TeamsActivityHandler {
  protected override async onAdaptiveCardInvoke(): Promise<AdaptiveCardInvokeResponse> {
    return { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'ok' as unknown as Record<string, unknown> };
  }
}

/** The response shape CloudAdapter#process expects (restify's and express's), on a node:http response. */
function restifyLike(res: ServerResponse) {
  return {
    status(code: number) {
      res.statusCode = code;
    },
    header(name: string, value: unknown) {
      res.setHeader(name, String(value));
    },
    send(body: unknown) {
      if (typeof body === 'string') {
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.write(body);
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.write(JSON.stringify(body));
    },
    end() {
      res.end();
    },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

async function main() {
  const openIdMetadataUrl = process.env.BENCH_TEAMS_OPENID_URL;
  const appId = process.env.BENCH_MS_APP_ID;
  const password = process.env.BENCH_MS_APP_PASSWORD;
  if (!openIdMetadataUrl || !appId || !password) throw new Error('BENCH_TEAMS_OPENID_URL, BENCH_MS_APP_ID and BENCH_MS_APP_PASSWORD are required');
  // The same settings bwprep gives botbuilder (src/teams/auth.ts): an endpoint override carries the public-cloud values with it.
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: appId,
    MicrosoftAppPassword: password,
    ToBotFromChannelOpenIdMetadataUrl: openIdMetadataUrl,
    ToBotFromChannelTokenIssuer: AuthenticationConstants.ToBotFromChannelTokenIssuer,
    ToChannelFromBotLoginUrl: AuthenticationConstants.ToChannelFromBotLoginUrl,
    ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
    ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
    OAuthUrl: AuthenticationConstants.OAuthUrl,
    CallerId: CallerIdConstants.PublicAzureChannel,
    ValidateAuthority: 'true',
  } as ConfigurationBotFrameworkAuthenticationOptions & Record<string, string>);
  seedOutboundToken(appId);
  const adapter = new CloudAdapter(auth);
  const bot = new BareBot();
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url !== '/api/messages') {
        res.writeHead(404).end();
        return;
      }
      const body = await readJson(req);
      await adapter.process(Object.assign(req, { body }) as never, restifyLike(res) as never, (ctx) => bot.run(ctx));
    })().catch((err: unknown) => {
      process.stderr.write(`bare-teams: ${String(err)}\n`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  exitWithParent(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  toParent({ type: 'ready', url });
}

main().catch((e: unknown) => {
  toParent({ type: 'error', message: String(e) });
  process.exit(1);
});
