/**
 * The "floor" baseline for the ack benchmark (issue 12 §1): the least a process must do for each of these
 * requests, without Bolt or bwprep. Plain `node:http`; the Slack signature check (HMAC-SHA256 of
 * `v0:<timestamp>:<body>`, constant-time compare, 5-minute window, as Slack documents and Bolt does); the
 * 200 written at once; then one SQLite update of the channel's rollout (read the row, JSON.parse, change it,
 * JSON.stringify, `UPDATE … WHERE version = ?`, better-sqlite3 as bwprep's store) and one `chat.update`
 * with the channel's 9 KB card as JSON over an undici Pool to the fake Slack Web API (answer read and
 * parsed). The card is rendered once per channel at start (bwprep's own view and Block Kit code), so no
 * rendering, i18n, users.info or response_url post is in the floor.
 *
 * Completed work is counted like bwprep's (`bwprep_handler_seconds_count` on GET /metrics), so the
 * benchmark measures both the same way.
 */
import '../lib/links';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { ChecklistService } from '../../src/core/checklist/service';
import { checklistBlocks, checklistFallback } from '../../src/slack/blocks/checklist';
import { loadTemplate } from '../../src/templates';
import { buildChecklistView } from '../../src/views/checklist';
import { MemoryStore } from '../../test/fakes/memory-store';
import { FAKE_BOT_TOKEN, FAKE_SIGNING_SECRET, FAKE_TEAM_ID } from '../../test/helpers/slack-fixtures';
import { exitWithParent, toParent } from '../lib/child';

const CHANNELS = Array.from({ length: 16 }, (_, i) => `C0BENCH${String(i + 1).padStart(2, '0')}`);
const TEAM = FAKE_TEAM_ID;

function validSignature(headers: http.IncomingHttpHeaders, body: string): boolean {
  const ts = Number(headers['x-slack-request-timestamp']);
  const sig = String(headers['x-slack-signature'] ?? '');
  if (!Number.isFinite(ts) || Math.abs(Date.now() / 1000 - ts) > 300) return false;
  const want = `v0=${createHmac('sha256', FAKE_SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
  return sig.length === want.length && timingSafeEqual(Buffer.from(sig), Buffer.from(want));
}

/** The channel a slash command or block action is about. */
function channelOf(contentType: string, body: string): string | undefined {
  const form = new URLSearchParams(body);
  if (!contentType.startsWith('application/x-www-form-urlencoded')) return undefined;
  const payload = form.get('payload');
  if (payload) return (JSON.parse(payload) as { channel?: { id?: string } }).channel?.id;
  return form.get('channel_id') ?? undefined;
}

async function main() {
  const apiUrl = process.env.BENCH_SLACK_API_URL;
  if (!apiUrl) throw new Error('BENCH_SLACK_API_URL is not set');
  const api = new URL(apiUrl);
  const dir = mkdtempSync(path.join(tmpdir(), 'bwprep-floor-'));
  const db = new Database(path.join(dir, 'floor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE rollouts (id TEXT PRIMARY KEY, version INTEGER NOT NULL, data TEXT NOT NULL, updated_at INTEGER NOT NULL)');
  const get = db.prepare<[string], { version: number; data: string }>('SELECT version, data FROM rollouts WHERE id = ?');
  const cas = db.prepare<[string, number, number, string, number]>('UPDATE rollouts SET data = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?');

  // The same rollouts and cards bwprep has for these channels (fresh checklists), built by bwprep's code.
  const template = loadTemplate();
  const service = new ChecklistService({
    store: new MemoryStore(),
    template,
    clock: { now: () => new Date() },
    defaults: { locale: 'en', hosting: 'cloud-us', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] },
    globalAdmins: [],
  });
  const cards = new Map<string, { text: string; blocks: unknown[] }>();
  const insert = db.prepare('INSERT INTO rollouts (id, version, data, updated_at) VALUES (?, ?, ?, ?)');
  for (const channel of CHANNELS) {
    const r = await service.ensureRollout({ platform: 'slack', workspace: TEAM, channel }, { user: 'slack:U0FLOOR', surface: 'slack', platformAdmin: true });
    insert.run(r.id, r.version, JSON.stringify(r), Date.now());
    const view = buildChecklistView(template, r, new Date());
    cards.set(channel, { text: checklistFallback(view), blocks: checklistBlocks(view) });
  }

  const slack = new Pool(api.origin, { connections: 16, keepAliveTimeout: 30_000 });
  const apiPath = `${api.pathname.replace(/\/$/, '')}/chat.update`;
  let done = 0;
  let failed = 0;

  async function work(channel: string): Promise<void> {
    const id = `slack:${TEAM}:${channel}`;
    const row = get.get(id);
    if (row) {
      const r = JSON.parse(row.data) as { updatedAt?: string };
      r.updatedAt = new Date().toISOString();
      cas.run(JSON.stringify(r), row.version + 1, Date.now(), id, row.version);
    }
    const card = cards.get(channel) as { text: string; blocks: unknown[] };
    const res = await slack.request({
      path: apiPath,
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${FAKE_BOT_TOKEN}` },
      body: JSON.stringify({ channel, ts: '1700000000.000100', text: card.text, blocks: card.blocks }),
    });
    const answer = JSON.parse(await res.body.text()) as { ok?: boolean };
    if (!answer.ok) failed += 1;
  }

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`bwprep_handler_seconds_count{kind="floor"} ${done}\nfloor_failed_total ${failed}\n`);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (!validSignature(req.headers, body)) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-length': '0' }).end();
      const channel = channelOf(String(req.headers['content-type'] ?? ''), body);
      if (!channel || !cards.has(channel)) {
        done += 1;
        return;
      }
      work(channel)
        .catch(() => {
          // Counted, not logged: the bench reports the floor's failed work with its results.
          failed += 1;
        })
        .finally(() => {
          done += 1;
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  exitWithParent(async () => {
    server.close();
    await slack.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  toParent({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

main().catch((e: unknown) => {
  toParent({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(1);
});
