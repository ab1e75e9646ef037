// Opening a store from a URL:
//
//   sqlite:PATH          an SQLite file, created with its directory (sqlite:./.data/gateway.db)
//   sqlite::memory:      an SQLite database in memory (gone when the process ends)
//   postgres://user:password@host:5432/database[?schema=NAME]   (or postgresql://)
//                        PostgreSQL; every table in schema NAME (created if missing; default
//                        `public`); node-postgres' own parameters (sslmode, …) pass through
//
//   const store = await openStore('sqlite:./.data/gateway.db'); // migrated, ready
//
// Migrating at start-up is safe with several instances starting at once (PostgreSQL: Kysely's
// advisory lock; SQLite: one `begin immediate` transaction). A password never appears in an
// error: the URL is shown with `***` in its place.
import { createPostgresStore } from './postgres.js';
import { createSqliteStore } from './sqlite.js';
import type { Store } from './types.js';
import { redactMessage, redactUrl } from './url.js';

export type * from './types.js';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite.js';
export { createPostgresStore, type PostgresStoreOptions } from './postgres.js';
export { createKyselyStore, type KyselyStoreOptions } from './kysely-store.js';
export { redactUrl } from './url.js';
export { StoreValueError } from './whole.js';
export type { Database } from './schema.js';

const POSTGRES = /^postgres(ql)?:\/\//i;

/** Opens the store the URL names and brings its schema up to date. */
export async function openStore(url: string): Promise<Store> {
  const store = openUnmigrated(url);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    if (!POSTGRES.test(url)) throw error;
    // Connection errors from node-postgres do not name the server: say which one, without its password.
    const message = redactMessage(error instanceof Error ? error.message : String(error), url);
    throw new Error(`store ${redactUrl(url)} could not be opened: ${message}`, { cause: error });
  }
  return store;
}

function openUnmigrated(url: string): Store {
  const shown = redactUrl(url);
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') {
      throw new Error(`store URL "${shown}" has no path: use sqlite:PATH (e.g. sqlite:./.data/gateway.db) or sqlite::memory:`);
    }
    // sqlite://x reads as a host, not a path; refuse rather than guess which file was meant.
    if (path.startsWith('//')) {
      throw new Error(`store URL "${shown}" is not supported: write sqlite:PATH (e.g. sqlite:/var/lib/gateway.db), without //`);
    }
    return createSqliteStore({ path });
  }
  if (POSTGRES.test(url)) return createPostgresStore({ url });
  throw new Error(
    `store URL "${shown}" is not supported: use sqlite:PATH (e.g. sqlite:./.data/gateway.db or sqlite::memory:) or postgres://user:password@host:5432/database`,
  );
}
