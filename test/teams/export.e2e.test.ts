import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorCall } from '../fakes/bot-connector';
import { ANNA, BOB, teamsFileConsent, teamsMessage } from './activities';
import { startTeamsHarness, type TeamsHarness } from './harness';
import { reportToSecretGuard } from '../helpers/secret-guard';

/**
 * `export` in Teams: a file offer (FileConsentCard) in a personal chat, the upload to the URL Teams hands
 * over on accept (a local stand-in for the user's OneDrive upload session), then the file message; in a
 * channel the Markdown report as a message, or an explanation.
 */
const PERSONAL = `a:fake-personal-${ANNA.aadObjectId}`;

let h: TeamsHarness;
let upload: Server;
let uploadBase = '';
const uploads: { path: string; headers: Record<string, unknown>; body: string }[] = [];
let failUploads = 0;

beforeAll(async () => {
  h = await startTeamsHarness();
  upload = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      uploads.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      reportToSecretGuard(`teams:upload ${req.url ?? ''}`, Buffer.concat(chunks).toString('utf8'));
      if (failUploads > 0) {
        failUploads--;
        res.writeHead(500).end();
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'fake-drive-item' }));
    });
  });
  await new Promise<void>((r) => upload.listen(0, '127.0.0.1', r));
  uploadBase = `http://127.0.0.1:${(upload.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await h?.close();
  await new Promise<void>((r) => upload?.close(() => r()));
});

async function ask(text: string, o: { personal?: boolean; locale?: string } = {}): Promise<ConnectorCall> {
  const msg = teamsMessage({
    serviceUrl: h.connector.serviceUrl,
    text,
    from: o.personal ? ANNA : BOB,
    locale: o.locale ?? 'en-GB',
    ...(o.personal ? { scope: 'personal' as const } : { mention: true }),
  });
  expect((await h.post(msg)).status).toBe(200);
  return h.connector.waitFor((c) => c.kind === 'reply' && c.activityId === msg.id && c.status === 200);
}

type Att = { contentType: string; name?: string; contentUrl?: string; content: Record<string, unknown> };
const attachment = (c: ConnectorCall) => (c.body?.attachments as Att[] | undefined)?.[0];
const info = (name: string) => ({
  name,
  uploadUrl: `${uploadBase}/upload/${name}`,
  contentUrl: `https://fake-onedrive.example/${name}`,
  uniqueId: 'fake-unique-id',
  fileType: name.split('.').pop()!,
});

describe('export in Teams', () => {
  it('in a personal chat: a file offer; on accept the file is uploaded to the given URL and posted as a file', async () => {
    const offer = await ask('export csv', { personal: true });
    const card = attachment(offer)!;
    expect(card.contentType).toBe('application/vnd.microsoft.teams.card.file.consent');
    expect(card.name).toMatch(/\.csv$/);
    expect(card.content).toMatchObject({
      description: 'Readiness report (CSV) for this rollout.',
      acceptContext: expect.any(Object),
      declineContext: expect.any(Object),
    });
    const res = await h.post(
      teamsFileConsent({
        serviceUrl: h.connector.serviceUrl,
        scope: 'personal',
        from: ANNA,
        action: 'accept',
        context: card.content.acceptContext,
        replyToId: offer.id!,
        uploadInfo: info(card.name!),
      }),
    );
    expect(res.status).toBe(200);
    const up = uploads.at(-1)!;
    expect(up.path).toBe(`/upload/${card.name}`);
    expect(up.body).toContain('2a');
    expect(up.headers['content-range']).toBe(`bytes 0-${Buffer.byteLength(up.body) - 1}/${Buffer.byteLength(up.body)}`);
    expect(card.content.sizeInBytes).toBe(Buffer.byteLength(up.body));
    const file = await h.connector.waitFor(
      (c) => c.conversationId === PERSONAL && attachment(c)?.contentType === 'application/vnd.microsoft.teams.file.download.info',
    );
    expect(attachment(file)).toMatchObject({
      name: card.name,
      contentUrl: `https://fake-onedrive.example/${card.name}`,
      content: { uniqueId: 'fake-unique-id', fileType: 'csv' },
    });
    // The offer is used up: accepting it again says it expired, and nothing is uploaded.
    const before = uploads.length;
    await h.post(
      teamsFileConsent({
        serviceUrl: h.connector.serviceUrl,
        scope: 'personal',
        from: ANNA,
        action: 'accept',
        context: card.content.acceptContext,
        replyToId: offer.id!,
        uploadInfo: info(card.name!),
        locale: 'nl-NL',
      }),
    );
    await h.connector.waitFor((c) => c.conversationId === PERSONAL && String(c.body?.text).includes('Dit bestandsaanbod is verlopen'));
    expect(uploads.length).toBe(before);
  });

  it('a declined offer is forgotten; a failed upload is told, not hidden', async () => {
    const offer = await ask('export json', { personal: true });
    const card = attachment(offer)!;
    await h.post(
      teamsFileConsent({
        serviceUrl: h.connector.serviceUrl,
        scope: 'personal',
        from: ANNA,
        action: 'decline',
        context: card.content.declineContext,
        replyToId: offer.id!,
      }),
    );
    await h.connector.waitFor((c) => c.conversationId === PERSONAL && String(c.body?.text).includes('No file then'));

    const offer2 = await ask('export md', { personal: true });
    const card2 = attachment(offer2)!;
    failUploads = 1;
    await h.post(
      teamsFileConsent({
        serviceUrl: h.connector.serviceUrl,
        scope: 'personal',
        from: ANNA,
        action: 'accept',
        context: card2.content.acceptContext,
        replyToId: offer2.id!,
        uploadInfo: info(card2.name!),
      }),
    );
    await h.connector.waitFor((c) => c.conversationId === PERSONAL && String(c.body?.text).includes('could not upload the file to your OneDrive'));
    expect(h.logs()).toContain('teams: export upload failed');
    expect(h.logs()).not.toContain(`${uploadBase}/upload/`);
  });

  it('in a channel: the Markdown report as a message; CSV or JSON explained (Teams sends bot files only in personal chats)', async () => {
    const md = await ask('export md');
    const text = String(md.body?.text);
    expect(md.body?.textFormat).toBe('markdown');
    expect(text).toContain('Readiness report (MD) for this rollout.');
    expect(text).toContain('2a');
    const csv = await ask('export csv', { locale: 'nl-NL' });
    expect(String(csv.body?.text)).toContain('alleen als Markdown');
    expect(String(csv.body?.text)).toContain('`@bwprep export md`');
    expect(attachment(csv)).toBeUndefined();
  });
});
