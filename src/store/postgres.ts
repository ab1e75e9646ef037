// The PostgreSQL store: a node-postgres Pool behind Kysely's PostgresDialect, handed to the same
// queries as SQLite (kysely-store.ts). Every table lives in one schema (`public` unless told
// otherwise), set as the search_path of each pooled connection when it is created, so the
// queries stay unqualified; Kysely's migration tables go there too.
//
// What node-postgres reads back, and where it becomes a row: bigint (int8) columns and every
// count/sum over integers come back as strings, double precision as numbers; rows.ts turns all
// of them into numbers. No global pg type parser is changed (other users of pg are unaffected).
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createKyselyStore } from './kysely-store.js';
import { createPostgresRunner } from './postgres-runner.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';
import { redactUrl } from './url.js';

export interface PostgresStoreOptions {
  /**
   * `postgres://user:password@host:5432/database` (or `postgresql://`), with node-postgres'
   * own parameters (`?sslmode=require`, …). `?schema=NAME` is read here and taken out.
   */
  url: string;
  /** Where the tables live; created if missing. Wins over `?schema=` in the URL. Default `public`. */
  schema?: string;
  /** Connections in the pool (default 10). */
  max?: number;
  /** How long to wait for a connection, new or from a full pool, before failing (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * An idle pooled connection that failed (the server restarted, the network dropped). It is
   * dropped from the pool and the next query opens another; without a listener node-postgres
   * would crash the process.
   */
  onError?: (error: Error) => void;
}

export const DEFAULT_SCHEMA = 'public';

export function createPostgresStore(options: PostgresStoreOptions): Store {
  const { url, schema } = splitSchema(options.url, options.schema);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // The schema as a startup parameter: set on every connection before its first query,
    // whoever opened it (Kysely or the runner), with nothing that could fail halfway.
    options: `-c search_path=${startupOptionValue(quoteIdentifier(schema))}`,
  });
  pool.on('error', (error) => options.onError?.(error));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });

  return createKyselyStore(db, () => db.destroy(), { schema, runner: createPostgresRunner(pool), skipLocked: true });
}

/** The URL without `?schema=`, and the schema to use. */
export function splitSchema(url: string, explicit: string | undefined): { url: string; schema: string } {
  let fromUrl: string | undefined;
  let rest = url;
  try {
    const parsed = new URL(url);
    if (parsed.searchParams.has('schema')) {
      fromUrl = parsed.searchParams.get('schema') ?? undefined;
      parsed.searchParams.delete('schema');
      rest = parsed.toString();
    }
  } catch {
    // Not a WHATWG URL: leave it to node-postgres, which says what is wrong with it.
  }
  const schema = explicit ?? fromUrl ?? DEFAULT_SCHEMA;
  if (schema === '' || schema.length > 63 || schema.includes('\0')) {
    throw new Error(`store URL "${redactUrl(url)}": schema "${schema}" is not a valid PostgreSQL schema name (1 to 63 characters)`);
  }
  return { url: rest, schema };
}

/** In the startup `options` string, spaces separate settings: a backslash escapes one. */
function startupOptionValue(value: string): string {
  return value.replace(/[\\ ]/g, (c) => `\\${c}`);
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
