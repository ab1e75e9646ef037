// The PostgreSQL store: a node-postgres Pool behind Kysely's PostgresDialect, handed to the same
// queries as SQLite (kysely-store.ts). Every table lives in one schema (`public` unless told
// otherwise), set as the search_path of each pooled connection when it is created, so the
// queries stay unqualified; Kysely's migration tables go there too.
//
// What node-postgres reads back, and where it becomes a row: bigint (int8) columns and every
// count/sum over integers come back as strings, double precision as numbers; rows.ts turns all
// of them into numbers. No global pg type parser is changed (other users of pg are unaffected).
import {
  DEFAULT_MIGRATION_LOCK_TABLE,
  DEFAULT_MIGRATION_TABLE,
  type DatabaseIntrospector,
  type DatabaseMetadataOptions,
  Kysely,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresIntrospector,
  sql,
  type TableMetadata,
} from 'kysely';
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
  const db = new Kysely<Database>({ dialect: new SchemaPostgresDialect({ pool }, schema) });

  return createKyselyStore(db, () => db.destroy(), { schema, runner: createPostgresRunner(pool), concurrentWriters: true });
}

/**
 * PostgresDialect whose introspection sees one schema. Kysely's Migrator asks
 * `db.introspection.getTables()` whether its tables exist, and Kysely's query lists the tables of
 * every schema of the database, calling `has_schema_privilege(nspname, …)` on each: a schema
 * dropped by someone else while that query runs (other gateways' or tests' schemas) is still in
 * its snapshot but no longer resolves by name, and the migration fails with `schema "…" does not
 * exist` (3F000) naming a schema that is not ours. Filtering on our schema in SQL never looks at
 * another one.
 */
export class SchemaPostgresDialect extends PostgresDialect {
  readonly #schema: string;
  constructor(config: PostgresDialectConfig, schema: string) {
    super(config);
    this.#schema = schema;
  }
  // biome-ignore lint/suspicious/noExplicitAny: Dialect's own signature.
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SchemaIntrospector(db, this.#schema);
  }
}

/**
 * getTables of one schema, by oid joins and a name comparison only. It returns what the Migrator
 * reads (name, schema, isView), not the columns: nothing else introspects the store's database.
 * getSchemas is Kysely's (a plain scan of pg_namespace, which a concurrent drop cannot fail).
 */
class SchemaIntrospector extends PostgresIntrospector {
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  readonly #db: Kysely<any>;
  readonly #schema: string;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  constructor(db: Kysely<any>, schema: string) {
    super(db);
    this.#db = db;
    this.#schema = schema;
  }
  override async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string; kind: string }>`
      select c.relname as name, c.relkind as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
      where ns.nspname = ${this.#schema} and c.relkind in ('r', 'v', 'p')
      order by c.relname`.execute(this.#db);
    return rows
      .filter((r) => options.withInternalKyselyTables || (r.name !== DEFAULT_MIGRATION_TABLE && r.name !== DEFAULT_MIGRATION_LOCK_TABLE))
      .map((r) => ({ name: r.name, schema: this.#schema, isView: r.kind === 'v', columns: [] }));
  }
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
