/**
 * Is this error the store being unreachable (down, restarting, network), rather than a bug or bad data?
 * Callers turn it into "temporarily unavailable, nothing was changed" (every store write is atomic: the
 * rollout and its audit entries are written together or not at all, see ARCHITECTURE.md "Store").
 *
 * Recognised, anywhere in the `cause` chain:
 * - socket errors: `ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, `EPIPE`, `EHOSTUNREACH`, `ENETUNREACH`, `ENOTFOUND`, `EAI_AGAIN`;
 * - ioredis: `MaxRetriesPerRequestError` (the command waited through its reconnect attempts),
 *   "Connection is closed.", "Stream isn't writeable" (ioredis/built/Redis.js, Command.js);
 * - pg: SQLSTATE class 08 (connection exception), 57P01–57P03 (admin/crash shutdown, cannot connect now),
 *   "Connection terminated", "timeout exceeded when trying to connect" (pg-pool), a client "not queryable";
 * - SQLite: `SQLITE_BUSY` after the busy timeout, `SQLITE_CANTOPEN`, `SQLITE_IOERR*`, `SQLITE_FULL`.
 */
export function isStoreUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (SOCKET_CODES.has(code)) return true;
      if (/^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03') return true;
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR')) return true;
    }
    if (name === 'MaxRetriesPerRequestError') return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) return true;
  }
  return false;
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

const UNAVAILABLE_MESSAGES = [
  'Connection is closed.',
  "Stream isn't writeable",
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'is not queryable',
  'cannot connect to the store',
];
