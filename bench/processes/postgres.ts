// The PostgreSQL the Redis scenario's gateway keeps its records in: the server DATABASE_URL
// names (default postgres://postgres@127.0.0.1:5432/postgres, as the tests use), in a schema of
// this run's own, created here (so a server that refuses is found before any gateway starts) and
// dropped at the end. Schemas left behind by runs that died hours ago are swept, as the tests do.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactMessage, redactUrl } from '../../src/store/url.js';
import { Unavailable } from './redis.js';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const PREFIX = 'lxg_bench_';
const STALE_MS = 6 * 60 * 60_000;

export interface BenchSchema {
  /** The store URL for the gateway: the server's URL with `?schema=`. */
  url: string;
  schema: string;
  /** The URL as it may be shown (no password). */
  shown: string;
  drop(): Promise<void>;
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function freshBenchSchema(): Promise<BenchSchema> {
  const server = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const schema = `${PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  try {
    await withClient(server, async (client) => {
      const { rows } = await client.query<{ nspname: string }>('select nspname from pg_namespace where nspname like $1', [`${PREFIX}%`]);
      for (const { nspname } of rows) {
        const born = parseInt(nspname.slice(PREFIX.length).split('_')[0] ?? '', 36);
        if (Number.isFinite(born) && Date.now() - born > STALE_MS) await client.query(`drop schema if exists "${nspname}" cascade`).catch(() => undefined);
      }
      await client.query(`create schema "${schema}"`);
    });
  } catch (error) {
    throw new Unavailable(
      `PostgreSQL at ${redactUrl(server)} cannot be used (${redactMessage((error as Error).message, server)}); start one or set DATABASE_URL`,
    );
  }
  const url = new URL(server);
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    schema,
    shown: redactUrl(server),
    drop: () => withClient(server, async (client) => void (await client.query(`drop schema if exists "${schema}" cascade`))),
  };
}
