import { BwprepError, isBwprepError } from '../core/errors';

/**
 * Maps transport, HTTP and schema failures of the Bitwarden client to BwprepErrors with localized,
 * actionable messages. Nothing here ever sees or echoes a secret: callers pass hosts and paths only.
 */

/**
 * Errors that stop every step of a run (issue 8 §1): the key is missing or refused (wrong region included),
 * the server is Vaultwarden, or the server cannot be reached at all (DNS, refused connection, TLS). Anything
 * else that goes wrong with one endpoint after the token was granted (5xx after retries, 429 beyond the
 * retry budget, a malformed body, a timeout, paging that does not end, the request budget) only marks the
 * steps that need that endpoint `error`.
 */
const RUN_LEVEL_CODES = new Set(['bitwarden_auth', 'bitwarden_region', 'bitwarden_tls', 'no_credentials']);

/** Errors created as "server unreachable" or "Vaultwarden" (their codes are shared with endpoint-level ones). */
const runLevelErrors = new WeakSet<object>();

function markRunLevel<E extends BwprepError>(e: E): E {
  runLevelErrors.add(e);
  return e;
}

export function isRunLevel(e: unknown): e is BwprepError {
  return isBwprepError(e) && (RUN_LEVEL_CODES.has(e.code) || runLevelErrors.has(e));
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
export const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** The error codes along the cause chain (undici wraps system errors). */
function codes(e: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') out.push(c);
    const m = (cur as { message?: unknown }).message;
    if (typeof m === 'string' && /certificate|self[- ]signed|SSL routines|TLS/i.test(m)) out.push('TLS_MESSAGE');
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

export type TransportKind = 'tls' | 'unreachable' | 'reset' | 'timeout' | 'other';

export function transportKind(e: unknown): TransportKind {
  const cs = codes(e);
  if (cs.some((c) => TLS_CODES.has(c) || c.startsWith('ERR_SSL_') || c.startsWith('ERR_TLS_') || c === 'TLS_MESSAGE')) return 'tls';
  if (cs.some((c) => TIMEOUT_CODES.has(c))) return 'timeout';
  if (cs.some((c) => UNREACHABLE_CODES.has(c))) return 'unreachable';
  if (cs.some((c) => RESET_CODES.has(c))) return 'reset';
  return 'other';
}

/** A short, secret-free description of a transport failure for logs (codes only). */
export function transportDetail(e: unknown): string {
  return (
    codes(e)
      .filter((c) => c !== 'TLS_MESSAGE')
      .join('/') || (e instanceof Error ? e.name : 'error')
  );
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** A transport failure (no HTTP answer) → the user-facing error. */
export function transportError(
  e: unknown,
  url: string,
  timeouts: { connectMs: number; headersMs: number; bodyMs: number } = { connectMs: 10_000, headersMs: 10_000, bodyMs: 10_000 },
): BwprepError {
  const host = hostOf(url);
  const kind = transportKind(e);
  const detail = `${kind} ${host}: ${transportDetail(e)}`;
  switch (kind) {
    case 'tls':
      return new BwprepError('bitwarden_tls', { key: 'bw.error.tls', vars: { host } }, { cause: e, detail });
    case 'timeout': {
      const cs = codes(e);
      const ms = cs.includes('UND_ERR_CONNECT_TIMEOUT') ? timeouts.connectMs : cs.includes('UND_ERR_BODY_TIMEOUT') ? timeouts.bodyMs : timeouts.headersMs;
      return new BwprepError('bitwarden_timeout', { key: 'bw.error.timeout', vars: { host, seconds: Math.round(ms / 100) / 10 } }, { cause: e, detail });
    }
    case 'unreachable':
      return markRunLevel(new BwprepError('bitwarden_unavailable', { key: 'bw.error.unavailable', vars: { host } }, { cause: e, detail }));
    default:
      return new BwprepError('bitwarden_unavailable', { key: 'bw.error.connection', vars: { host, path: pathOf(url) } }, { cause: e, detail });
  }
}

export function authError(identityUrl: string, hosting: string, oauthError: string): BwprepError {
  return new BwprepError(
    'bitwarden_auth',
    { key: 'bw.error.auth', vars: { host: hostOf(identityUrl), hosting, error: oauthError } },
    { detail: `token refused by ${hostOf(identityUrl)}: ${oauthError}` },
  );
}

/**
 * A 429 bwprep gave up on. With `Retry-After` the message repeats the server's figure; without it the
 * message says that no wait was given and how many times bwprep backed off (never a wait the server did
 * not ask for).
 */
export function rateLimitedError(url: string, retryAfterSeconds: number | undefined, tries = 1): BwprepError {
  const host = hostOf(url);
  if (retryAfterSeconds === undefined) {
    return new BwprepError(
      'bitwarden_rate_limited',
      { key: 'bw.error.rate_limited_no_wait', vars: { host, tries } },
      { detail: `rate limited by ${host}${pathOf(url)} without Retry-After, ${tries} tries` },
    );
  }
  return new BwprepError(
    'bitwarden_rate_limited',
    { key: 'bw.error.rate_limited', vars: { host, seconds: retryAfterSeconds } },
    { detail: `rate limited by ${host}${pathOf(url)} (retry-after ${retryAfterSeconds}, ${tries} tries)` },
  );
}

/** 5xx after the retries; `message` is the server's own `message` field, when it sent one (evidence only). */
export function serverError(url: string, status: number, message?: string | null): BwprepError {
  const e = new BwprepError(
    'bitwarden_unavailable',
    { key: 'bw.error.server', vars: { host: hostOf(url), status } },
    { detail: `HTTP ${status} from ${hostOf(url)}${pathOf(url)}` },
  );
  if (message) serverMessages.set(e, message);
  return e;
}

const serverMessages = new WeakMap<object, string>();

/** The `message` a Bitwarden error body carried, e.g. "An error occurred while retrieving the subscription details." */
export function serverMessageOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? serverMessages.get(e) : undefined;
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

export function badResponse(url: string, what: string, cause?: unknown): BwprepError {
  const path = (() => {
    try {
      return new URL(url).pathname;
    } catch {
      return url;
    }
  })();
  return new BwprepError(
    'bitwarden_bad_response',
    { key: 'bw.error.bad_response', vars: { host: hostOf(url), path } },
    { ...(cause !== undefined ? { cause } : {}), detail: `unexpected response from ${hostOf(url)}${path}: ${what}` },
  );
}

export function notFoundError(url: string): BwprepError {
  return new BwprepError(
    'bitwarden_not_supported',
    { key: 'bw.error.not_found', vars: { url: url.replace(/\?.*$/, '') } },
    { detail: `404 from ${url.replace(/\?.*$/, '')}` },
  );
}

export function unexpectedStatus(url: string, status: number): BwprepError {
  return new BwprepError(
    'bitwarden_bad_response',
    { key: 'bw.error.http_status', vars: { host: hostOf(url), status, path: new URL(url).pathname } },
    { detail: `HTTP ${status} from ${url.replace(/\?.*$/, '')}` },
  );
}

export function vaultwardenError(url: string): BwprepError {
  return markRunLevel(
    new BwprepError('bitwarden_not_supported', { key: 'bw.error.vaultwarden', vars: { host: hostOf(url) } }, { detail: `Vaultwarden at ${hostOf(url)}` }),
  );
}

/** An event paging whose continuation token came back: it would never end. */
export function pagingLoopError(url: string, pages: number): BwprepError {
  return new BwprepError(
    'bitwarden_bad_response',
    { key: 'bw.error.paging_loop', vars: { host: hostOf(url), path: pathOf(url), pages } },
    { detail: `continuation token repeats at ${hostOf(url)}${pathOf(url)} after ${pages} pages` },
  );
}

/** A message as variables of another: `{ [name]: key, "<name>.<var>": value … }` (see MESSAGE_VARS in src/i18n). */
function nestedMessage(name: string, m: { key: string; vars?: Record<string, string | number> }): Record<string, string | number> {
  const out: Record<string, string | number> = { [name]: m.key };
  for (const [k, v] of Object.entries(m.vars ?? {})) out[`${name}.${k}`] = v;
  return out;
}

/**
 * One endpoint's failure, as the steps that need it report it: the endpoint (`GET /public/members`) and the
 * reason (the original error's message in both languages). Code and cause are the original error's.
 */
export class EndpointError extends BwprepError {
  constructor(
    readonly endpoint: string,
    readonly reason: BwprepError,
  ) {
    super(
      reason.code,
      // The reason is stored as a nested message (its key, and its variables under `reason.`), rendered in the
      // reader's language when shown (MESSAGE_VARS in src/i18n), so one stored summary reads in both.
      { key: 'check.error_endpoint', vars: { endpoint, ...nestedMessage('reason', reason.userMessage) } },
      { cause: reason, detail: `${endpoint}: ${reason.message}` },
    );
  }
}

export function isEndpointError(e: unknown): e is EndpointError {
  return e instanceof EndpointError;
}
