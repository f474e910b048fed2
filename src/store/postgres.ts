import type { Store } from '../core/ports';
import type { Logger } from '../logging/logger';
import type { StoreUrl } from './url';

/** Not implemented yet: the SQLite backend ships first. */
export async function openPostgresStore(url: Extract<StoreUrl, { kind: 'postgres' }>, _logger?: Logger): Promise<Store> {
  throw new Error(`store backend not implemented yet: ${url.description}`);
}
