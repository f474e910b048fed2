import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load';
import { channelClaims, signJwt, testKeyPair } from '../fakes/bot-connector';
import { FAKE_BOT, teamsConversationUpdate, teamsMessage } from './activities';
import { FAKE_MS_APP_ID, FAKE_MS_APP_PASSWORD, startTeamsHarness, type TeamsHarness } from './harness';

/**
 * With MICROSOFT_APP_ID set, botbuilder validates the Bot Framework token of every request before the
 * bot runs. The fake connector publishes the signing key (OpenID metadata → JWKS), so a token it signs
 * is valid and anything else is forged. Nothing reaches the internet.
 */
let h: TeamsHarness;

beforeAll(async () => {
  h = await startTeamsHarness({ env: { MICROSOFT_APP_ID: FAKE_MS_APP_ID, MICROSOFT_APP_PASSWORD: FAKE_MS_APP_PASSWORD } });
});
afterAll(async () => {
  await h?.close();
});

describe('/api/messages with MICROSOFT_APP_ID: Bot Framework authentication before any handler', () => {
  const conv = '19:fake-auth@thread.tacv2';
  const message = () => teamsMessage({ serviceUrl: h.connector.serviceUrl, conversationId: conv, text: 'help', mention: true });

  async function expectRefusedWithoutEffect(token: string | undefined) {
    const res = await h.post(message(), token ? { token } : {});
    expect(res.status).toBe(401);
    // The bot never ran: nothing stored, nothing sent.
    expect(await h.teams.conversations.get(conv)).toBeUndefined();
    expect(h.connector.calls.filter((c) => c.conversationId === conv)).toEqual([]);
  }

  it('refuses a request without a token (401)', async () => {
    await expectRefusedWithoutEffect(undefined);
    expect(h.logs()).toContain('teams request refused');
  });

  it('refuses a token signed with another key (401)', async () => {
    const forger = testKeyPair().privateKey;
    const claims = channelClaims({ audience: FAKE_MS_APP_ID, serviceUrl: h.connector.serviceUrl });
    // Same key id as nothing the connector publishes, and one that guesses a published id: both refused.
    await expectRefusedWithoutEffect(signJwt(forger, 'not-published', claims));
    const published = (await (await fetch(h.connector.openIdMetadataUrl.replace('/.well-known/openidconfiguration', '/keys'))).json()) as {
      keys: { kid: string }[];
    };
    await expectRefusedWithoutEffect(signJwt(forger, published.keys[0]!.kid, claims));
  });

  it('refuses a genuine token for another bot (wrong audience) and an expired one (401)', async () => {
    await expectRefusedWithoutEffect(h.connector.channelToken({ audience: '00000000-0000-4000-8000-0000000000ee', serviceUrl: h.connector.serviceUrl }));
    await expectRefusedWithoutEffect(h.connector.channelToken({ audience: FAKE_MS_APP_ID, serviceUrl: h.connector.serviceUrl, expiresInSeconds: -600 }));
  });

  it('refuses a token with an unknown issuer and a non-Bearer scheme (401)', async () => {
    await expectRefusedWithoutEffect('not-a-jwt');
    const res = await fetch(`${h.app.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      body: JSON.stringify(message()),
    });
    expect(res.status).toBe(401);
  });

  it('accepts a valid channel token and runs the bot', async () => {
    const token = h.connector.channelToken({ audience: FAKE_MS_APP_ID, serviceUrl: h.connector.serviceUrl });
    // Adding the bot to a team stores the reference and needs no outbound call (which would need a real AAD token).
    const added = '19:fake-auth-ok@thread.tacv2';
    const res = await h.post(teamsConversationUpdate({ serviceUrl: h.connector.serviceUrl, conversationId: added, added: [{ id: FAKE_BOT.id }] }), { token });
    expect(res.status).toBe(200);
    expect(await h.teams.conversations.get(added)).toMatchObject({ active: true });
    expect(h.logs()).not.toContain(FAKE_MS_APP_PASSWORD);
  });

  it('answers 405 to GET and 400 to a body that is not an activity', async () => {
    expect((await fetch(`${h.app.url}/api/messages`)).status).toBe(405);
    const bad = await fetch(`${h.app.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hello":' });
    expect(bad.status).toBe(400);
  });
});

describe('Teams settings at start-up', () => {
  it('names the missing settings when Teams is enabled without an app id', () => {
    try {
      loadConfig({ TEAMS_ENABLED: 'true' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toContain('MICROSOFT_APP_ID is required when TEAMS_ENABLED=true');
      expect((e as Error).message).toContain('TEAMS_ALLOW_UNAUTHENTICATED=true');
    }
  });

  it('asks for the tenant of a single-tenant or managed-identity bot, and no secret with a managed identity', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ TEAMS_ENABLED: 'true', MICROSOFT_APP_ID: FAKE_MS_APP_ID, ...env });
        return [];
      } catch (e) {
        return (e as ConfigError).problems.map((p) => p.variable);
      }
    };
    expect(problems({ MICROSOFT_APP_PASSWORD: FAKE_MS_APP_PASSWORD, MICROSOFT_APP_TYPE: 'SingleTenant' })).toEqual(['MICROSOFT_APP_TENANT_ID']);
    expect(problems({ MICROSOFT_APP_TYPE: 'UserAssignedMSI', MICROSOFT_APP_PASSWORD: FAKE_MS_APP_PASSWORD })).toEqual([
      'MICROSOFT_APP_TENANT_ID',
      'MICROSOFT_APP_PASSWORD',
    ]);
    expect(problems({ MICROSOFT_APP_PASSWORD: FAKE_MS_APP_PASSWORD })).toEqual([]);
  });

  it('keeps authenticating when TEAMS_ALLOW_UNAUTHENTICATED is set together with an app id, and says so', async () => {
    const both = await startTeamsHarness({
      env: { MICROSOFT_APP_ID: FAKE_MS_APP_ID, MICROSOFT_APP_PASSWORD: FAKE_MS_APP_PASSWORD, TEAMS_ALLOW_UNAUTHENTICATED: 'true' },
    });
    try {
      expect(both.logs()).toContain('TEAMS_ALLOW_UNAUTHENTICATED is ignored');
      expect((await both.post(teamsMessage({ serviceUrl: both.connector.serviceUrl, text: 'help', mention: true }))).status).toBe(401);
    } finally {
      await both.close();
    }
  });

  it('warns loudly when serving /api/messages without authentication', async () => {
    const open = await startTeamsHarness();
    try {
      const warning = open
        .logs()
        .split('\n')
        .find((l) => l.includes('TEAMS_ALLOW_UNAUTHENTICATED=true'));
      expect(JSON.parse(warning as string)).toMatchObject({ level: 'warn' });
    } finally {
      await open.close();
    }
  });
});
