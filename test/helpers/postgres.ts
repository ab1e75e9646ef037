// PostgreSQL for tests: a fresh schema per store (or pair of stores), dropped when closed, on the
// server DATABASE_URL names (default postgres://postgres@127.0.0.1:5432/postgres, which .ci/run
// provides). An unreachable server fails the tests that need it, saying so: never a silent skip.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresStore, openStore, redactUrl, type Store } from '../../src/store/index.js';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(): string {
  return process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
}

/** Test schemas are named `lxg_test_<base-36 ms>_<random>`; the time lets stale ones be swept. */
const PREFIX = 'lxg_test_';
const STALE_MS = 6 * 60 * 60_000;

export function freshSchemaName(): string {
  return `${PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

async function withClient<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

let reachable: Promise<void> | undefined;

/**
 * Resolves once the server answered; rejects with what to do otherwise. Checked once per test
 * process; also drops test schemas left behind by runs that died hours ago.
 */
export function requirePostgres(): Promise<void> {
  reachable ??= withClient(async (client) => {
    await client.query('select 1');
    const { rows } = await client.query<{ nspname: string }>(`select nspname from pg_namespace where nspname like $1`, [`${PREFIX}%`]);
    for (const { nspname } of rows) {
      const born = parseInt(nspname.slice(PREFIX.length).split('_')[0] ?? '', 36);
      if (Number.isFinite(born) && Date.now() - born > STALE_MS) {
        await client.query(`drop schema if exists "${nspname}" cascade`).catch(() => undefined);
      }
    }
  }).catch((error: unknown) => {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(
      `PostgreSQL is not reachable at ${redactUrl(databaseUrl())} (${why}). The PostgreSQL store tests need it: ` +
        'run `bash .ci/run` (it installs and starts one) or point DATABASE_URL at a server where this user may create schemas.',
    );
  });
  return reachable;
}

export interface FreshPostgres {
  /** DATABASE_URL with `?schema=` set to the fresh schema (created by the first migrate). */
  url: string;
  schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

export async function freshPostgres(): Promise<FreshPostgres> {
  await requirePostgres();
  const schema = freshSchemaName();
  const url = new URL(databaseUrl());
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    schema,
    drop: () => withClient(async (client) => void (await client.query(`drop schema if exists "${schema}" cascade`))),
  };
}

/** A migrated store on a fresh schema; closing it drops the schema. */
export async function openFreshPostgresStore(): Promise<Store> {
  const fresh = await freshPostgres();
  const store = await openStore(fresh.url);
  return dropOnClose(store, fresh);
}

/** Two migrated stores (two pools) on one fresh schema, and what closes both and drops it. */
export async function openTwoFreshPostgresStores(): Promise<{ a: Store; b: Store; close: () => Promise<void> }> {
  const fresh = await freshPostgres();
  const a = await openStore(fresh.url);
  const b = await openStore(fresh.url);
  return {
    a,
    b,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      await fresh.drop();
    },
  };
}

/** A store on a fresh schema, not migrated yet (for migration tests); closing it does not drop. */
export function createUnmigratedPostgresStore(fresh: FreshPostgres): Store {
  return createPostgresStore({ url: fresh.url });
}

function dropOnClose(store: Store, fresh: FreshPostgres): Store {
  let closing: Promise<void> | undefined;
  // The store is a plain object of closures: a copy with another close is the same store.
  return { ...store, close: () => (closing ??= store.close().then(() => fresh.drop())) };
}
