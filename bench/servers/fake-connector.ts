/**
 * The fake Bot Connector (test/fakes/bot-connector.ts) in its own process, for the Teams benchmark: the
 * serviceUrl of every activity (bwprep's card posts, updates, replies, roster reads go there) and the
 * publisher of the OpenID metadata and signing key both bots check inbound tokens against; beside it the fake
 * Microsoft Entra ID token endpoint and Graph (test/fakes/microsoft-graph.ts) bwprep's outbound token comes from.
 *
 * `ready` carries its serviceUrl, the OpenID metadata URL and one channel token for BENCH_MS_APP_ID (valid
 * an hour, as Teams reuses a token across requests). The roster knows the benchmark's people
 * (BENCH_MEMBERS, JSON), so bwprep's daily roster and member lookups succeed as in a real team. The fake
 * records every call; this process tallies them by kind and clears the list every RESET_MS, so memory
 * stays bounded over a load run.
 */
import '../lib/links';
import { type FakeMember, startFakeBotConnector } from '../../test/fakes/bot-connector';
import { startFakeMicrosoft } from '../../test/fakes/microsoft-graph';
import { exitWithParent, toParent } from '../lib/child';

const RESET_MS = 500;

async function main() {
  const appId = process.env.BENCH_MS_APP_ID;
  if (!appId) throw new Error('BENCH_MS_APP_ID is not set');
  const connector = await startFakeBotConnector();
  // Microsoft Entra ID's token endpoint (and Graph) for bwprep's outbound token: bwprep gets it through
  // @azure/identity (src/teams/identity.ts), about once an hour, so this costs nothing during the load.
  const microsoft = await startFakeMicrosoft({ clientId: appId, clientSecret: process.env.BENCH_MS_APP_PASSWORD ?? '' });
  connector.addMembers('*', JSON.parse(process.env.BENCH_MEMBERS ?? '[]') as FakeMember[]);
  const calls: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const conversations = new Set<string>();
  const tally = () => {
    for (const c of connector.calls) {
      calls[c.kind] = (calls[c.kind] ?? 0) + 1;
      if (c.conversationId) conversations.add(c.conversationId);
      if (c.status >= 300) failures[`${c.kind}:${c.status}`] = (failures[`${c.kind}:${c.status}`] ?? 0) + 1;
    }
    connector.calls.length = 0;
  };
  const timer = setInterval(tally, RESET_MS);
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'stats') return;
    tally();
    toParent({ type: 'stats', calls: { ...calls }, failures: { ...failures }, conversations: conversations.size });
  });
  exitWithParent(async () => {
    clearInterval(timer);
    await Promise.all([connector.close(), microsoft.close()]);
  });
  toParent({
    type: 'ready',
    url: connector.serviceUrl,
    openIdMetadataUrl: connector.openIdMetadataUrl,
    loginOrigin: microsoft.loginOrigin,
    graphUrl: microsoft.graphUrl,
    token: connector.channelToken({ audience: appId, serviceUrl: connector.serviceUrl }),
  });
}

main().catch((e: unknown) => {
  toParent({ type: 'error', message: String(e) });
  process.exit(1);
});
