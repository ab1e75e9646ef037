// Migrations as code: an in-code provider, so nothing is read from disk at run time and the
// compiled dist/ migrates the same way as the sources. Written with Kysely's schema builder only,
// so PostgreSQL runs them unchanged. Never edit a shipped migration; add the next one.
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './schema.js';

// Kysely<any>: a migration sees the schema as it was when it was written, not today's Database.
type AnyDb = Kysely<any>;

const initial: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('tenants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('models', 'text')
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0).check(sql`disabled in (0, 1)`))
      .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('config', 'admin')`))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('tenant_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('label', 'text')
      .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('config', 'admin')`))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .addUniqueConstraint('tenant_keys_hash_key', ['hash'])
      .execute();
    await db.schema.createIndex('tenant_keys_tenant_id_idx').on('tenant_keys').column('tenant_id').execute();

    // No foreign key to tenants: a task is history, and a tenant dropped from the config must
    // neither lose its tasks nor make inserting them fail.
    await db.schema
      .createTable('tasks')
      .addColumn('task_id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('upstream_key_id', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('call_back_url', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('record', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('final_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('tasks_tenant_id_created_at_idx')
      .on('tasks')
      .columns(['tenant_id', 'created_at'])
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('tasks').execute();
    await db.schema.dropTable('tenant_keys').execute();
    await db.schema.dropTable('tenants').execute();
  },
};

/** Every migration, by name; the Migrator applies them in name order. */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001_initial': initial,
};

const provider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};

/** Brings the schema up to date; what is already applied is skipped, so running it twice is a no-op. */
export async function migrate(db: Kysely<Database>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const what = failed === undefined ? 'store migration' : `store migration ${failed}`;
    throw new Error(`${what} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
