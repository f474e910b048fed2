import { reasonOf, StartupError } from '../config/errors';
import type { Store } from '../core/ports';
import type { Logger } from '../logging/logger';
import { parseStoreUrl } from './url';

export interface OpenStoreOptions {
  logger?: Logger;
}

/**
 * Opens the store named by `BWPREP_STORE_URL` (see ./url.ts for the URL forms and the `prefix` /
 * `schema` query parameters). Backends are loaded on demand, so an SQLite deployment never loads pg.
 */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  let parsed: ReturnType<typeof parseStoreUrl>;
  try {
    parsed = parseStoreUrl(url);
  } catch (err) {
    // A redis database that is not a number, a schema that is not an identifier: name the variable.
    throw new StartupError('startup.store.bad_url', { reason: reasonOf(err).replace(/^store URL: /, '') }, { cause: err });
  }
  switch (parsed.kind) {
    case 'sqlite': {
      const { openSqliteStore } = await import('./sqlite');
      return openSqliteStore(parsed.path, parsed.description, opts.logger);
    }
    case 'redis': {
      const { openRedisStore } = await import('./redis');
      return openRedisStore(parsed, opts.logger);
    }
    case 'postgres': {
      const { openPostgresStore } = await import('./postgres');
      return openPostgresStore(parsed, opts.logger);
    }
  }
}
