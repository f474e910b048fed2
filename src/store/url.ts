/**
 * Store URLs (`BWPREP_STORE_URL`):
 *
 * - `sqlite://./data/bwprep.sqlite` — a file, relative to the working directory (default);
 *   `sqlite:///var/lib/bwprep/bwprep.sqlite` — an absolute path; `sqlite://:memory:` — in memory.
 * - `redis://[user:password@]host:port[/db][?prefix=bwprep:]` (`rediss://` for TLS). `prefix`
 *   (default `bwprep:`) starts every key, so several deployments or test runs can share one database.
 * - `postgres://user[:password]@host:port/db[?schema=name]` (`postgresql://` too). `schema`
 *   (default `public`) holds the `bwprep_*` tables; it is created when missing. Other query
 *   parameters (e.g. `sslmode`) are passed on to the driver.
 */
export type StoreUrl =
  | { kind: 'sqlite'; path: string; description: string }
  | {
      kind: 'redis';
      host: string;
      port: number;
      db: number;
      username?: string;
      password?: string;
      tls: boolean;
      prefix: string;
      description: string;
    }
  | { kind: 'postgres'; connectionString: string; schema: string; description: string };

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** WHATWG URL parsing with our message (never the raw URL: it may hold a password). Found by fuzzing: `redis://[`. */
function parseUrl(url: string, scheme: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new Error(`store URL: not a valid ${scheme}:// URL (check the host, the port and any %-escapes)`);
  }
}

/** `decodeURIComponent` with our message: a lone `%` in a user name or password is a URIError otherwise. */
function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Error(`store URL: the ${what} has a malformed %-escape`);
  }
}

export function parseStoreUrl(raw: string): StoreUrl {
  const url = raw.trim();
  const scheme = /^([a-z]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'sqlite': {
      const path = url.slice('sqlite://'.length).replace(/\?.*$/, '');
      if (!path) throw new Error('store URL: sqlite:// needs a file path, e.g. sqlite://./data/bwprep.sqlite');
      return { kind: 'sqlite', path, description: `sqlite ${path}` };
    }
    case 'redis':
    case 'rediss': {
      const u = parseUrl(url, scheme);
      const host = u.hostname || '127.0.0.1';
      const port = u.port ? Number(u.port) : 6379;
      const dbPart = u.pathname.replace(/^\//, '');
      const db = dbPart ? Number(dbPart) : 0;
      if (!Number.isInteger(db) || db < 0) throw new Error(`store URL: redis database must be a number, got "${dbPart}"`);
      const prefix = u.searchParams.get('prefix') ?? 'bwprep:';
      return {
        kind: 'redis',
        host,
        port,
        db,
        ...(u.username ? { username: decode(u.username, 'user name') } : {}),
        ...(u.password ? { password: decode(u.password, 'password') } : {}),
        tls: scheme === 'rediss',
        prefix,
        description: `${scheme} ${host}:${port}/${db}${prefix === 'bwprep:' ? '' : ` prefix=${prefix}`}`,
      };
    }
    case 'postgres':
    case 'postgresql': {
      const u = parseUrl(url, scheme);
      const schema = u.searchParams.get('schema') ?? 'public';
      if (!IDENT.test(schema)) throw new Error(`store URL: schema must be a plain SQL identifier, got "${schema}"`);
      u.searchParams.delete('schema');
      const user = u.username ? `${decode(u.username, 'user name')}@` : '';
      const db = u.pathname.replace(/^\//, '');
      return {
        kind: 'postgres',
        connectionString: u.toString(),
        schema,
        description: `postgres ${user}${u.hostname}:${u.port || 5432}/${db}${schema === 'public' ? '' : ` schema=${schema}`}`,
      };
    }
    default:
      throw new Error('store URL must be sqlite://<file>, redis://host:port[/db] or postgres://user@host:port/db');
  }
}
