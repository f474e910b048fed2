import { describe, expect, it } from 'vitest';
import { isStoreUnavailable } from '../../src/store/unavailable';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('isStoreUnavailable', () => {
  it('recognises an unreachable store: sockets, ioredis, pg and SQLite, also as a cause', () => {
    for (const e of [
      coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6390'),
      coded('ECONNRESET'),
      Object.assign(new Error('Reached the max retries per request limit (which is 3).'), { name: 'MaxRetriesPerRequestError' }),
      new Error('Connection is closed.'),
      coded('57P01', 'terminating connection due to administrator command'),
      coded('08006', 'connection failure'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      coded('SQLITE_BUSY', 'database is locked'),
      coded('SQLITE_IOERR_WRITE'),
      new Error('update failed', { cause: coded('ECONNREFUSED') }),
    ]) {
      expect(isStoreUnavailable(e), String(e)).toBe(true);
    }
  });

  it('does not mistake bugs, bad data or refusals for an outage', () => {
    for (const e of [
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      new SyntaxError('Unexpected token'),
      coded('23505', 'duplicate key'),
      coded('SQLITE_CONSTRAINT'),
      'ECONNREFUSED',
      undefined,
      null,
      42,
    ]) {
      expect(isStoreUnavailable(e), String(e)).toBe(false);
    }
  });
});
