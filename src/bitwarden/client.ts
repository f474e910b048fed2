import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import tls from 'node:tls';
import { Agent, type Dispatcher, interceptors, request } from 'undici';
import type { z } from 'zod';
import type { BitwardenEndpoints } from '../config/load';
import { BwprepError } from '../core/errors';
import type { Clock, KeyValueStore } from '../core/ports';
import type { Logger } from '../logging/logger';
import {
  authError,
  badResponse,
  RESET_CODES,
  hostOf,
  notFoundError,
  rateLimitedError,
  serverError,
  transportDetail,
  transportError,
  transportKind,
  unexpectedStatus,
  vaultwardenError,
} from './errors';
import type { RequestBudget } from './budget';
import { readEventsSince, type EventReadResult, type ReadEventsOptions } from './events';
import {
  type Collection,
  collectionSchema,
  configSchema,
  type EventPage,
  eventPageSchema,
  type Group,
  groupSchema,
  listSchema,
  type Member,
  memberSchema,
  oauthErrorSchema,
  type Policy,
  policySchema,
  publicErrorSchema,
  type ServerConfig,
  subscriptionSchema,
  tokenResponseSchema,
} from './schemas';

export interface BitwardenTimeouts {
  /** TCP+TLS connect. */
  connectMs: number;
  /** Until the response headers arrive. */
  headersMs: number;
  /** Between body chunks. */
  bodyMs: number;
}

export interface BitwardenRetryPolicy {
  /** Total tries for a GET on 5xx / connection reset (1 = no retry). */
  maxAttempts: number;
  /** First backoff delay; doubles each try, plus up to 100 % jitter. */
  baseDelayMs: number;
  /** A 429 asking to wait longer than this gives up at once. */
  maxRetryAfterSeconds: number;
  /** How many 429s a single GET waits out. */
  maxRateLimitRetries: number;
  /**
   * A 429 without `Retry-After` (a proxy in front of a self-hosted server) waits baseDelayMs × 2^(n−1),
   * at most this long (no jitter, so the bound holds exactly). With the defaults: 0.25 s, 0.5 s, 1 s.
   */
  maxBackoffMs: number;
}

export interface BitwardenClientOptions {
  endpoints: BitwardenEndpoints;
  clientId: string;
  clientSecret: string;
  /** Extra CA bundle (PEM file) trusted on top of Node's root store, e.g. BW_CA_FILE. */
  caFile?: string;
  timeouts?: Partial<BitwardenTimeouts>;
  retry?: Partial<BitwardenRetryPolicy>;
  /** Concurrent requests to this organization (default 4). */
  concurrency?: number;
  logger?: Logger;
  clock?: Clock;
  /** Use a shared dispatcher instead of the client's own Agent (the client then does not close it). */
  dispatcher?: Dispatcher;
}

const DEFAULT_TIMEOUTS: BitwardenTimeouts = { connectMs: 10_000, headersMs: 10_000, bodyMs: 10_000 };
const DEFAULT_RETRY: BitwardenRetryPolicy = { maxAttempts: 3, baseDelayMs: 250, maxRetryAfterSeconds: 60, maxRateLimitRetries: 3, maxBackoffMs: 8_000 };
/** Statuses a GET is retried on (undici's retry interceptor; 429 by `Retry-After`, 5xx with backoff). */
const RETRY_STATUSES = [429, 500, 502, 503, 504];
/** Refresh the token this long before it expires. */
const TOKEN_MARGIN_MS = 60_000;
/** Identifies bwprep as a device (Vaultwarden requires these; Bitwarden ignores them for org keys). */
const DEVICE_NAME = 'bwprep';
const DEVICE_TYPE = '21';

/** The answer to the cloud-only subscription endpoint: 200 on cloud, 400 on a self-hosted server. */
export interface SubscriptionProbe {
  status: number;
  seats: number | null;
  maxAutoScaleSeats: number | null;
  message: string | null;
}

/** At most `limit` tasks at once; a finishing task hands its slot straight to the next waiter. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Builds the undici Agent with our timeouts and, when given, an extra CA bundle. TLS verification stays on. */
function createBitwardenAgent(opts: { caFile?: string; timeouts?: Partial<BitwardenTimeouts>; connections?: number } = {}): Agent {
  const t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  let ca: string[] | undefined;
  if (opts.caFile) {
    let pem: string;
    try {
      pem = readFileSync(opts.caFile, 'utf8');
    } catch (e) {
      throw new BwprepError('invalid_setting', { key: 'bw.error.ca_file', vars: { file: opts.caFile } }, { cause: e });
    }
    ca = [...tls.rootCertificates, pem];
  }
  return new Agent({
    connect: { timeout: t.connectMs, rejectUnauthorized: true, ...(ca ? { ca } : {}) },
    headersTimeout: t.headersMs,
    bodyTimeout: t.bodyMs,
    // No connection cap here: the client's semaphore is its one concurrency limiter.
    ...(opts.connections ? { connections: opts.connections } : {}),
  });
}

/**
 * A read-only client for one organization's Public API key. Only `POST /connect/token` writes anything
 * (a token request); every other call is a GET.
 */
export class BitwardenClient {
  readonly endpoints: BitwardenEndpoints;
  readonly clientId: string;
  private readonly secret: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly timeouts: BitwardenTimeouts;
  private readonly retry: BitwardenRetryPolicy;
  private readonly sem: Semaphore;
  private readonly logger?: Logger;
  private readonly clock: Clock;
  private readonly deviceId = randomUUID();
  private cached?: { token: string; expiresAt: number };
  private pendingToken?: Promise<string>;
  /** Token requests made (observability; tests read it). */
  tokenRequests = 0;

  constructor(opts: BitwardenClientOptions) {
    // Only the URLs: callers may pass a config object that also carries the key.
    const e = opts.endpoints;
    this.endpoints = {
      hosting: e.hosting,
      apiUrl: e.apiUrl.replace(/\/+$/, ''),
      identityUrl: e.identityUrl.replace(/\/+$/, ''),
      ...(e.serverUrl ? { serverUrl: e.serverUrl } : {}),
    };
    this.clientId = opts.clientId;
    // Not enumerable: the secret never shows up when the client is logged or inspected.
    this.secret = opts.clientSecret;
    Object.defineProperty(this, 'secret', { enumerable: false });
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.sem = new Semaphore(Math.max(1, opts.concurrency ?? 4));
    if (opts.logger) this.logger = opts.logger;
    this.clock = opts.clock ?? { now: () => new Date() };
    if (opts.dispatcher) {
      this.dispatcher = opts.dispatcher;
      this.ownsDispatcher = false;
    } else {
      this.dispatcher = createBitwardenAgent({ ...(opts.caFile ? { caFile: opts.caFile } : {}), timeouts: this.timeouts });
      this.ownsDispatcher = true;
    }
  }

  /** A stable key for per-organization state (event high-water marks): API host + client id. */
  get orgKey(): string {
    return `${this.endpoints.apiUrl}|${this.clientId}`;
  }

  /**
   * Closes this client's connection pool (when it owns one). `force`: at once, failing requests still in
   * flight (shutdown, after its drain); otherwise requests in flight finish first (up to their timeouts).
   */
  async close(opts: { force?: boolean } = {}): Promise<void> {
    if (!this.ownsDispatcher) return;
    await (opts.force ? this.dispatcher.destroy() : this.dispatcher.close());
  }

  // ---- auth ---------------------------------------------------------------------------------

  /** A valid access token: cached until ~60 s before expiry; concurrent callers share one request. */
  async token(): Promise<string> {
    const now = this.clock.now().getTime();
    if (this.cached && now < this.cached.expiresAt - TOKEN_MARGIN_MS) return this.cached.token;
    if (!this.pendingToken) {
      this.pendingToken = this.fetchToken().finally(() => {
        this.pendingToken = undefined;
      });
    }
    return this.pendingToken;
  }

  /** Drops the cached token if it is still the given one (a 401 told us it no longer works). */
  private invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const url = `${this.endpoints.identityUrl}/connect/token`;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'api.organization',
      client_id: this.clientId,
      client_secret: this.secret,
      deviceIdentifier: this.deviceId,
      deviceName: DEVICE_NAME,
      deviceType: DEVICE_TYPE,
    }).toString();
    this.tokenRequests++;
    // POST is never retried: the token endpoint allows 10 requests a minute on cloud.
    let res: RawResponse;
    try {
      res = await this.send('POST', url, { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body);
    } catch (e) {
      throw transportError(e instanceof TransportFailure ? e.cause : e, url, this.timeouts);
    }
    if (res.status === 200) {
      const parsed = tokenResponseSchema.safeParse(safeJson(res.text));
      // No cause attached: the parse input is the token response.
      if (!parsed.success) throw badResponse(url, 'token response does not have access_token/expires_in');
      this.cached = { token: parsed.data.access_token, expiresAt: this.clock.now().getTime() + parsed.data.expires_in * 1000 };
      this.logger?.debug({ host: hostOf(url), expiresIn: parsed.data.expires_in }, 'bitwarden token granted');
      return parsed.data.access_token;
    }
    if (res.status === 400 || res.status === 401) {
      const err = oauthErrorSchema.safeParse(safeJson(res.text));
      const code = err.success ? err.data.error : `HTTP ${res.status}`;
      this.logger?.warn({ host: hostOf(url), status: res.status, error: code }, 'bitwarden token refused');
      throw authError(this.endpoints.identityUrl, this.endpoints.hosting, code);
    }
    if (res.status === 429) throw rateLimitedError(url, retryAfterSeconds(res.headers['retry-after'], this.clock));
    if (res.status >= 500) throw serverError(url, res.status);
    if (res.status === 404) throw notFoundError(url);
    throw unexpectedStatus(url, res.status);
  }

  // ---- transport -------------------------------------------------------------------------------

  /**
   * One HTTP exchange under the per-organization semaphore (the client's only concurrency limiter; it is
   * held through retry waits, so a rate-limited organization slows down as a whole). For a GET, undici's
   * retry interceptor repeats the request by `retryDecision`; the last answer (or error) comes back here.
   */
  private async send(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body: string | undefined, retry?: RetryState): Promise<RawResponse> {
    return this.sem.run(async () => {
      const started = Date.now();
      const dispatcher = retry
        ? this.dispatcher.compose(
            interceptors.retry({
              methods: ['GET'],
              statusCodes: RETRY_STATUSES,
              errorCodes: [...RESET_CODES],
              throwOnError: false,
              retry: (err, _ctx, cb) => this.retryDecision(url, err as RetryError, retry, cb),
            }),
          )
        : this.dispatcher;
      try {
        const res = await request(url, {
          method,
          headers: { 'user-agent': 'bwprep', ...headers },
          ...(body !== undefined ? { body } : {}),
          dispatcher,
          headersTimeout: this.timeouts.headersMs,
          bodyTimeout: this.timeouts.bodyMs,
        });
        const text = await res.body.text();
        this.logger?.debug(
          { method, host: hostOf(url), path: pathOf(url), status: res.statusCode, ms: Date.now() - started, tries: retry?.tries ?? 1 },
          'bitwarden request',
        );
        return { status: res.statusCode, headers: res.headers, text };
      } catch (e) {
        this.logger?.debug({ method, host: hostOf(url), path: pathOf(url), error: transportDetail(e), tries: retry?.tries ?? 1 }, 'bitwarden request failed');
        throw new TransportFailure(e);
      }
    });
  }

  /**
   * The retry policy, called by undici's retry interceptor after each failed try of a GET:
   * - 429 with `Retry-After` ≤ maxRetryAfterSeconds: wait exactly that long (at most maxRateLimitRetries
   *   times); a longer `Retry-After` gives up at once, so the error can say what the server asked;
   * - 429 without `Retry-After`: wait baseDelayMs × 2^(n−1), capped at maxBackoffMs;
   * - 5xx and connection resets: exponential backoff with jitter, maxAttempts tries in all;
   * - every retry is a request of the run's budget; without budget left the last answer stands.
   * `cb()` retries, `cb(err)` hands the last answer (or error) to `send`.
   */
  private retryDecision(url: string, err: RetryError, st: RetryState, cb: (err?: Error | null) => void): void {
    const status = err.statusCode;
    const where = { host: hostOf(url), path: pathOf(url) };
    let waitMs: number;
    if (status === 429) {
      const ra = retryAfterSeconds(err.headers?.['retry-after'], this.clock);
      st.retryAfter = ra;
      if ((ra !== undefined && ra > this.retry.maxRetryAfterSeconds) || st.rateLimited >= this.retry.maxRateLimitRetries) {
        cb(err);
        return;
      }
      st.rateLimited++;
      waitMs = ra !== undefined ? ra * 1000 : Math.min(this.retry.baseDelayMs * 2 ** (st.rateLimited - 1), this.retry.maxBackoffMs);
      this.logger?.warn(
        { ...where, retryAfter: ra ?? null, waitMs },
        ra !== undefined ? 'bitwarden rate limit, waiting as asked' : 'bitwarden rate limit without Retry-After, backing off',
      );
    } else if ((status !== undefined && status >= 500) || (status === undefined && transportKind(err) === 'reset')) {
      if (st.failures + 1 >= this.retry.maxAttempts) {
        cb(err);
        return;
      }
      st.failures++;
      const base = this.retry.baseDelayMs * 2 ** (st.failures - 1);
      waitMs = base + Math.random() * base;
      this.logger?.warn(
        { ...where, status: status ?? null, attempt: st.failures },
        status ? 'bitwarden server error, retrying' : 'bitwarden connection reset, retrying',
      );
    } else {
      cb(err);
      return;
    }
    const go = () => {
      st.tries++;
      st.waitsMs.push(Math.round(waitMs));
      setTimeout(() => cb(null), waitMs);
    };
    if (!st.budget) return go();
    st.budget.take(url).then(go, (e: unknown) => {
      st.stopped = e;
      cb(err);
    });
  }

  /**
   * GET with the retry rules (retryDecision) and one token refresh on a 401. Throws: bitwarden_auth (401
   * with a fresh token), bitwarden_rate_limited (429 given up), bitwarden_unavailable (5xx after the
   * tries, or the connection), bitwarden_timeout, bitwarden_bad_response (budget used up).
   */
  private async getRaw(url: string, opts: { auth: boolean; budget?: RequestBudget }): Promise<RawResponse> {
    let refreshed = false;
    for (;;) {
      const token = opts.auth ? await this.token() : undefined;
      if (opts.budget) await opts.budget.take(url);
      const st: RetryState = { tries: 1, failures: 0, rateLimited: 0, waitsMs: [], ...(opts.budget ? { budget: opts.budget } : {}) };
      let res: RawResponse;
      try {
        res = await this.send('GET', url, { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, undefined, st);
      } catch (e) {
        if (st.stopped) throw st.stopped;
        throw transportError(e instanceof TransportFailure ? e.cause : e, url, this.timeouts);
      }
      if (st.stopped) throw st.stopped;
      if (res.status === 401 && token && !refreshed) {
        refreshed = true;
        this.invalidate(token);
        this.logger?.info({ host: hostOf(url), path: pathOf(url) }, 'bitwarden token rejected, refreshing once');
        continue;
      }
      if (res.status === 401 && token) {
        throw new BwprepError(
          'bitwarden_auth',
          { key: 'bw.error.api_unauthorized', vars: { host: hostOf(url) } },
          { detail: `401 from ${hostOf(url)}${pathOf(url)} with a fresh token` },
        );
      }
      if (res.status === 429) throw rateLimitedError(url, st.retryAfter ?? retryAfterSeconds(res.headers['retry-after'], this.clock), st.tries);
      if (res.status >= 500) {
        const body = publicErrorSchema.safeParse(safeJson(res.text));
        throw serverError(url, res.status, body.success ? body.data.message : null);
      }
      return res;
    }
  }

  /** GET + JSON + zod. Statuses in `allow` are returned to the caller instead of thrown. */
  private async getJson<S extends z.ZodTypeAny>(
    url: string,
    schema: S,
    opts: { auth?: boolean; allow?: number[]; budget?: RequestBudget | undefined } = {},
  ): Promise<{ status: number; data?: z.infer<S>; raw?: unknown }> {
    const res = await this.getRaw(url, { auth: opts.auth ?? true, ...(opts.budget ? { budget: opts.budget } : {}) });
    if (res.status >= 200 && res.status < 300) {
      const json = safeJson(res.text);
      if (json === INVALID) throw badResponse(url, 'body is not JSON');
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const where = parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`)
          .join('; ');
        throw badResponse(url, where, parsed.error);
      }
      return { status: res.status, data: parsed.data };
    }
    if (opts.allow?.includes(res.status)) return { status: res.status, raw: safeJson(res.text) };
    if (res.status === 404) throw notFoundError(url);
    throw unexpectedStatus(url, res.status);
  }

  private api(path: string): string {
    return `${this.endpoints.apiUrl}${path}`;
  }

  // ---- endpoints ------------------------------------------------------------------------------

  /** `GET {api}/config` (unauthenticated). Throws `bitwarden_not_supported` on Vaultwarden. */
  async getConfig(): Promise<ServerConfig> {
    const url = this.api('/config');
    const { data } = await this.getJson(url, configSchema, { auth: false });
    const cfg = data as ServerConfig;
    if (cfg.server?.name && /vaultwarden/i.test(cfg.server.name)) throw vaultwardenError(url);
    return cfg;
  }

  async listMembers(budget?: RequestBudget): Promise<Member[]> {
    return (await this.getJson(this.api('/public/members'), listSchema(memberSchema), { budget })).data!.data;
  }

  /** Groups; `collections` is null in the list on servers from before 2022 (see getGroup). */
  async listGroups(budget?: RequestBudget): Promise<Group[]> {
    return (await this.getJson(this.api('/public/groups'), listSchema(groupSchema), { budget })).data!.data;
  }

  /** Collections; `groups` is null in the list on servers before v2025.12.2 (see getCollection). */
  async listCollections(budget?: RequestBudget): Promise<Collection[]> {
    return (await this.getJson(this.api('/public/collections'), listSchema(collectionSchema), { budget })).data!.data;
  }

  /** `GET /public/groups/{id}`: the group with its collections; null when it no longer exists (404). */
  async getGroup(id: string, budget?: RequestBudget): Promise<Group | null> {
    const r = await this.getJson(this.api(`/public/groups/${encodeURIComponent(id)}`), groupSchema, { budget, allow: [404] });
    return r.data ?? null;
  }

  /** `GET /public/collections/{id}`: the collection with its groups; null when it no longer exists (404). */
  async getCollection(id: string, budget?: RequestBudget): Promise<Collection | null> {
    const r = await this.getJson(this.api(`/public/collections/${encodeURIComponent(id)}`), collectionSchema, { budget, allow: [404] });
    return r.data ?? null;
  }

  async listPolicies(budget?: RequestBudget): Promise<Policy[]> {
    return (await this.getJson(this.api('/public/policies'), listSchema(policySchema), { budget })).data!.data;
  }

  /** Cloud answers 200 with seats; a self-hosted server answers 400 "Only allowed when not self hosted." */
  async probeSubscription(budget?: RequestBudget): Promise<SubscriptionProbe> {
    const r = await this.getJson(this.api('/public/organization/subscription'), subscriptionSchema, { allow: [400, 404], budget });
    if (r.data) {
      const pm = r.data.passwordManager;
      return { status: r.status, seats: pm?.seats ?? null, maxAutoScaleSeats: pm?.maxAutoScaleSeats ?? null, message: null };
    }
    const err = publicErrorSchema.safeParse(r.raw);
    return { status: r.status, seats: null, maxAutoScaleSeats: null, message: err.success ? (err.data.message ?? null) : null };
  }

  /** One page of `GET /public/events` for an explicit range (start and end always sent together). */
  async eventsPage(params: { start: string; end: string; continuationToken?: string | null }, budget?: RequestBudget): Promise<EventPage> {
    const q = new URLSearchParams({ start: params.start, end: params.end });
    if (params.continuationToken) q.set('continuationToken', params.continuationToken);
    return (await this.getJson(this.api(`/public/events?${q.toString()}`), eventPageSchema, { budget })).data as EventPage;
  }

  /** Incremental event read with a per-organization high-water mark in `store` (see events.ts). */
  async readEventsSince(store: KeyValueStore, orgKey: string = this.orgKey, opts: ReadEventsOptions = {}): Promise<EventReadResult> {
    return readEventsSince(this, store, orgKey, { clock: this.clock, ...opts });
  }
}

/** What one GET's tries went through (filled in by retryDecision). */
interface RetryState {
  tries: number;
  /** 5xx answers and connection resets retried so far. */
  failures: number;
  /** 429s waited out so far. */
  rateLimited: number;
  /** The last `Retry-After` in seconds (undefined: none was sent). */
  retryAfter?: number | undefined;
  waitsMs: number[];
  budget?: RequestBudget;
  /** Set when the budget refused a retry. */
  stopped?: unknown;
}

/** undici's RequestRetryError (status answers) or a transport error. */
type RetryError = Error & { statusCode?: number; code?: string; headers?: Record<string, string | string[] | undefined> };

class TransportFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('transport failure');
    this.name = 'TransportFailure';
  }
}

const INVALID = Symbol('invalid-json');

function safeJson(text: string): unknown {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID;
  }
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
function retryAfterSeconds(h: string | string[] | undefined, clock: Clock): number | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - clock.now().getTime()) / 1000));
}
