import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBitwarden } from '../fakes/bitwarden-server';
import { startFakeBotConnector } from '../fakes/bot-connector';
import { FAKE_SECRET, readyOrg } from '../fixtures/bitwarden';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { SecretGuard, secretGuard } from './secret-guard';
import { FAKE_BOT_TOKEN, FAKE_CHANNEL_ID, FAKE_SIGNING_SECRET } from './slack-fixtures';

describe('SecretGuard', () => {
  it('reports every registered secret found in a text, with the secret masked in the excerpt', () => {
    const g = new SecretGuard();
    g.register('fake-secret-one', 'short', undefined);
    g.report('log', 'nothing here');
    g.report('log', 'short values are ignored');
    g.report('slack:chat.postMessage', '{"text":"key fake-secret-one leaked"}');
    const hits = g.take();
    expect(hits).toEqual([{ source: 'slack:chat.postMessage', excerpt: '{"text":"key [SECRET] leaked"}' }]);
    expect(g.take()).toEqual([]);
  });
});

describe('the fakes report to the suite-wide guard', () => {
  let slack: FakeSlackApi;
  beforeAll(async () => {
    slack = await startFakeSlackApi();
  });
  afterAll(async () => {
    await slack.close();
  });

  it('a Slack call carrying a configured secret is a hit; the bearer token itself is not', async () => {
    const client = new webApi.WebClient(FAKE_BOT_TOKEN, { slackApiUrl: slack.apiUrl });
    await client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: 'all fine' });
    expect(secretGuard.take()).toEqual([]);
    await client.chat.postMessage({ channel: FAKE_CHANNEL_ID, text: `oops ${FAKE_SIGNING_SECRET}` });
    // Taken here so this deliberate leak does not fail the test through the setup file's afterEach.
    expect(secretGuard.take().map((h) => h.source)).toEqual(['slack:chat.postMessage']);
  });

  it('a Bitwarden request carrying a secret is a hit, except the token request’s own client_secret', async () => {
    const bw = await startFakeBitwarden();
    bw.load(readyOrg(new Date()));
    try {
      const form = (secret: string) =>
        new URLSearchParams({ grant_type: 'client_credentials', scope: 'api.organization', client_id: 'organization.fake', client_secret: secret });
      await fetch(`${bw.url}/identity/connect/token`, { method: 'POST', body: form('fake-secret-not-real') });
      expect(secretGuard.take()).toEqual([]);
      await fetch(`${bw.url}/api/public/members?note=${FAKE_BOT_TOKEN}`);
      expect(secretGuard.take().map((h) => h.source)).toEqual(['bitwarden:GET /public/members']);
    } finally {
      await bw.stop();
    }
  });
});

describe('what else leaves the app is reported too', () => {
  it('a call to the fake Bot Connector (Teams) carrying a secret is a hit; its authorization header is not', async () => {
    const connector = await startFakeBotConnector();
    try {
      const send = (text: string) =>
        fetch(`${connector.serviceUrl}v3/conversations/fake-conv/activities`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_SIGNING_SECRET}` },
          body: JSON.stringify({ type: 'message', text }),
        });
      await send('all fine');
      expect(secretGuard.take()).toEqual([]);
      await send(`oops ${FAKE_SECRET}`);
      expect(secretGuard.take().map((h) => h.source)).toEqual(['teams:POST /v3/conversations/fake-conv/activities']);
    } finally {
      await connector.close();
    }
  });

  it('a file uploaded to the fake Slack (an export) carrying a secret is a hit', async () => {
    const slack = await startFakeSlackApi();
    try {
      const client = new webApi.WebClient(FAKE_BOT_TOKEN, { slackApiUrl: slack.apiUrl });
      const { upload_url } = await client.files.getUploadURLExternal({ filename: 'report.csv', length: 10 });
      secretGuard.take();
      await fetch(upload_url!, { method: 'POST', body: `a,b\n${FAKE_SECRET}\n` });
      expect(secretGuard.take().map((h) => h.source)).toEqual(['slack:upload report.csv']);
    } finally {
      await slack.close();
    }
  });
});
