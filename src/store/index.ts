// Opening a store from a URL. `sqlite:PATH` today (`sqlite:./.data/gateway.db`,
// `sqlite::memory:`); `postgres://` arrives with the PostgreSQL dialect.
//
//   const store = await openStore('sqlite:./.data/gateway.db'); // migrated, ready
import { createSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export type * from './types.js';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite.js';
export { createKyselyStore } from './kysely-store.js';
export type { Database } from './schema.js';

/** Opens the store the URL names and brings its schema up to date. */
export async function openStore(url: string): Promise<Store> {
  const store = openUnmigrated(url);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function openUnmigrated(url: string): Store {
  const shown = redact(url);
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
  if (/^postgres(ql)?:/i.test(url)) {
    throw new Error(`store URL "${shown}" is not supported yet: PostgreSQL arrives in a later release; use sqlite:PATH`);
  }
  throw new Error(`store URL "${shown}" is not supported: use sqlite:PATH (e.g. sqlite:./.data/gateway.db or sqlite::memory:)`);
}

/** The URL as it may be shown in an error or a log: any password replaced. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
