import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackHttp } from '../../src/slack/http-client';
import { type FakeSlackApi, startFakeSlackApi } from '../fakes/slack-api';
import { FAKE_BOT_TOKEN } from '../helpers/slack-requests';

let slack: FakeSlackApi;
let plain: http.Server;
let plainUrl: string;
const seen: { method?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
const client = createSlackHttp({ connections: 2 });

beforeAll(async () => {
  slack = await startFakeSlackApi();
  plain = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, headers: req.headers, body });
      if (req.url === '/gone') res.writeHead(404, { 'content-type': 'text/plain', 'x-extra': 'a' }).end('expired_url');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"n":1}');
    });
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await client.close();
  await slack.close();
  plain.close();
});

describe('createSlackHttp().fetch', () => {
  it('carries WebClient calls: the fake Slack sees the real method, token and arguments', async () => {
    const web = new webApi.WebClient(FAKE_BOT_TOKEN, { slackApiUrl: slack.apiUrl, fetch: client.fetch });
    const res = await web.chat.postMessage({ channel: 'C0HTTP', text: 'hello over undici' });
    expect(res.ok).toBe(true);
    const call = await slack.waitFor('chat.postMessage');
    expect(call.args).toMatchObject({ channel: 'C0HTTP', text: 'hello over undici' });
    await expect(web.chat.update({ channel: 'C0HTTP', ts: '1.000', text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it("drops Slack's echo of the sent message from chat.update and chat.postMessage answers, keeping the rest", async () => {
    const web = new webApi.WebClient(FAKE_BOT_TOKEN, { slackApiUrl: slack.apiUrl, fetch: client.fetch });
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'the card' } }];
    const posted = await web.chat.postMessage({ channel: 'C0ECHO', text: 'card', blocks });
    expect(posted).toMatchObject({ ok: true, channel: 'C0ECHO' });
    expect(typeof posted.ts).toBe('string');
    expect(posted.message).toBeUndefined();
    const updated = await web.chat.update({ channel: 'C0ECHO', ts: posted.ts as string, text: 'card', blocks });
    expect(updated).toMatchObject({ ok: true, channel: 'C0ECHO', ts: posted.ts });
    expect(updated.message).toBeUndefined();
    // The fake did get the whole message; a refusal still arrives as Slack's error.
    expect((await slack.waitFor('chat.update', (c) => c.args.channel === 'C0ECHO')).args).toMatchObject({ channel: 'C0ECHO', text: 'card' });
    slack.failNext('chat.update', { error: 'message_not_found' });
    await expect(web.chat.update({ channel: 'C0ECHO', ts: posted.ts as string, text: 'x' })).rejects.toMatchObject({
      data: { ok: false, error: 'message_not_found' },
    });
  });

  it('answers like fetch: status, ok, statusText, headers, text and json; the request goes out as given', async () => {
    const res = await client.fetch(`${plainUrl}/hook`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":"hi"}' });
    expect(res).toMatchObject({ ok: true, status: 200, statusText: 'OK', url: `${plainUrl}/hook` });
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(await res.json()).toEqual({ ok: true, n: 1 });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body: '{"text":"hi"}' });
    expect(seen.at(-1)?.headers['content-type']).toBe('application/json');

    const gone = await client.fetch(`${plainUrl}/gone`, { method: 'POST', body: '{}' });
    expect(gone).toMatchObject({ ok: false, status: 404, statusText: 'Not Found' });
    expect(await gone.text()).toBe('expired_url');
    expect(Object.fromEntries(gone.headers.entries())).toMatchObject({ 'x-extra': 'a' });
  });

  it('sends multipart bodies (file uploads) intact', async () => {
    const form = new FormData();
    form.append('file', new Blob(['step,state\n1a,done\n']), 'report.csv');
    await client.fetch(`${plainUrl}/upload`, { method: 'POST', body: form });
    expect(seen.at(-1)?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.at(-1)?.body).toContain('1a,done');
  });
});
