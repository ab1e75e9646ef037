// The PostgreSQL store: the shared suite on a fresh schema per test, then what only PostgreSQL
// has (schemas, concurrent start-up, URLs). Needs a server: DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/postgres (.ci/run provides it); unreachable = failed tests.
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPostgresStore, openStore } from '../../src/store/index.js';
import { migrate, migrations } from '../../src/store/migrations.js';
import { SchemaPostgresDialect } from '../../src/store/postgres.js';
import { databaseUrl, freshPostgres, openFreshPostgresStore, openTwoFreshPostgresStores, requirePostgres } from '../helpers/postgres.js';
import { before0005, expectAfter0005, writeBefore0005 } from './migration-0005.js';
import { describeOperatorQueries } from './operator-suite.js';
import { describeQueue } from './queue-suite.js';
import { describeSendingTasks } from './sending-suite.js';
import { describeStore, task } from './store-suite.js';

/** The store's tables (sorted), as the migrations make them; Kysely keeps its own two beside them. */
const STORE_TABLES = ['deliveries', 'idempotency_keys', 'result_copies', 'task_events', 'tasks', 'tenant_keys', 'tenants', 'upstream_keys'];
const KYSELY_TABLES = ['kysely_migration', 'kysely_migration_lock'];

describeStore('PostgreSQL', openFreshPostgresStore, openTwoFreshPostgresStores);
describeOperatorQueries('PostgreSQL', openFreshPostgresStore);
describeSendingTasks('PostgreSQL', openFreshPostgresStore, openTwoFreshPostgresStores);
describeQueue('PostgreSQL', openFreshPostgresStore, openTwoFreshPostgresStores);

async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe('PostgreSQL store', () => {
  it('two instances starting at once on a fresh schema migrate it once', async () => {
    const fresh = await freshPostgres();
    const stores = Array.from({ length: 4 }, () => createPostgresStore({ url: fresh.url }));
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      const applied = await query<{ name: string }>(`select name from "${fresh.schema}".kysely_migration order by name`);
      expect(applied.map((r) => r.name)).toEqual(Object.keys(migrations).sort());
      await stores[0]!.insertTask(task());
      expect(await stores[3]!.getTask('task-1')).toEqual(task());
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await fresh.drop();
    }
  });

  // Another schema dropped while our migration runs (test files and gateways share a database),
  // made deterministic: a repeatable-read snapshot still lists the dropped schema, whose name no
  // longer resolves. Kysely's own introspection fails on it with 3F000; the store's must not.
  it('migrates while another schema is dropped under it: introspection looks at its schema only', async () => {
    const [ours, other] = [await freshPostgres(), await freshPostgres()];
    await query(`create schema "${other.schema}"; create table "${other.schema}".t (id integer)`);
    const open = (dialect: PostgresDialect) => new Kysely<any>({ dialect });
    const pool = () => new pg.Pool({ connectionString: databaseUrl(), max: 1, options: `-c search_path=${ours.schema}` });
    const afterOtherDropped = async <T>(db: Kysely<any>, run: (trx: Kysely<any>) => Promise<T>): Promise<T> =>
      db
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (trx) => {
          await sql`select 1`.execute(trx); // takes the snapshot, with the other schema in it
          await other.drop();
          return run(trx);
        });
    const stock = open(new PostgresDialect({ pool: pool() }));
    const store = open(new SchemaPostgresDialect({ pool: pool() }, ours.schema));
    try {
      // The race itself, as Kysely's introspector meets it.
      await expect(afterOtherDropped(stock, (trx) => trx.introspection.getTables({ withInternalKyselyTables: true }))).rejects.toMatchObject({
        code: '3F000',
        message: `schema "${other.schema}" does not exist`,
      });

      await query(`create schema "${other.schema}"; create table "${other.schema}".t (id integer)`);
      await migrate(store, { schema: ours.schema });
      const tables = await afterOtherDropped(store, (trx) => trx.introspection.getTables({ withInternalKyselyTables: true }));
      expect(tables.map((t) => [t.schema, t.name])).toEqual([...STORE_TABLES, ...KYSELY_TABLES].sort().map((name) => [ours.schema, name]));
      expect((await store.introspection.getTables()).map((t) => t.name)).toEqual(STORE_TABLES);
      // And the Migrator, which asks the same question, finds its tables from within that snapshot.
      await query(`create schema "${other.schema}"; create table "${other.schema}".t (id integer)`);
      const again = await afterOtherDropped(store, (trx) =>
        new Migrator({ db: trx, provider: { getMigrations: async () => migrations }, migrationTableSchema: ours.schema }).getMigrations(),
      );
      expect(again.map((m) => [m.name, m.executedAt !== undefined])).toEqual(Object.keys(migrations).map((name) => [name, true]));
    } finally {
      await Promise.all([stock.destroy(), store.destroy()]);
      await Promise.all([ours.drop(), other.drop()]);
    }
  });

  it('keeps a schema name with spaces, quotes and backslashes on every connection', async () => {
    const schema = `lxg odd "q" \\ ${Date.now().toString(36)}`;
    const url = `${databaseUrl()}${databaseUrl().includes('?') ? '&' : '?'}schema=${encodeURIComponent(schema)}`;
    const store = await openStore(url);
    const quoted = `"${schema.replaceAll('"', '""')}"`;
    try {
      // Several at once, so the pool opens several connections: each must have the schema.
      await Promise.all(Array.from({ length: 12 }, (_, i) => store.insertTask(task({ taskId: `t-${i}`, callbackTokenHash: `h-${i}` }))));
      expect(await store.countTasks()).toBe(12);
      expect((await query<{ n: string }>(`select count(*) as n from ${quoted}.tasks`))[0]!.n).toBe('12');
    } finally {
      await store.close();
      await query(`drop schema if exists ${quoted} cascade`);
    }
  });

  it('puts every table in its schema, and none in public', async () => {
    const fresh = await freshPostgres();
    const store = await openStore(fresh.url);
    try {
      const tables = await query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = $1 order by table_name`, [
        fresh.schema,
      ]);
      expect(tables.map((t) => t.table_name)).toEqual([...STORE_TABLES, ...KYSELY_TABLES].sort());
      const columns = await query<{ column_name: string; data_type: string }>(
        `select column_name, data_type from information_schema.columns where table_schema = $1 and table_name = 'tasks' order by column_name`,
        [fresh.schema],
      );
      expect(Object.fromEntries(columns.map((c) => [c.column_name, c.data_type]))).toMatchObject({
        created_at: 'bigint',
        estimated_cost_micros: 'bigint',
        actual_cost_micros: 'bigint',
        next_check_at: 'bigint',
        checks: 'integer',
      });
    } finally {
      await store.close();
      await fresh.drop();
    }
  });

  it('migrates a schema written before 0005: USD floats become micro-dollars', async () => {
    const fresh = await freshPostgres();
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
    pool.on('connect', (client) => void client.query(`create schema if not exists "${fresh.schema}"; set search_path to "${fresh.schema}"`));
    const old = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    try {
      const migrated = await new Migrator({ db: old, provider: before0005, migrationTableSchema: fresh.schema }).migrateToLatest();
      expect(migrated.error).toBeUndefined();
      await writeBefore0005(old, { fractions: false });
    } finally {
      await old.destroy();
    }
    const store = await openStore(fresh.url);
    try {
      await expectAfter0005(store);
      const columns = await query<{ column_name: string; data_type: string }>(
        `select column_name, data_type from information_schema.columns where table_schema = $1 and table_name = 'tasks' and column_name like '%cost%' order by column_name`,
        [fresh.schema],
      );
      expect(columns).toEqual([
        { column_name: 'actual_cost_micros', data_type: 'bigint' },
        { column_name: 'estimated_cost_micros', data_type: 'bigint' },
      ]);
    } finally {
      await store.close();
      await fresh.drop();
    }
  });

  it('keeps two schemas of one database apart', async () => {
    const [one, other] = [await freshPostgres(), await freshPostgres()];
    const [a, b] = [await openStore(one.url), await openStore(other.url)];
    try {
      await a.insertTask(task());
      expect(await b.getTask('task-1')).toBeUndefined();
      expect(await b.countTasks()).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([one.drop(), other.drop()]);
    }
  });

  it('opens postgresql:// URLs too, and the schema option wins over ?schema=', async () => {
    const fresh = await freshPostgres();
    const url = new URL(fresh.url);
    url.protocol = 'postgresql:';
    const viaUrl = await openStore(url.toString());
    url.searchParams.set('schema', 'not_this_one');
    const viaOption = createPostgresStore({ url: url.toString(), schema: fresh.schema });
    try {
      await viaUrl.insertTask(task());
      expect(await viaOption.getTask('task-1')).toEqual(task());
    } finally {
      await Promise.all([viaUrl.close(), viaOption.close()]);
      await fresh.drop();
    }
  });

  it('says which server it could not reach, without the password', async () => {
    await requirePostgres(); // not the point here, but keeps the failure messages of this file consistent
    // Port 1 on loopback: refused at once.
    const refusal = openStore('postgres://gateway:s3cr%40t@127.0.0.1:1/gateway');
    await expect(refusal).rejects.toThrow(/store postgres:\/\/gateway:\*\*\*@127\.0\.0\.1:1\/gateway could not be opened: .*ECONNREFUSED/);
    await expect(refusal).rejects.not.toThrow(/s3cr/);
  });

  it('reports a wrong password without echoing it', async () => {
    // trust auth accepts any password; a user that does not exist is refused either way.
    const url = new URL(databaseUrl());
    url.username = 'no_such_user_lxg';
    url.password = 'hunter2';
    const refusal = openStore(url.toString());
    await expect(refusal).rejects.toThrow(/could not be opened: .*no_such_user_lxg/);
    await expect(refusal).rejects.not.toThrow(/hunter2/);
  });
});
