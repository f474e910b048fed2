/**
 * A fake Slack Web API: a real local HTTP server (node:http, 127.0.0.1, port 0) that speaks Slack's
 * wire format well enough for Bolt's WebClient and for bwprep's end-to-end tests.
 *
 *   const slack = await startFakeSlackApi();
 *   const app = new App({ token: FAKE_BOT_TOKEN, signingSecret: FAKE_SIGNING_SECRET,
 *                         clientOptions: { slackApiUrl: slack.apiUrl } });   // = slack.url + '/api/'
 *   … send a signed request (test/helpers/slack-requests.ts) …
 *   const call = await slack.waitFor('chat.postMessage', (c) => c.args.channel === 'C0FAKEROLL');
 *   await slack.close();
 *
 * Routes:
 *   POST|GET /api/<method>      Web API; JSON, form-urlencoded or multipart bodies (GET: query string)
 *                               auth.test, chat.postMessage/update/delete/postEphemeral/getPermalink,
 *                               views.publish/open/push/update, users.info, conversations.open/info/history,
 *                               files.getUploadURLExternal/completeUploadExternal, api.test
 *   POST     /response/<id>     a `response_url` (see responseUrl(id)); records what the app posts
 *   POST     /upload/<file_id>  the upload URL handed out by files.getUploadURLExternal
 *
 * Behaviour notes (where the fake is deliberately simpler than Slack):
 * - A missing or wrong token answers `invalid_auth` (Slack answers `not_authed` for a missing one).
 * - `chat.update`/`chat.delete` of an unknown ts, `views.update` of an unknown view,
 *   `conversations.info` of an unknown channel, and `views.publish`/`chat.postEphemeral` for a user
 *   the fake does not know succeed (lenient) unless `strict: true`, in which case they answer
 *   `message_not_found` / `not_found` / `channel_not_found` / `user_not_found` / `user_not_in_channel`.
 *   `users.info` and `conversations.open` always answer `user_not_found` for unknown users.
 * - Blocks are checked against the documented Block Kit limits (50 blocks per message, 100 per view,
 *   section text ≤ 3000, ≤ 10 fields of ≤ 2000, ≤ 25 elements per actions block, header ≤ 150,
 *   unique block_id) and answer `invalid_blocks` like Slack. Turn off with `validateBlocks: false`.
 * - Message timestamps follow the wall clock (seconds since the epoch, increasing), as Slack's do, so
 *   `oldest`/`latest` of conversations.history select by time.
 * - A request that has arrived takes effect at once (a posted message is stored, the call recorded);
 *   latency and `hold` only delay the answer. So a post whose sender is killed while it waits for the
 *   answer is posted, as with real Slack.
 * - conversations.history answers the channel's stored messages (not deleted, not thread replies) newest
 *   first, filtered by `oldest`/`latest` (`inclusive`), `limit` per page (default 100, at most 999) with
 *   `has_more` and `response_metadata.next_cursor`; `metadata` only with `include_all_metadata=true`.
 *   In strict mode an unknown channel answers `channel_not_found`.
 * - A response_url accepts `responseUrlMaxUses` posts (Slack: 5 within 30 minutes); further posts
 *   answer 404 `{ ok: false, error: 'used_url' }` and are still recorded (with `rejected: true`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { reportToSecretGuard } from '../helpers/secret-guard';
import {
  FAKE_BOT_ID,
  FAKE_BOT_TOKEN,
  FAKE_BOT_USER_ID,
  FAKE_CHANNEL_ID,
  FAKE_CHANNEL_NAME,
  FAKE_TEAM_DOMAIN,
  FAKE_TEAM_ID,
  FAKE_TEAM_NAME,
  FAKE_USERS,
} from '../helpers/slack-fixtures';

// ---------------------------------------------------------------------------------------------
// Types

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type SlackArgs = Record<string, unknown>;

export interface FakeSlackUser {
  id: string;
  /** Handle (`name` in users.info). Defaults to the id in lower case. */
  name?: string;
  real_name?: string;
  display_name?: string;
  /** Only returned when users.info is called with include_locale=true (as in Slack). */
  locale?: string;
  tz?: string;
  tz_label?: string;
  tz_offset?: number;
  is_admin?: boolean;
  is_owner?: boolean;
  is_bot?: boolean;
  deleted?: boolean;
  email?: string;
  /** The person's own workspace (Slack Connect: another organization's team). Default: the fake's team. */
  team_id?: string;
  /** Enterprise Grid: the person's organization (users.info `enterprise_user.enterprise_id`). */
  enterprise_id?: string;
}

export interface FakeSlackChannel {
  id: string;
  name?: string;
  is_private?: boolean;
  is_im?: boolean;
  /** For a DM: the other user. */
  user?: string;
  is_member?: boolean;
}

export interface RecordedCall {
  method: string;
  /** Decoded arguments: form/JSON/query merged; JSON-holding string fields (blocks, view, …) parsed. */
  args: SlackArgs;
  /** Date.now() when the request arrived. */
  at: number;
  /** The bearer token (or `token` body field) the call was made with, if any. */
  token: string | undefined;
  /** `json`, `form`, `multipart` or `query`. */
  encoding: 'json' | 'form' | 'multipart' | 'query' | 'none';
  /** HTTP status and JSON body the fake answered. */
  status: number;
  response: Record<string, unknown>;
  /** Set when the answer came from failNext/rateLimitNext. */
  fault?: 'error' | 'rate_limited';
}

export interface RecordedResponse {
  /** The id in `/response/<id>`. */
  id: string;
  /** Decoded JSON body (Slack response_url payload: text, blocks, response_type, replace_original, delete_original, thread_ts). */
  body: Record<string, unknown>;
  at: number;
  /** True when the post was refused because the URL was used up. */
  rejected: boolean;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  thread_ts?: string;
  user: string;
  bot_id: string;
  /** Set by chat.delete. */
  deleted: boolean;
  /** Number of chat.update calls applied. */
  edits: number;
  metadata?: unknown;
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  message_ts: string;
  text?: string;
  blocks?: unknown[];
}

export interface FakeView {
  id: string;
  type: string;
  /** The user a home view was published for. */
  user_id?: string;
  trigger_id?: string;
  external_id?: string;
  /** Set for views.push. */
  pushed?: boolean;
  hash: string;
  view: Record<string, unknown>;
  /** Every version, oldest first. */
  history: Record<string, unknown>[];
}

export interface FakeFile {
  id: string;
  filename: string;
  length: number | undefined;
  /** Raw bytes received at the upload URL (the `body`/`file` part when multipart). */
  content: Buffer | undefined;
  uploaded: boolean;
  completed: boolean;
  title?: string;
  channel_id?: string;
  channels?: string;
  initial_comment?: string;
  thread_ts?: string;
}

export interface FaultOptions {
  /** How many of the next calls fail (default 1). */
  times?: number;
  /** Slack error code for `{ ok: false, error }` (default `internal_error`). */
  error?: string;
  /** HTTP status (default 200 for errors, as Slack). */
  status?: number;
  /** Extra fields merged into the error body (e.g. `needed`, `response_metadata`). */
  extra?: Record<string, unknown>;
}

export interface RateLimitOptions {
  /** How many of the next calls are rate limited (default 1). */
  times?: number;
  /** Retry-After header in seconds (default 1; 0 is allowed and makes WebClient retry at once). */
  retryAfter?: number;
}

export type MethodHandler = (
  args: SlackArgs,
  call: { method: string; token: string | undefined },
) =>
  | Record<string, unknown>
  | { status: number; body: Record<string, unknown>; headers?: Record<string, string> }
  | Promise<Record<string, unknown> | { status: number; body: Record<string, unknown>; headers?: Record<string, string> }>;

export interface FakeSlackOptions {
  /** Accepted bot tokens (default [FAKE_BOT_TOKEN]). */
  tokens?: string[];
  teamId?: string;
  /** Enterprise Grid: auth.test answers this `enterprise_id` (and `is_enterprise_install: false`). */
  enterpriseId?: string;
  teamDomain?: string;
  teamName?: string;
  botUserId?: string;
  botId?: string;
  /** Users known to users.info (default DEFAULT_FAKE_USERS). */
  users?: FakeSlackUser[];
  /** Channels known to conversations.info (default: FAKE_CHANNEL_ID #bitwarden-rollout). */
  channels?: FakeSlackChannel[];
  /** Unknown message ts / view id / channel / user (views.publish, chat.postEphemeral) → Slack's errors (default false: lenient). */
  strict?: boolean;
  /** Check Block Kit limits (default true). */
  validateBlocks?: boolean;
  /** Posts accepted per response_url (default 5, as Slack). */
  responseUrlMaxUses?: number;
  /** Bind address (default 127.0.0.1). */
  host?: string;
}

export interface FakeSlackApi {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  /** Web API base for WebClient / Bolt `clientOptions.slackApiUrl` and SLACK_API_URL: `${url}/api/`. */
  readonly apiUrl: string;
  /** The first accepted token. */
  readonly token: string;
  readonly teamId: string;
  readonly botUserId: string;

  /** Recorded Web API calls, oldest first; only those of `method` when given. */
  calls(method?: string): RecordedCall[];
  /** The most recent call of `method`. */
  last(method: string): RecordedCall | undefined;
  /**
   * Resolves with the first recorded call of `method` (already recorded or still to come) that matches
   * `predicate`; polls every 10 ms; rejects after `timeoutMs` (default 10 s: generous, because a wait that succeeds returns at once and only a failing test pays it; 2 s timed out on a machine whose cores other test runs took) listing what was recorded.
   */
  waitFor(method: string, predicate?: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /** Like waitFor, but resolves once `count` matching calls have been recorded. */
  waitForCount(method: string, count: number, predicate?: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall[]>;
  /**
   * Forgets recorded calls, response_url posts, messages, views, files, faults, overrides and latency.
   * Users and channels are kept (re-seeded from the options).
   */
  reset(): void;

  /** Make the next call(s) of `method` answer `{ ok: false, error }`. */
  failNext(method: string, options?: FaultOptions): void;
  /** Make the next call(s) of `method` answer HTTP 429 with `Retry-After`. */
  rateLimitNext(method: string, options?: RateLimitOptions): void;
  /** Delay every answer of `method` (or of all methods with '*') by `ms`. */
  setLatency(method: string | '*', ms: number): void;
  /**
   * Holds the answers of `method`: each call takes effect and is recorded when it arrives, and its answer
   * is sent once `release()` is called (later calls are answered at once). `arrived(n)` resolves when n
   * calls matching `predicate` have arrived since the hold.
   */
  hold(method: string, predicate?: (args: SlackArgs) => boolean): FakeSlackHold;
  /** Replace the answer of `method` (recording still happens). Pass undefined to restore. */
  override(method: string, handler: MethodHandler | undefined): void;

  /** Add or replace a users.info user. */
  addUser(user: FakeSlackUser): void;
  /** Add or replace a conversations.info channel. */
  addChannel(channel: FakeSlackChannel): void;

  /** A response_url that records posts: `${url}/response/<id>` (id generated when omitted). */
  responseUrl(id?: string): string;
  /** Recorded response_url posts, oldest first; only those of `id` when given. */
  responses(id?: string): RecordedResponse[];
  /** Resolves with the first post to response_url `id` (or any when undefined) matching `predicate`. */
  waitForResponse(id?: string, predicate?: (r: RecordedResponse) => boolean, timeoutMs?: number): Promise<RecordedResponse>;

  /** Current state of posted messages (after updates and deletes), oldest first. */
  messages(channel?: string): FakeMessage[];
  message(channel: string, ts: string): FakeMessage | undefined;
  /** Ephemeral messages posted with chat.postEphemeral. */
  ephemerals(channel?: string): FakeEphemeral[];
  /** Put a message in the store (e.g. the card a block_actions payload refers to). Returns it. */
  seedMessage(message: { channel: string; ts?: string; text?: string; blocks?: unknown[]; metadata?: unknown; user?: string; bot_id?: string }): FakeMessage;
  /** Views (home tabs and modals) by id. */
  views(): FakeView[];
  /** The home tab last published for `userId`. */
  homeView(userId: string): FakeView | undefined;
  /** Files announced with files.getUploadURLExternal. */
  files(): FakeFile[];
  /** The DM channel id conversations.open gives for `userId` (created if needed). */
  dmChannel(userId: string): string;

  close(): Promise<void>;
}

export interface FakeSlackHold {
  /** Resolves when `n` matching calls have arrived (rejects after `timeoutMs`, default 15 s). */
  arrived(n: number, timeoutMs?: number): Promise<void>;
  /** Matching calls arrived so far. */
  count(): number;
  /** Sends the held answers; from now on calls are answered at once. */
  release(): void;
}

const DEFAULT_FAKE_USERS: FakeSlackUser[] = [
  {
    id: FAKE_USERS.alice,
    name: 'alice',
    real_name: 'Alice Admin',
    display_name: 'alice',
    locale: 'nl-NL',
    tz: 'Europe/Amsterdam',
    tz_label: 'Central European Time',
    tz_offset: 3600,
    is_admin: true,
    is_owner: false,
  },
  {
    id: FAKE_USERS.bob,
    name: 'bob',
    real_name: 'Bob Member',
    display_name: 'bob',
    locale: 'en-GB',
    tz: 'Europe/London',
    tz_label: 'Greenwich Mean Time',
    tz_offset: 0,
    is_admin: false,
  },
  {
    id: FAKE_USERS.carol,
    name: 'carol',
    real_name: 'Carol Colleague',
    display_name: '',
    locale: 'en-US',
    tz: 'America/New_York',
    tz_label: 'Eastern Standard Time',
    tz_offset: -18000,
    is_admin: false,
  },
];

// ---------------------------------------------------------------------------------------------
// Request decoding

/** Web API arguments that carry JSON inside a string when sent form-encoded. */
const JSON_FIELDS = new Set(['blocks', 'view', 'attachments', 'files', 'metadata', 'user_auth_blocks', 'unfurls']);

function readBody(req: IncomingMessage, limit = 10 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decodeJsonFields(args: SlackArgs): SlackArgs {
  for (const [k, v] of Object.entries(args)) {
    if (JSON_FIELDS.has(k) && typeof v === 'string') {
      const s = v.trim();
      if (s.startsWith('[') || s.startsWith('{')) {
        try {
          args[k] = JSON.parse(s);
        } catch {
          // leave it as sent; the method handler reports invalid_arguments
        }
      }
    }
  }
  return args;
}

function fromSearchParams(p: URLSearchParams): SlackArgs {
  const out: SlackArgs = {};
  for (const [k, v] of p) out[k] = v;
  return out;
}

interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** Minimal multipart/form-data parser (enough for WebClient/fetch FormData bodies). */
function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return [];
  const delim = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delim);
  while (pos !== -1) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    if (next === -1) break;
    // part = CRLF headers CRLF CRLF data CRLF
    const part = body.subarray(start + 2, next - 2);
    const sep = part.indexOf('\r\n\r\n');
    if (sep !== -1) {
      const headers = part.subarray(0, sep).toString('utf8');
      const data = part.subarray(sep + 4);
      const disp = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
      const name = /\bname="([^"]*)"/i.exec(disp)?.[1] ?? '';
      const filename = /\bfilename="([^"]*)"/i.exec(disp)?.[1];
      const ct = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1];
      parts.push({ name, data, ...(filename !== undefined ? { filename } : {}), ...(ct ? { contentType: ct.trim() } : {}) });
    }
    pos = next;
  }
  return parts;
}

function decodeArgs(req: IncomingMessage, body: Buffer, query: URLSearchParams): { args: SlackArgs; encoding: RecordedCall['encoding']; error?: string } {
  const ct = String(req.headers['content-type'] ?? '').toLowerCase();
  const args: SlackArgs = fromSearchParams(query);
  let encoding: RecordedCall['encoding'] = [...query.keys()].length > 0 ? 'query' : 'none';
  if (body.length > 0) {
    if (ct.startsWith('application/json')) {
      encoding = 'json';
      try {
        const parsed: unknown = JSON.parse(body.toString('utf8'));
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(args, parsed);
        else return { args, encoding, error: 'invalid_json' };
      } catch {
        return { args, encoding, error: 'invalid_json' };
      }
    } else if (ct.startsWith('multipart/form-data')) {
      encoding = 'multipart';
      for (const p of parseMultipart(body, ct)) args[p.name] = p.filename !== undefined ? p.data : p.data.toString('utf8');
    } else {
      encoding = 'form';
      Object.assign(args, fromSearchParams(new URLSearchParams(body.toString('utf8'))));
    }
  }
  return { args: decodeJsonFields(args), encoding };
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m?.[1]?.trim();
}

const truthy = (v: unknown) => v === true || v === 'true' || v === '1' || v === 1;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

// ---------------------------------------------------------------------------------------------
// Block Kit limits

function textLength(t: unknown): number {
  if (t && typeof t === 'object' && typeof (t as { text?: unknown }).text === 'string') return (t as { text: string }).text.length;
  return 0;
}

/** Returns Slack-like error messages for blocks that break the documented limits; [] when fine. */
export function validateBlocks(blocks: unknown, surface: 'message' | 'view'): string[] {
  if (!Array.isArray(blocks)) return ['must be an array [json-pointer:/blocks]'];
  const errors: string[] = [];
  const max = surface === 'message' ? 50 : 100;
  if (blocks.length > max) errors.push(`no more than ${max} items allowed [json-pointer:/blocks]`);
  const ids = new Set<string>();
  blocks.forEach((b: unknown, i: number) => {
    const at = `[json-pointer:/blocks/${i}]`;
    if (!b || typeof b !== 'object') {
      errors.push(`must be an object ${at}`);
      return;
    }
    const block = b as Record<string, unknown>;
    if (typeof block.type !== 'string' || !block.type) errors.push(`missing required field: type ${at}`);
    if (typeof block.block_id === 'string') {
      if (block.block_id.length > 255) errors.push(`must be less than 256 characters [json-pointer:/blocks/${i}/block_id]`);
      if (ids.has(block.block_id)) errors.push(`duplicate block_id ${block.block_id} [json-pointer:/blocks/${i}/block_id]`);
      ids.add(block.block_id);
    }
    if (block.type === 'section') {
      if (block.text === undefined && block.fields === undefined) errors.push(`must provide text or fields ${at}`);
      if (textLength(block.text) > 3000) errors.push(`must be less than 3001 characters [json-pointer:/blocks/${i}/text]`);
      if (Array.isArray(block.fields)) {
        if (block.fields.length > 10) errors.push(`no more than 10 items allowed [json-pointer:/blocks/${i}/fields]`);
        block.fields.forEach((f: unknown, j: number) => {
          if (textLength(f) > 2000) errors.push(`must be less than 2001 characters [json-pointer:/blocks/${i}/fields/${j}]`);
        });
      }
    }
    if (block.type === 'header' && textLength(block.text) > 150) errors.push(`must be less than 151 characters [json-pointer:/blocks/${i}/text]`);
    if (block.type === 'actions') {
      if (!Array.isArray(block.elements) || block.elements.length === 0) errors.push(`must provide elements ${at}`);
      else if (block.elements.length > 25) errors.push(`no more than 25 items allowed [json-pointer:/blocks/${i}/elements]`);
    }
    if (block.type === 'context' && Array.isArray(block.elements) && block.elements.length > 10)
      errors.push(`no more than 10 items allowed [json-pointer:/blocks/${i}/elements]`);
  });
  return errors;
}

// ---------------------------------------------------------------------------------------------
// The server

type Answer = { status: number; body: Record<string, unknown>; headers?: Record<string, string> };

const ok = (body: Record<string, unknown> = {}): Answer => ({ status: 200, body: { ok: true, ...body } });
const fail = (error: string, extra: Record<string, unknown> = {}): Answer => ({ status: 200, body: { ok: false, error, ...extra } });

function isAnswer(x: unknown): x is Answer {
  return !!x && typeof x === 'object' && typeof (x as Answer).status === 'number' && typeof (x as Answer).body === 'object';
}

export async function startFakeSlackApi(options: FakeSlackOptions = {}): Promise<FakeSlackApi> {
  const tokens = new Set(options.tokens ?? [FAKE_BOT_TOKEN]);
  const teamId = options.teamId ?? FAKE_TEAM_ID;
  const enterpriseId = options.enterpriseId;
  const teamDomain = options.teamDomain ?? FAKE_TEAM_DOMAIN;
  const teamName = options.teamName ?? FAKE_TEAM_NAME;
  const botUserId = options.botUserId ?? FAKE_BOT_USER_ID;
  const botId = options.botId ?? FAKE_BOT_ID;
  const strict = options.strict ?? false;
  const checkBlocks = options.validateBlocks ?? true;
  const maxUses = options.responseUrlMaxUses ?? 5;
  const host = options.host ?? '127.0.0.1';

  let recorded: RecordedCall[] = [];
  let responsesRecorded: RecordedResponse[] = [];
  let faults = new Map<string, Array<{ kind: 'error'; o: FaultOptions } | { kind: 'rate_limited'; o: RateLimitOptions }>>();
  let latency = new Map<string, number>();
  let overrides = new Map<string, MethodHandler>();
  let messages = new Map<string, FakeMessage>(); // key channel|ts
  let ephemerals: FakeEphemeral[] = [];
  let views = new Map<string, FakeView>();
  let homeByUser = new Map<string, string>();
  let files = new Map<string, FakeFile>();
  let dms = new Map<string, string>();
  const users = new Map<string, FakeSlackUser>();
  const channels = new Map<string, FakeSlackChannel>();
  const seed = () => {
    users.clear();
    channels.clear();
    for (const u of options.users ?? DEFAULT_FAKE_USERS) users.set(u.id, { ...u });
    for (const c of options.channels ?? [{ id: FAKE_CHANNEL_ID, name: FAKE_CHANNEL_NAME, is_member: true }]) channels.set(c.id, { ...c });
  };
  seed();

  // Increasing message timestamps from the wall clock (microseconds), as Slack formats them: `<s>.<6 digits>`.
  const tsBase = Math.floor(Date.now() / 1000);
  let lastMicros = 0;
  const nextTs = () => {
    lastMicros = Math.max(lastMicros + 1, Date.now() * 1000);
    return `${Math.floor(lastMicros / 1_000_000)}.${String(lastMicros % 1_000_000).padStart(6, '0')}`;
  };
  const tsMicros = (ts: string): number => {
    const [sec = '0', frac = ''] = ts.split('.');
    return Number(sec) * 1_000_000 + Number(frac.padEnd(6, '0').slice(0, 6));
  };
  let holds = new Map<string, { predicate?: (args: SlackArgs) => boolean; count: number; gate: Promise<void>; open: () => void }>();
  let idCounter = 0;
  const nextId = (prefix: string) => `${prefix}0FAKE${(++idCounter).toString(36).toUpperCase().padStart(4, '0')}`;
  let responseCounter = 0;

  let baseUrl = '';
  const msgKey = (channel: string, ts: string) => `${channel}|${ts}`;

  const dmChannel = (userId: string): string => {
    let id = dms.get(userId);
    if (!id) {
      id = `D0FAKE${userId.replace(/^[UW]0?/, '').slice(0, 8)}${(++idCounter).toString(36).toUpperCase()}`;
      dms.set(userId, id);
      channels.set(id, { id, is_im: true, user: userId, is_member: true });
    }
    return id;
  };
  /** chat.postMessage to a user id posts in the DM with that user, as Slack does. */
  const resolveChannel = (channel: string) => (/^[UW][A-Z0-9]+$/.test(channel) ? dmChannel(channel) : channel);

  const messageJson = (m: FakeMessage): Record<string, unknown> => ({
    type: 'message',
    user: m.user,
    bot_id: m.bot_id,
    app_id: 'A0FAKEAPP',
    text: m.text ?? '',
    ts: m.ts,
    team: teamId,
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.attachments ? { attachments: m.attachments } : {}),
    ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    ...(m.edits > 0 ? { edited: { user: m.user, ts: m.ts } } : {}),
    ...(m.metadata ? { metadata: m.metadata } : {}),
  });

  const checkMessageContent = (args: SlackArgs): Answer | undefined => {
    const hasText = typeof args.text === 'string' && args.text !== '';
    if (args.blocks === undefined && args.attachments === undefined && !hasText) return fail('no_text');
    if (args.blocks !== undefined && typeof args.blocks === 'string') return fail('invalid_blocks_format');
    if (checkBlocks && args.blocks !== undefined) {
      const errors = validateBlocks(args.blocks, 'message');
      if (errors.length) return fail('invalid_blocks', { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
    }
    if (args.attachments !== undefined && !Array.isArray(args.attachments)) return fail('invalid_attachments');
    return undefined;
  };

  const viewJson = (v: FakeView): Record<string, unknown> => ({
    id: v.id,
    team_id: teamId,
    app_id: 'A0FAKEAPP',
    bot_id: botId,
    hash: v.hash,
    previous_view_id: null,
    root_view_id: v.id,
    state: { values: {} },
    ...(v.external_id ? { external_id: v.external_id } : {}),
    ...v.view,
    type: v.type,
  });

  const checkView = (view: unknown): Answer | undefined => {
    if (!view || typeof view !== 'object' || Array.isArray(view))
      return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: view'] } });
    const v = view as Record<string, unknown>;
    if (v.type !== 'home' && v.type !== 'modal')
      return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view.type must be home or modal'] } });
    if (checkBlocks) {
      const errors = validateBlocks(v.blocks ?? [], 'view');
      if (errors.length)
        return fail('invalid_arguments', { response_metadata: { messages: errors.map((e) => `[ERROR] ${e.replace('/blocks', '/view/blocks')}`) } });
    }
    if (v.type === 'modal' && !v.title)
      return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: title [json-pointer:/view]'] } });
    if (JSON.stringify(v).length > 250_000) return fail('view_too_large');
    return undefined;
  };

  const storeView = (existing: FakeView | undefined, view: Record<string, unknown>, extra: Partial<FakeView>): FakeView => {
    const v: FakeView = existing ?? {
      id: nextId('V'),
      type: String(view.type),
      hash: '',
      view,
      history: [],
    };
    v.view = view;
    v.type = String(view.type ?? v.type);
    v.hash = `${Date.now()}.${(++idCounter).toString(36)}`;
    v.history.push(view);
    Object.assign(v, extra);
    if (typeof view.external_id === 'string') v.external_id = view.external_id;
    views.set(v.id, v);
    return v;
  };

  const userJson = (u: FakeSlackUser, includeLocale: boolean): Record<string, unknown> => {
    const name = u.name ?? u.id.toLowerCase();
    const realName = u.real_name ?? name;
    return {
      id: u.id,
      team_id: u.team_id ?? teamId,
      ...(u.enterprise_id
        ? {
            enterprise_user: {
              id: u.id,
              enterprise_id: u.enterprise_id,
              enterprise_name: 'Fake Grid Org',
              is_admin: false,
              is_owner: false,
              teams: [u.team_id ?? teamId],
            },
          }
        : {}),
      name,
      deleted: u.deleted ?? false,
      color: '9f69e7',
      real_name: realName,
      tz: u.tz ?? 'Europe/Amsterdam',
      tz_label: u.tz_label ?? 'Central European Time',
      tz_offset: u.tz_offset ?? 3600,
      profile: {
        real_name: realName,
        real_name_normalized: realName,
        display_name: u.display_name ?? name,
        display_name_normalized: u.display_name ?? name,
        ...(u.email ? { email: u.email } : {}),
        team: teamId,
      },
      is_admin: u.is_admin ?? false,
      is_owner: u.is_owner ?? false,
      is_primary_owner: false,
      is_restricted: false,
      is_ultra_restricted: false,
      is_bot: u.is_bot ?? false,
      is_app_user: false,
      updated: Math.floor(Date.now() / 1000),
      ...(includeLocale ? { locale: u.locale ?? 'en-US' } : {}),
    };
  };

  const channelJson = (c: FakeSlackChannel): Record<string, unknown> =>
    c.is_im
      ? { id: c.id, created: tsBase, is_im: true, is_org_shared: false, user: c.user, is_user_deleted: false, priority: 0 }
      : {
          id: c.id,
          name: c.name ?? c.id.toLowerCase(),
          is_channel: !c.is_private,
          is_group: !!c.is_private,
          is_im: false,
          is_mpim: false,
          is_private: !!c.is_private,
          is_archived: false,
          is_general: false,
          is_member: c.is_member ?? true,
          created: tsBase,
          creator: FAKE_USERS.alice,
          context_team_id: teamId,
          topic: { value: '', creator: '', last_set: 0 },
          purpose: { value: '', creator: '', last_set: 0 },
        };

  const handlers: Record<string, (a: SlackArgs) => Answer> = {
    'api.test': (a) => ok({ args: a }),
    'auth.test': () =>
      ok({
        url: `https://${teamDomain}.slack.com/`,
        team: teamName,
        user: 'bwprep',
        team_id: teamId,
        user_id: botUserId,
        bot_id: botId,
        ...(enterpriseId ? { enterprise_id: enterpriseId } : {}),
        is_enterprise_install: false,
      }),
    'chat.postMessage': (a) => {
      const ch = str(a.channel);
      if (!ch) return fail('channel_not_found');
      const bad = checkMessageContent(a);
      if (bad) return bad;
      const channel = resolveChannel(ch);
      if (strict && !channels.has(channel)) return fail('channel_not_found');
      const m: FakeMessage = {
        channel,
        ts: nextTs(),
        user: botUserId,
        bot_id: botId,
        deleted: false,
        edits: 0,
        ...(typeof a.text === 'string' ? { text: a.text } : {}),
        ...(Array.isArray(a.blocks) ? { blocks: a.blocks } : {}),
        ...(Array.isArray(a.attachments) ? { attachments: a.attachments } : {}),
        ...(str(a.thread_ts) ? { thread_ts: str(a.thread_ts) } : {}),
        ...(a.metadata !== undefined ? { metadata: a.metadata } : {}),
      };
      messages.set(msgKey(channel, m.ts), m);
      return ok({ channel, ts: m.ts, message: messageJson(m) });
    },
    'chat.update': (a) => {
      const ch = str(a.channel);
      const ts = str(a.ts);
      if (!ch) return fail('channel_not_found');
      if (!ts) return fail('message_not_found');
      const channel = resolveChannel(ch);
      let m = messages.get(msgKey(channel, ts));
      if (!m || m.deleted) {
        if (strict) return fail('message_not_found');
        m = { channel, ts, user: botUserId, bot_id: botId, deleted: false, edits: 0 };
        messages.set(msgKey(channel, ts), m);
      }
      if (a.blocks === undefined && a.attachments === undefined && (typeof a.text !== 'string' || a.text === '')) return fail('no_text');
      if (checkBlocks && a.blocks !== undefined) {
        const errors = validateBlocks(a.blocks, 'message');
        if (errors.length) return fail('invalid_blocks', { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
      }
      if (typeof a.text === 'string') m.text = a.text;
      if (Array.isArray(a.blocks)) m.blocks = a.blocks;
      if (Array.isArray(a.attachments)) m.attachments = a.attachments;
      m.edits += 1;
      return ok({ channel, ts, text: m.text ?? '', message: messageJson(m) });
    },
    'chat.delete': (a) => {
      const ch = str(a.channel);
      const ts = str(a.ts);
      if (!ch) return fail('channel_not_found');
      if (!ts) return fail('message_not_found');
      const channel = resolveChannel(ch);
      const m = messages.get(msgKey(channel, ts));
      if (!m || m.deleted) {
        if (strict) return fail('message_not_found');
        messages.set(msgKey(channel, ts), { channel, ts, user: botUserId, bot_id: botId, deleted: true, edits: 0 });
      } else m.deleted = true;
      return ok({ channel, ts });
    },
    'chat.postEphemeral': (a) => {
      const channel = str(a.channel);
      const user = str(a.user);
      if (!channel) return fail('channel_not_found');
      if (!user) return fail('user_not_found');
      if (strict && !users.has(user)) return fail('user_not_in_channel');
      const bad = checkMessageContent(a);
      if (bad) return bad;
      const e: FakeEphemeral = {
        channel,
        user,
        message_ts: nextTs(),
        ...(typeof a.text === 'string' ? { text: a.text } : {}),
        ...(Array.isArray(a.blocks) ? { blocks: a.blocks } : {}),
      };
      ephemerals.push(e);
      return ok({ message_ts: e.message_ts });
    },
    'chat.getPermalink': (a) => {
      const channel = str(a.channel);
      const ts = str(a.message_ts);
      if (!channel) return fail('channel_not_found');
      if (!ts) return fail('message_not_found');
      if (strict && !messages.has(msgKey(channel, ts))) return fail('message_not_found');
      return ok({ channel, permalink: `https://${teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}` });
    },
    'views.publish': (a) => {
      const userId = str(a.user_id);
      if (!userId) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: user_id'] } });
      if (strict && !users.has(userId)) return fail('user_not_found');
      const bad = checkView(a.view);
      if (bad) return bad;
      const view = a.view as Record<string, unknown>;
      if (view.type !== 'home') return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view.type must be home for views.publish'] } });
      const existing = homeByUser.get(userId) ? views.get(homeByUser.get(userId) as string) : undefined;
      const hash = str(a.hash);
      if (hash && existing && existing.hash !== hash) return fail('hash_conflict');
      const v = storeView(existing, view, { user_id: userId });
      homeByUser.set(userId, v.id);
      return ok({ view: viewJson(v) });
    },
    'views.open': (a) => {
      const trigger = str(a.trigger_id) ?? str(a.interactivity_pointer);
      if (!trigger) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: trigger_id'] } });
      const bad = checkView(a.view);
      if (bad) return bad;
      const view = a.view as Record<string, unknown>;
      if (view.type !== 'modal') return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view.type must be modal for views.open'] } });
      const v = storeView(undefined, view, { trigger_id: trigger });
      return ok({ view: viewJson(v) });
    },
    'views.push': (a) => {
      const trigger = str(a.trigger_id) ?? str(a.interactivity_pointer);
      if (!trigger) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: trigger_id'] } });
      const bad = checkView(a.view);
      if (bad) return bad;
      const view = a.view as Record<string, unknown>;
      if (view.type !== 'modal') return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view.type must be modal for views.push'] } });
      // Slack allows 3 views in a modal stack: the opened one plus two pushed.
      const pushed = [...views.values()].filter((v) => v.trigger_id === trigger && v.pushed).length;
      if (pushed >= 2) return fail('push_limit_reached');
      const v = storeView(undefined, view, { trigger_id: trigger, pushed: true });
      return ok({ view: viewJson(v) });
    },
    'views.update': (a) => {
      const viewId = str(a.view_id);
      const externalId = str(a.external_id);
      if (!viewId && !externalId) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view_id or external_id is required'] } });
      const bad = checkView(a.view);
      if (bad) return bad;
      let existing = viewId ? views.get(viewId) : [...views.values()].find((v) => v.external_id === externalId);
      if (!existing && strict) return fail('not_found');
      const hash = str(a.hash);
      if (hash && existing && existing.hash !== hash) return fail('hash_conflict');
      if (!existing && viewId) {
        existing = { id: viewId, type: String((a.view as Record<string, unknown>).type), hash: '', view: {}, history: [] };
      }
      const v = storeView(existing, a.view as Record<string, unknown>, externalId ? { external_id: externalId } : {});
      return ok({ view: viewJson(v) });
    },
    'users.info': (a) => {
      const id = str(a.user);
      const u = id ? users.get(id) : undefined;
      if (!u) return fail('user_not_found');
      return ok({ user: userJson(u, truthy(a.include_locale)) });
    },
    'conversations.open': (a) => {
      const list = (str(a.users) ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const channelArg = str(a.channel);
      if (channelArg) return ok({ channel: { id: channelArg } });
      if (list.length === 0) return fail('users_list_not_supplied');
      for (const u of list) if (!users.has(u)) return fail('user_not_found');
      if (list.length > 1) {
        const id = `G0FAKE${list.join('').length.toString(36).toUpperCase()}${(++idCounter).toString(36).toUpperCase()}`;
        channels.set(id, { id, is_private: true, is_member: true });
        return ok({ channel: { id } });
      }
      const first = list[0] as string;
      const existed = dms.has(first);
      const id = dmChannel(first);
      return ok({
        ...(existed ? { no_op: true, already_open: true } : {}),
        channel: truthy(a.return_im) ? channelJson(channels.get(id) as FakeSlackChannel) : { id },
      });
    },
    'conversations.info': (a) => {
      const id = str(a.channel);
      if (!id) return fail('channel_not_found');
      let c = channels.get(id);
      if (!c) {
        if (strict) return fail('channel_not_found');
        c = {
          id,
          name: id.toLowerCase(),
          is_member: true,
          ...(id.startsWith('G') ? { is_private: true } : {}),
          ...(id.startsWith('D') ? { is_im: true } : {}),
        };
      }
      const out = channelJson(c);
      if (truthy(a.include_num_members) && !c.is_im) out.num_members = users.size;
      return ok({ channel: out });
    },
    'conversations.history': (a) => {
      const id = str(a.channel);
      if (!id) return fail('channel_not_found');
      const channel = resolveChannel(id);
      if (strict && !channels.has(channel)) return fail('channel_not_found');
      const inclusive = truthy(a.inclusive);
      const oldest = str(a.oldest);
      const latest = str(a.latest);
      const rawLimit = Number(str(a.limit) ?? 100);
      const limit = Math.min(999, Number.isFinite(rawLimit) && rawLimit >= 1 ? Math.floor(rawLimit) : 100);
      const lo = oldest ? tsMicros(oldest) : undefined;
      const hi = latest ? tsMicros(latest) : undefined;
      const all = [...messages.values()]
        .filter((m) => m.channel === channel && !m.deleted && (!m.thread_ts || m.thread_ts === m.ts))
        .filter((m) => {
          const t = tsMicros(m.ts);
          return (lo === undefined || (inclusive ? t >= lo : t > lo)) && (hi === undefined || (inclusive ? t <= hi : t < hi));
        })
        .sort((x, y) => tsMicros(y.ts) - tsMicros(x.ts));
      // The cursor is an offset into this listing, opaque to the caller (base64, like Slack's).
      const cursor = str(a.cursor);
      const start = cursor
        ? Number(
            Buffer.from(cursor, 'base64')
              .toString('utf8')
              .replace(/^offset:/, ''),
          )
        : 0;
      if (!Number.isInteger(start) || start < 0) return fail('invalid_cursor');
      const page = all.slice(start, start + limit);
      const more = start + limit < all.length;
      const withMeta = truthy(a.include_all_metadata);
      return ok({
        messages: page.map((m) => {
          const json = messageJson(m);
          if (!withMeta) delete json.metadata;
          return json;
        }),
        has_more: more,
        pin_count: 0,
        channel_actions_ts: null,
        channel_actions_count: 0,
        response_metadata: { next_cursor: more ? Buffer.from(`offset:${start + limit}`).toString('base64') : '' },
      });
    },
    'files.getUploadURLExternal': (a) => {
      const filename = str(a.filename);
      const lengthRaw = a.length;
      const length = typeof lengthRaw === 'number' ? lengthRaw : typeof lengthRaw === 'string' && lengthRaw !== '' ? Number(lengthRaw) : undefined;
      if (!filename) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: filename'] } });
      if (length === undefined || !Number.isFinite(length))
        return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: length'] } });
      const id = nextId('F');
      files.set(id, { id, filename, length, content: undefined, uploaded: false, completed: false });
      return ok({ upload_url: `${baseUrl}/upload/v1/${id}`, file_id: id });
    },
    'files.completeUploadExternal': (a) => {
      const list = a.files;
      if (!Array.isArray(list) || list.length === 0)
        return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: files'] } });
      const out: Record<string, unknown>[] = [];
      for (const entry of list as Array<{ id?: unknown; title?: unknown }>) {
        const f = typeof entry?.id === 'string' ? files.get(entry.id) : undefined;
        if (!f) return fail('file_not_found');
        if (!f.uploaded) return fail('file_upload_not_completed');
        f.completed = true;
        if (typeof entry.title === 'string') f.title = entry.title;
        const channelId = str(a.channel_id);
        const channelsArg = str(a.channels);
        if (channelId) f.channel_id = channelId;
        if (channelsArg) f.channels = channelsArg;
        if (typeof a.initial_comment === 'string') f.initial_comment = a.initial_comment;
        if (str(a.thread_ts)) f.thread_ts = str(a.thread_ts);
        out.push({
          id: f.id,
          created: Math.floor(Date.now() / 1000),
          name: f.filename,
          title: f.title ?? f.filename,
          mimetype: 'application/octet-stream',
          size: f.content?.length ?? f.length ?? 0,
          user: botUserId,
          url_private: `${baseUrl}/files-pri/${teamId}-${f.id}/${encodeURIComponent(f.filename)}`,
          permalink: `https://${teamDomain}.slack.com/files/${botUserId}/${f.id}/${encodeURIComponent(f.filename)}`,
        });
      }
      return ok({ files: out });
    },
  };

  // -- routing ------------------------------------------------------------------------------

  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  const send = (res: ServerResponse, a: Answer) => {
    const body = JSON.stringify(a.body);
    res.writeHead(a.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...(a.headers ?? {}) });
    res.end(body);
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, method: string, query: URLSearchParams) => {
    const at = Date.now();
    const body = await readBody(req);
    const decoded = decodeArgs(req, body, query);
    const token = bearer(req) ?? str(decoded.args.token);
    const args = decoded.args;
    if ('token' in args) args.token = '[redacted]';
    const record = (status: number, response: Record<string, unknown>, fault?: RecordedCall['fault']) => {
      recorded.push({ method, args, at, token, encoding: decoded.encoding, status, response, ...(fault ? { fault } : {}) });
      // The bearer token is how a call authenticates; everything else the app sent is scanned for secrets.
      reportToSecretGuard(`slack:${method}`, JSON.stringify(args));
    };
    const delay = latency.get(method) ?? latency.get('*') ?? 0;

    let answer: Answer;
    let fault: RecordedCall['fault'];
    const override = overrides.get(method);
    const queue = faults.get(method);
    if (!token || !tokens.has(token)) {
      answer = fail('invalid_auth');
    } else if (queue && queue.length > 0) {
      const f = queue[0] as NonNullable<typeof queue>[number];
      const left = (f.o.times ?? 1) - 1;
      if (left <= 0) queue.shift();
      else f.o.times = left;
      if (f.kind === 'rate_limited') {
        fault = 'rate_limited';
        const retryAfter = f.o.retryAfter ?? 1;
        answer = { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': String(retryAfter) } };
      } else {
        fault = 'error';
        answer = { status: f.o.status ?? 200, body: { ok: false, error: f.o.error ?? 'internal_error', ...(f.o.extra ?? {}) } };
      }
    } else if (decoded.error) {
      answer = fail(decoded.error);
    } else if (override) {
      const r = await override(args, { method, token });
      answer = isAnswer(r) ? r : { status: 200, body: r };
    } else {
      const h = handlers[method];
      answer = h ? h(args) : fail('unknown_method', { req_method: method });
    }
    record(answer.status, answer.body, fault);
    // The call has taken effect; only its answer waits (a hold, latency).
    const held = holds.get(method);
    if (held && (!held.predicate || held.predicate(args))) {
      held.count++;
      await held.gate;
    }
    if (delay > 0) await sleep(delay);
    send(res, answer);
  };

  const handleResponseUrl = async (req: IncomingMessage, res: ServerResponse, id: string) => {
    const at = Date.now();
    const raw = await readBody(req);
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8') || '{}');
      body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { _raw: parsed };
    } catch {
      // Slack also accepts form posts with a `payload` field; keep what arrived.
      const form = fromSearchParams(new URLSearchParams(raw.toString('utf8')));
      try {
        body = typeof form.payload === 'string' ? (JSON.parse(form.payload) as Record<string, unknown>) : form;
      } catch {
        body = form;
      }
    }
    decodeJsonFields(body);
    const used = responsesRecorded.filter((r) => r.id === id && !r.rejected).length;
    const rejected = used >= maxUses;
    responsesRecorded.push({ id, body, at, rejected });
    reportToSecretGuard(`slack:response_url`, JSON.stringify(body));
    if (rejected) {
      send(res, { status: 404, body: { ok: false, error: 'used_url' } });
      return;
    }
    if (checkBlocks && body.blocks !== undefined) {
      const errors = validateBlocks(body.blocks, 'message');
      if (errors.length) {
        send(res, { status: 400, body: { ok: false, error: 'invalid_blocks', response_metadata: { messages: errors } } });
        return;
      }
    }
    send(res, ok());
  };

  const handleUpload = async (req: IncomingMessage, res: ServerResponse, fileId: string) => {
    const raw = await readBody(req);
    const f = files.get(fileId);
    if (!f) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('file not found');
      return;
    }
    const ct = String(req.headers['content-type'] ?? '');
    let content = raw;
    if (ct.toLowerCase().startsWith('multipart/form-data')) {
      const parts = parseMultipart(raw, ct);
      const part = parts.find((p) => p.filename !== undefined) ?? parts.find((p) => p.name === 'body' || p.name === 'file') ?? parts[0];
      if (part) content = part.data;
    }
    f.content = Buffer.from(content);
    f.uploaded = true;
    // An uploaded file (an export) leaves the app like any call: scanned too.
    reportToSecretGuard(`slack:upload ${f.filename}`, f.content.toString('utf8'));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`OK - ${f.content.length}`);
  };

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://fake.invalid');
    const path = u.pathname;
    // The request handler cannot be awaited by node:http; every failure of `p` becomes a 500 here instead.
    const done = (p: Promise<void>): void => {
      void p.catch((err: unknown) => {
        if (!res.headersSent) send(res, { status: 500, body: { ok: false, error: 'fake_slack_internal', detail: String(err) } });
        else res.end();
      });
    };
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/([A-Za-z0-9_.]+)\/?$/.exec(path)) && (req.method === 'POST' || req.method === 'GET')) {
      done(handleApi(req, res, m[1] as string, u.searchParams));
    } else if ((m = /^\/response\/([^/]+)$/.exec(path)) && req.method === 'POST') {
      done(handleResponseUrl(req, res, decodeURIComponent(m[1] as string)));
    } else if ((m = /^\/upload\/v1\/([^/]+)$/.exec(path)) && req.method === 'POST') {
      done(handleUpload(req, res, decodeURIComponent(m[1] as string)));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const poll = async <T>(find: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = find();
      if (hit !== undefined) return hit;
      if (Date.now() >= deadline) throw new Error(`fake Slack: timed out after ${timeoutMs} ms waiting for ${describe()}`);
      await sleep(10);
    }
  };

  const summary = () => {
    const counts = new Map<string, number>();
    for (const c of recorded) counts.set(c.method, (counts.get(c.method) ?? 0) + 1);
    return counts.size ? [...counts].map(([k, v]) => `${k}×${v}`).join(', ') : 'none';
  };

  const api: FakeSlackApi = {
    url: baseUrl,
    apiUrl: `${baseUrl}/api/`,
    token: [...tokens][0] ?? FAKE_BOT_TOKEN,
    teamId,
    botUserId,
    calls: (method) => (method ? recorded.filter((c) => c.method === method) : [...recorded]),
    last: (method) => {
      for (let i = recorded.length - 1; i >= 0; i--) if (recorded[i]?.method === method) return recorded[i];
      return undefined;
    },
    waitFor: (method, predicate, timeoutMs = 10_000) =>
      poll(
        () => recorded.find((c) => c.method === method && (!predicate || predicate(c))),
        timeoutMs,
        () => `${method}${predicate ? ' (matching the predicate)' : ''}; recorded calls: ${summary()}`,
      ),
    waitForCount: (method, count, predicate, timeoutMs = 10_000) =>
      poll(
        () => {
          const hits = recorded.filter((c) => c.method === method && (!predicate || predicate(c)));
          return hits.length >= count ? hits : undefined;
        },
        timeoutMs,
        () => `${count} × ${method}; recorded calls: ${summary()}`,
      ),
    reset: () => {
      recorded = [];
      responsesRecorded = [];
      faults = new Map();
      latency = new Map();
      overrides = new Map();
      for (const h of holds.values()) h.open(); // answers still held go out
      holds = new Map();
      messages = new Map();
      ephemerals = [];
      views = new Map();
      homeByUser = new Map();
      files = new Map();
      dms = new Map();
      seed();
    },
    failNext: (method, o = {}) => {
      const q = faults.get(method) ?? [];
      q.push({ kind: 'error', o: { ...o } });
      faults.set(method, q);
    },
    rateLimitNext: (method, o = {}) => {
      const q = faults.get(method) ?? [];
      q.push({ kind: 'rate_limited', o: { ...o } });
      faults.set(method, q);
    },
    setLatency: (method, ms) => {
      if (ms > 0) latency.set(method, ms);
      else latency.delete(method);
    },
    hold: (method, predicate) => {
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const h = { ...(predicate ? { predicate } : {}), count: 0, gate, open };
      holds.set(method, h);
      return {
        arrived: (n, timeoutMs = 15_000) =>
          poll(
            () => (h.count >= n ? true : undefined),
            timeoutMs,
            () => `${n} held ${method} call(s), ${h.count} arrived; recorded calls: ${summary()}`,
          ).then(() => undefined),
        count: () => h.count,
        release: () => {
          if (holds.get(method) === h) holds.delete(method);
          open();
        },
      };
    },
    override: (method, handler) => {
      if (handler) overrides.set(method, handler);
      else overrides.delete(method);
    },
    addUser: (user) => {
      users.set(user.id, { ...user });
    },
    addChannel: (channel) => {
      channels.set(channel.id, { ...channel });
    },
    responseUrl: (id) => `${baseUrl}/response/${encodeURIComponent(id ?? `r${++responseCounter}`)}`,
    responses: (id) => responsesRecorded.filter((r) => id === undefined || r.id === id),
    waitForResponse: (id, predicate, timeoutMs = 10_000) =>
      poll(
        () => responsesRecorded.find((r) => (id === undefined || r.id === id) && (!predicate || predicate(r))),
        timeoutMs,
        () => `a response_url post${id !== undefined ? ` to ${id}` : ''}; recorded posts: ${responsesRecorded.length}; recorded calls: ${summary()}`,
      ),
    messages: (channel) => [...messages.values()].filter((m) => channel === undefined || m.channel === channel),
    message: (channel, ts) => messages.get(msgKey(channel, ts)),
    ephemerals: (channel) => ephemerals.filter((e) => channel === undefined || e.channel === channel),
    seedMessage: (msg) => {
      const m: FakeMessage = {
        channel: msg.channel,
        ts: msg.ts ?? nextTs(),
        user: msg.user ?? botUserId,
        bot_id: msg.bot_id ?? botId,
        deleted: false,
        edits: 0,
        ...(msg.text !== undefined ? { text: msg.text } : {}),
        ...(msg.blocks !== undefined ? { blocks: msg.blocks } : {}),
        ...(msg.metadata !== undefined ? { metadata: msg.metadata } : {}),
      };
      messages.set(msgKey(m.channel, m.ts), m);
      return m;
    },
    views: () => [...views.values()],
    homeView: (userId) => {
      const id = homeByUser.get(userId);
      return id ? views.get(id) : undefined;
    },
    files: () => [...files.values()],
    dmChannel,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return api;
}
