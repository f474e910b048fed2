import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportToSecretGuard } from '../helpers/secret-guard';

/**
 * A real local HTTP server that speaks the Bitwarden identity + Public API (reference/bitwarden-public-api.md)
 * for one fixture organization at a time, on one port:
 *   POST /identity/connect/token, POST /connect/token                  (identity)
 *   GET  [/api]/public/{members,groups,collections,policies,events,organization/subscription}
 *   GET  /config, /api/config                                          (unauthenticated)
 * It logs every request and injects faults (429 + Retry-After, 5xx, slow answers, malformed JSON, connection
 * resets, expired tokens, invalid_client).
 */

export interface AssocJson {
  /** `Guid?` in the server model: null is possible. */
  id: string | null;
  readOnly: boolean;
  hidePasswords: boolean;
  manage: boolean;
}

export interface MemberJson {
  object: 'member';
  id: string;
  userId: string | null;
  name: string | null;
  email: string;
  twoFactorEnabled: boolean;
  status: number;
  type: number;
  externalId: string | null;
  ssoExternalId: string | null;
  resetPasswordEnrolled: boolean;
  permissions: Record<string, boolean> | null;
  collections: AssocJson[];
}

export interface GroupJson {
  object: 'group';
  id: string;
  name: string;
  externalId: string | null;
  collections: AssocJson[];
  /** Servers before mid-2024 (bitwarden/server cae417e2a2): the group reaches every collection. */
  accessAll?: boolean;
}

export interface CollectionJson {
  object: 'collection';
  id: string;
  externalId: string | null;
  groups: AssocJson[] | null;
}

export interface PolicyJson {
  object: 'policy';
  id: string;
  type: number;
  enabled: boolean;
  data: Record<string, unknown> | null;
}

export interface EventJson {
  object: 'event';
  type: number;
  itemId: string | null;
  collectionId: string | null;
  groupId: string | null;
  policyId: string | null;
  memberId: string | null;
  actingUserId: string | null;
  installationId: string | null;
  date: string;
  device: number | null;
  ipAddress: string | null;
  secretId: string | null;
  projectId: string | null;
  serviceAccountId: string | null;
}

export interface FixtureOrg {
  name: string;
  orgId: string;
  clientSecret: string;
  kind: 'cloud' | 'self-hosted' | 'vaultwarden';
  members: MemberJson[];
  groups: GroupJson[];
  collections: CollectionJson[];
  policies: PolicyJson[];
  events: EventJson[];
  /** Cloud seats (subscription endpoint). */
  seats?: number | null;
  /** `/config` body. */
  config: Record<string, unknown>;
  /** Faults the server injects as soon as the fixture is loaded (how this organization's server misbehaves). */
  faults?: FaultSpec[];
  quirks?: {
    /** Collections list with `groups: null` (server < v2025.12.2). */
    nullCollectionGroups?: boolean;
    /** `continuationToken: ""` on the last event page (server < v2026.2.1). */
    emptyStringToken?: boolean;
    /** `continuationToken: null` on every list (server < 2025-02). */
    legacyListToken?: boolean;
    /** Event dates without a zone (self-hosted database). */
    dateWithoutZone?: boolean;
    /** Serve an empty page (with a token) before every real page, as Azure Table queries may. */
    emptyPages?: boolean;
    /** Groups list with `collections: null` (servers from before 2022). */
    nullGroupCollections?: boolean;
    /** `GET /public/groups/{id}` and `/public/collections/{id}` leave the associations out as well. */
    perIdWithoutAssociations?: boolean;
    /** Event paging whose continuation tokens cycle through this many values (A→B→…→A) and never end. */
    cyclingTokens?: number;
    /** Event paging that never ends: every page is empty and carries a new token. */
    endlessPages?: boolean;
  };
}

export interface FaultSpec {
  /** Matched against the normalized path (`/public/members`, `/connect/token`, `/config`). */
  path: string | RegExp;
  method?: 'GET' | 'POST';
  /** How many requests it applies to (default: all). */
  times?: number;
  kind: 'status' | 'rate-limit' | 'slow' | 'malformed' | 'reset' | 'invalid-client';
  status?: number;
  body?: string;
  /** `Retry-After` header for rate-limit (seconds). */
  retryAfter?: number | string;
  delayMs?: number;
}

export interface LoggedRequest {
  method: string;
  /** Raw path as requested (with /api or /identity prefix). */
  rawPath: string;
  /** Normalized path. */
  path: string;
  query: Record<string, string>;
  status: number;
  authorized: boolean;
  form?: Record<string, string>;
  /** When the request arrived (Date.now(), ms): tests measure waits between requests with it. */
  at: number;
}

const FAKE_PAGE_SIZE = 50;
export const ACCESS_TOKEN_PREFIX = 'fake-access-token-not-real-';

/** Whether a logged request is `method` to `path` (the normalized path, or a pattern it matches). */
function isRequest(r: Pick<LoggedRequest, 'method' | 'path'>, method: string, path: string | RegExp): boolean {
  return r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path));
}

export class FakeBitwardenServer {
  private server?: Server;
  private org?: FixtureOrg;
  private faults: (FaultSpec & { used: number })[] = [];
  private tokens = new Set<string>();
  private issued = 0;
  private timers = new Set<NodeJS.Timeout>();
  readonly log: LoggedRequest[] = [];
  private waiters: { method: string; path: string | RegExp; resolve: () => void }[] = [];
  /** Token lifetime returned in `expires_in`. */
  expiresIn = 3600;
  /** Page size of /public/events. */
  pageSize = FAKE_PAGE_SIZE;
  url = '';

  /** Plain HTTP, or HTTPS with the given key and certificate (PEM). */
  async start(opts: { tls?: { key: string; cert: string } } = {}): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        // A bug in the fake: answer 500 (the test sees it) rather than leave the request hanging.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `fake bitwarden: ${String(err)}` }));
      });
    };
    this.server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  load(org: FixtureOrg): this {
    this.org = structuredClone(org);
    this.faults = (org.faults ?? []).map((f) => ({ ...f, used: 0 }));
    this.tokens.clear();
    this.resetLog();
    return this;
  }

  get fixture(): FixtureOrg {
    if (!this.org) throw new Error('no fixture loaded');
    return this.org;
  }

  /** Adds events (e.g. between two runs). */
  addEvents(events: EventJson[]): void {
    this.fixture.events.push(...events);
  }

  fault(spec: FaultSpec): this {
    this.faults.push({ ...spec, used: 0 });
    return this;
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Revokes every issued access token: the next API call answers 401. */
  expireTokens(): void {
    this.tokens.clear();
  }

  get clientId(): string {
    return `organization.${this.fixture.orgId}`;
  }

  get issuedTokens(): number {
    return this.issued;
  }

  requests(method: string, path: string | RegExp): LoggedRequest[] {
    return this.log.filter((r) => isRequest(r, method, path));
  }

  count(method: string, path: string | RegExp): number {
    return this.requests(method, path).length;
  }

  /** Resolves when a request to `method path` arrives (at once if one already has, since the last resetLog). */
  arrived(method: string, path: string | RegExp): Promise<void> {
    if (this.count(method, path) > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ method, path, resolve }));
  }

  resetLog(): void {
    this.log.length = 0;
    this.peakInFlight = this.inFlight;
  }

  // ---- handling ----------------------------------------------------------------------------------

  private normalize(raw: string): { path: string; surface: 'identity' | 'api' } {
    if (raw.startsWith('/identity/')) return { path: raw.slice('/identity'.length), surface: 'identity' };
    if (raw === '/connect/token') return { path: raw, surface: 'identity' };
    if (raw.startsWith('/api/')) return { path: raw.slice('/api'.length), surface: 'api' };
    return { path: raw, surface: 'api' };
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private pickFault(method: string, path: string): (FaultSpec & { used: number }) | undefined {
    for (const f of this.faults) {
      if (f.method && f.method !== method) continue;
      if (typeof f.path === 'string' ? f.path !== path : !f.path.test(path)) continue;
      if (f.times !== undefined && f.used >= f.times) continue;
      f.used++;
      return f;
    }
    return undefined;
  }

  /** Requests being handled right now, and the most at once since the last resetLog(). */
  inFlight = 0;
  peakInFlight = 0;

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    res.once('close', () => this.inFlight--);
    const u = new URL(req.url ?? '/', 'http://fake');
    const { path } = this.normalize(u.pathname);
    const method = req.method ?? 'GET';
    const body = method === 'POST' ? await this.readBody(req) : '';
    const entry: LoggedRequest = {
      at: Date.now(),
      method,
      rawPath: u.pathname,
      path,
      query: Object.fromEntries(u.searchParams.entries()),
      status: 0,
      authorized: false,
      ...(method === 'POST' && body ? { form: Object.fromEntries(new URLSearchParams(body).entries()) } : {}),
    };
    this.log.push(entry);
    this.waiters = this.waiters.filter((w) => {
      const hit = isRequest(entry, w.method, w.path);
      if (hit) w.resolve();
      return !hit;
    });
    // Scanned for secrets: the path, the query and any form body, except the token request's own client_secret.
    const { client_secret: _ownCredential, ...form } = entry.form ?? {};
    reportToSecretGuard(
      `bitwarden:${method} ${path}`,
      JSON.stringify({ path: u.pathname, query: entry.query, form: path === '/connect/token' ? form : entry.form }),
    );
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      const text = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...headers });
      res.end(text);
    };

    const fault = this.pickFault(method, path);
    if (fault) {
      switch (fault.kind) {
        case 'reset':
          entry.status = -1;
          req.socket.destroy();
          return;
        case 'slow': {
          entry.status = -2;
          const t = setTimeout(() => {
            this.timers.delete(t);
            if (!res.destroyed) this.route(method, path, u, body, req, entry, send);
          }, fault.delayMs ?? 5_000);
          this.timers.add(t);
          return;
        }
        case 'malformed':
          entry.status = 200;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(fault.body ?? '{"object":"list","data":[{"object":"member",');
          return;
        case 'rate-limit':
          return send(
            429,
            {
              object: 'error',
              message: 'Slow down! Too many requests. Try again in 1m.',
              validationErrors: null,
              exceptionMessage: null,
              exceptionStackTrace: null,
              innerExceptionMessage: null,
            },
            fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {},
          );
        case 'invalid-client':
          return send(400, { error: 'invalid_client' });
        case 'status':
          return send(
            fault.status ?? 500,
            fault.body ?? (fault.status === 404 ? undefined : { object: 'error', message: 'An unhandled server error has occurred.', errors: null }),
          );
      }
    }
    this.route(method, path, u, body, req, entry, send);
  }

  private route(
    method: string,
    path: string,
    u: URL,
    body: string,
    req: IncomingMessage,
    entry: LoggedRequest,
    send: (status: number, payload: unknown, headers?: Record<string, string>) => void,
  ): void {
    const org = this.fixture;
    if (method === 'POST' && path === '/connect/token') return this.token(body, send);
    if (method === 'GET' && path === '/config') return send(200, org.config);
    if (method === 'GET' && (path === '/alive' || path === '/now')) return send(200, JSON.stringify(new Date().toISOString()));
    if (!path.startsWith('/public/')) return send(404, undefined);

    if (org.kind === 'vaultwarden') {
      return send(404, { error: { code: 404, reason: 'Not Found', description: 'The requested resource could not be found.' } });
    }
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!this.tokens.has(token)) return send(401, undefined, { 'www-authenticate': 'Bearer' });
    entry.authorized = true;
    if (method !== 'GET') return send(405, { object: 'error', message: 'bwprep must not write', errors: null });

    const list = (data: unknown[]) => ({ object: 'list', data, ...(org.quirks?.legacyListToken ? { continuationToken: null } : {}) });
    switch (path) {
      case '/public/members':
        return send(200, list(org.members));
      case '/public/groups':
        return send(200, list(org.quirks?.nullGroupCollections ? org.groups.map((g) => ({ ...g, collections: null })) : org.groups));
      case '/public/collections':
        return send(200, list(org.quirks?.nullCollectionGroups ? org.collections.map((c) => ({ ...c, groups: null })) : org.collections));
      case '/public/policies':
        return send(200, list(org.policies));
      case '/public/organization/subscription':
        if (org.kind === 'self-hosted') return send(400, { object: 'error', message: 'Only allowed when not self hosted.', errors: null });
        return send(200, {
          passwordManager: { seats: org.seats ?? null, maxAutoScaleSeats: null, storage: 1 },
          secretsManager: { seats: null, maxAutoScaleSeats: null, serviceAccounts: null, maxAutoScaleServiceAccounts: null },
        });
      case '/public/events':
        return this.events(u, send);
      default: {
        const m = /^\/public\/(members|groups|collections)\/([^/]+)$/.exec(path);
        if (m) {
          const all = (org as unknown as Record<string, { id: string }[]>)[m[1]!]!;
          const found = all.find((x) => x.id === m[2]);
          if (!found) return send(404, undefined);
          if (org.quirks?.perIdWithoutAssociations && m[1] !== 'members') return send(200, { ...found, [m[1] === 'groups' ? 'collections' : 'groups']: null });
          return send(200, found);
        }
        return send(404, undefined);
      }
    }
  }

  private token(body: string, send: (status: number, payload: unknown) => void): void {
    const f = new URLSearchParams(body);
    const org = this.fixture;
    if (f.get('grant_type') !== 'client_credentials' || f.get('scope') !== 'api.organization') return send(400, { error: 'invalid_scope' });
    if (f.get('client_id') !== `organization.${org.orgId}` || f.get('client_secret') !== org.clientSecret) return send(400, { error: 'invalid_client' });
    if (org.kind === 'vaultwarden' && !(f.get('deviceIdentifier') && f.get('deviceName') && f.get('deviceType')))
      return send(400, { error: 'invalid_request' });
    this.issued++;
    const token = `${ACCESS_TOKEN_PREFIX}${this.issued}-${org.orgId}`;
    this.tokens.add(token);
    send(200, { access_token: token, expires_in: this.expiresIn, token_type: 'Bearer', scope: 'api.organization' });
  }

  /** Events sorted newest first with parsed times, rebuilt when the fixture's event list changes. */
  private sorted?: { source: EventJson[]; length: number; items: { t: number; ev: EventJson }[] };

  /** The index range [from, to) of events with lo <= date <= hi in the sorted list. */
  private eventsIn(lo: number, hi: number): { items: { t: number; ev: EventJson }[]; from: number; to: number } {
    const events = this.fixture.events;
    if (!this.sorted || this.sorted.source !== events || this.sorted.length !== events.length) {
      const items = events.map((ev) => ({ t: Date.parse(ev.date), ev })).sort((a, b) => b.t - a.t);
      this.sorted = { source: events, length: events.length, items };
    }
    const items = this.sorted.items;
    // First index with t <= hi, first index with t < lo (descending order).
    const firstAtOrBelow = (x: number, strict: boolean) => {
      let a = 0;
      let b = items.length;
      while (a < b) {
        const m = (a + b) >> 1;
        if (strict ? items[m]!.t < x : items[m]!.t <= x) b = m;
        else a = m + 1;
      }
      return a;
    };
    return { items, from: firstAtOrBelow(hi, false), to: firstAtOrBelow(lo, true) };
  }

  /** Events newest first, fixed page size, opaque offset tokens; start/end inclusive (reference §3.7). */
  private events(u: URL, send: (status: number, payload: unknown) => void): void {
    const org = this.fixture;
    const q = u.searchParams;
    let start = q.get('start');
    let end = q.get('end');
    if (!start || !end) {
      const now = Date.now();
      start = new Date(now - 30 * 86_400_000).toISOString();
      end = new Date(now).toISOString();
    }
    const s = Date.parse(start);
    const e = Date.parse(end);
    if (Number.isNaN(s) || Number.isNaN(e)) return send(400, { object: 'error', message: 'The request is invalid.', errors: null });
    const [lo, hi] = s <= e ? [s, e] : [e, s];
    if (hi - lo > 367 * 86_400_000) return send(400, { object: 'error', message: 'Date range must be < 367 days.', errors: null });
    const range = this.eventsIn(lo, hi);
    const total = range.to - range.from;
    const raw = q.get('continuationToken');
    let offset = 0;
    let emptyServed = false;
    if (raw && !org.quirks?.cyclingTokens && !org.quirks?.endlessPages) {
      const m = /^o:(\d+)(:e)?$/.exec(Buffer.from(raw, 'base64').toString('utf8'));
      if (!m) return send(400, { object: 'error', message: 'Invalid continuation token.', errors: null });
      offset = Number(m[1]);
      emptyServed = Boolean(m[2]);
    }
    const tok = (s2: string) => Buffer.from(s2).toString('base64');
    if (org.quirks?.cyclingTokens) {
      const n = org.quirks.cyclingTokens;
      const at = raw ? Number(/^c:(\d+)$/.exec(Buffer.from(raw, 'base64').toString('utf8'))?.[1] ?? 0) : -1;
      return send(200, { object: 'list', data: [], continuationToken: tok(`c:${(at + 1) % n}`) });
    }
    if (org.quirks?.endlessPages) {
      const at = raw ? Number(/^x:(\d+)$/.exec(Buffer.from(raw, 'base64').toString('utf8'))?.[1] ?? 0) : 0;
      return send(200, { object: 'list', data: [], continuationToken: tok(`x:${at + 1}`) });
    }
    if (org.quirks?.emptyPages && !emptyServed) {
      return send(200, { object: 'list', data: [], continuationToken: tok(`o:${offset}:e`) });
    }
    const page = range.items.slice(range.from + offset, Math.min(range.to, range.from + offset + this.pageSize)).map((x) => x.ev);
    const next = offset + this.pageSize < total ? tok(`o:${offset + this.pageSize}`) : org.quirks?.emptyStringToken ? '' : null;
    const data = org.quirks?.dateWithoutZone ? page.map((ev) => ({ ...ev, date: ev.date.replace(/Z$/, '') })) : page;
    send(200, { object: 'list', data, continuationToken: next });
  }
}

export async function startFakeBitwarden(org?: FixtureOrg): Promise<FakeBitwardenServer> {
  const s = await new FakeBitwardenServer().start();
  if (org) s.load(org);
  return s;
}

/**
 * A fake Bitwarden server over HTTPS, with a fresh self-signed certificate for 127.0.0.1 made by openssl in
 * a temp dir (RSA 2048 or EC P-256). `caFile` is the certificate a client must trust (BW_CA_FILE); `close()`
 * stops the server and removes the dir. No openssl, or a server that cannot start, fails the caller: a test
 * set-up that fails never skips.
 */
export async function startTlsFakeBitwarden(
  opts: { key?: 'rsa' | 'ec' } = {},
): Promise<{ server: FakeBitwardenServer; caFile: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bwprep-tls-'));
  const keyArgs = opts.key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  const keyFile = join(dir, 'key.pem');
  const caFile = join(dir, 'ca.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        ...keyArgs,
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        caFile,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    const server = await new FakeBitwardenServer().start({ tls: { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(caFile, 'utf8') } });
    return {
      server,
      caFile,
      close: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
