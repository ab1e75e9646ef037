// Migrations as code: an in-code provider, so nothing is read from disk at run time and the
// compiled dist/ migrates the same way as the sources. Written with Kysely's schema builder only,
// so PostgreSQL runs them unchanged. Never edit a shipped migration; add the next one.
import { Migrator, PostgresAdapter, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './schema.js';
import { createAtProviderFunction, createUntoldFunction, dropAtProviderFunction, dropUntoldFunction } from './tenant-order.js';

// Kysely<any>: a migration sees the schema as it was when it was written, not today's Database.
// biome-ignore lint/suspicious/noExplicitAny: see above; typing old migrations against today's schema would be wrong.
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
    await db.schema.createIndex('tasks_tenant_id_created_at_idx').on('tasks').columns(['tenant_id', 'created_at']).execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('tasks').execute();
    await db.schema.dropTable('tenant_keys').execute();
    await db.schema.dropTable('tenants').execute();
  },
};

// The usage ledger (costs, quota slots), reconciliation (next check) and the callback outbox.
// SQLite adds one column per ALTER TABLE, so each column is its own statement. `double
// precision` is float8 on PostgreSQL and has REAL affinity on SQLite: a JS number on both.
const ledgerAndOutbox: Migration = {
  async up(db: AnyDb) {
    const columns: Array<[string, 'text' | 'double precision' | 'bigint']> = [
      ['slot_id', 'text'],
      ['estimated_cost_usd', 'double precision'],
      ['actual_cost_usd', 'double precision'],
      ['callback_token_hash', 'text'],
      ['next_check_at', 'bigint'],
    ];
    for (const [name, type] of columns) await db.schema.alterTable('tasks').addColumn(name, type).execute();
    await db.schema
      .alterTable('tasks')
      .addColumn('checks', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();

    // Tasks that were open before this migration have never been scheduled: check them now.
    await db
      .updateTable('tasks')
      .set((eb) => ({ next_check_at: eb.ref('created_at') }))
      .where('final_at', 'is', null)
      .execute();

    // Unique, and several nulls are allowed on both dialects (tasks without a gateway callback).
    await db.schema.createIndex('tasks_callback_token_hash_key').unique().on('tasks').column('callback_token_hash').execute();
    // Reconciliation: due tasks by next_check_at (final tasks have it null).
    await db.schema.createIndex('tasks_next_check_at_idx').on('tasks').column('next_check_at').execute();
    // Usage over every tenant by time.
    await db.schema.createIndex('tasks_created_at_idx').on('tasks').column('created_at').execute();
    // A tenant's open tasks (quota rebuilt at start): a partial index, so it stays as small as
    // the number of tasks in flight. Both dialects use it for `tenant_id = ? and final_at is null`.
    await db.schema.createIndex('tasks_open_tenant_id_idx').on('tasks').column('tenant_id').where(sql.ref('final_at'), 'is', null).execute();

    await db.schema
      .createTable('deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.task_id').onDelete('cascade'))
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'delivered', 'failed')`))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .execute();
    await db.schema.createIndex('deliveries_state_next_attempt_at_idx').on('deliveries').columns(['state', 'next_attempt_at']).execute();
    await db.schema.createIndex('deliveries_task_id_idx').on('deliveries').column('task_id').execute();
    await db.schema.createIndex('deliveries_tenant_id_created_at_idx').on('deliveries').columns(['tenant_id', 'created_at']).execute();
    // The admin list over every tenant, newest first.
    await db.schema.createIndex('deliveries_created_at_idx').on('deliveries').column('created_at').execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('deliveries').execute();
    for (const index of ['tasks_open_tenant_id_idx', 'tasks_created_at_idx', 'tasks_next_check_at_idx', 'tasks_callback_token_hash_key']) {
      await db.schema.dropIndex(index).execute();
    }
    for (const column of ['checks', 'next_check_at', 'callback_token_hash', 'actual_cost_usd', 'estimated_cost_usd', 'slot_id']) {
      await db.schema.alterTable('tasks').dropColumn(column).execute();
    }
  },
};

const tenantQuotas: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('tenants').addColumn('quotas', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('tenants').dropColumn('quotas').execute();
  },
};

// The provider's callback names its task (data.taskId) and carries the task's token in its URL:
// the task is found by its primary key and the token compared with the stored hash. The unique
// index on the hash went: its random 64-character keys made it the costliest part of storing a
// task (~16 of ~35 µs per insert at 150,000 tasks, measured).
const callbackByTask: Migration = {
  async up(db: AnyDb) {
    await db.schema.dropIndex('tasks_callback_token_hash_key').execute();
  },
  async down(db: AnyDb) {
    await db.schema.createIndex('tasks_callback_token_hash_key').unique().on('tasks').column('callback_token_hash').execute();
  },
};

// Money as integer micro-dollars, times as integer milliseconds. The costs move from `double
// precision` USD to `bigint` micro-dollars (new columns, converted, the old ones dropped: SQLite
// cannot change a column's type). SQLite also kept the fractions a bigint column refuses on
// PostgreSQL (a jittered retry time): every time column is rounded to the nearest millisecond.
// On PostgreSQL that update finds nothing to change. The columns 0005 leaves are all bigint.
const MONEY_COLUMNS = [
  ['estimated_cost_usd', 'estimated_cost_micros'],
  ['actual_cost_usd', 'actual_cost_micros'],
] as const;

const TIME_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  tenants: ['created_at', 'updated_at'],
  tenant_keys: ['created_at', 'revoked_at'],
  tasks: ['created_at', 'updated_at', 'final_at', 'next_check_at'],
  deliveries: ['next_attempt_at', 'lease_until', 'created_at', 'updated_at', 'delivered_at'],
};

/** `cast(round(x) as bigint)`: the nearest integer on both dialects (round(bigint) is a double on PostgreSQL). */
const rounded = (expression: ReturnType<typeof sql>) => sql`cast(round(${expression}) as bigint)`;

const integerMoneyAndTimes: Migration = {
  async up(db: AnyDb) {
    for (const [usd, micros] of MONEY_COLUMNS) {
      await db.schema.alterTable('tasks').addColumn(micros, 'bigint').execute();
      await db
        .updateTable('tasks')
        .set({ [micros]: rounded(sql`${sql.ref(usd)} * ${sql.lit(1_000_000)}`) })
        .where(usd, 'is not', null)
        .execute();
      await db.schema.alterTable('tasks').dropColumn(usd).execute();
    }
    for (const [table, columns] of Object.entries(TIME_COLUMNS)) {
      for (const column of columns) {
        const value = sql.ref(column);
        await db
          .updateTable(table)
          .set({ [column]: rounded(value) })
          .where(sql<boolean>`${value} <> ${rounded(value)}`)
          .execute();
      }
    }
  },
  async down(db: AnyDb) {
    for (const [usd, micros] of MONEY_COLUMNS) {
      await db.schema.alterTable('tasks').addColumn(usd, 'double precision').execute();
      await db
        .updateTable('tasks')
        .set({ [usd]: sql`${sql.ref(micros)} / ${sql.lit(1_000_000.0)}` })
        .where(micros, 'is not', null)
        .execute();
      await db.schema.alterTable('tasks').dropColumn(micros).execute();
    }
  },
};

// A task is recorded before it is sent to the provider, under an id the gateway mints (the row's
// key until the provider's task id replaces it), which the provider's callback URL carries: a
// gateway killed before it learnt the provider's answer still has the row, and the callback
// finds it. The tenant's request is kept too, to answer a task the provider cannot show yet with
// a real record. The index's keys start with the time (see tasks/create.ts), so inserting them
// appends to the index rather than landing on random pages.
const recordBeforeSend: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('tasks').addColumn('gateway_task_id', 'text').execute();
    await db.schema.alterTable('tasks').addColumn('param', 'text').execute();
    await db.schema.createIndex('tasks_gateway_task_id_key').unique().on('tasks').column('gateway_task_id').execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('tasks_gateway_task_id_key').execute();
    await db.schema.alterTable('tasks').dropColumn('param').execute();
    await db.schema.alterTable('tasks').dropColumn('gateway_task_id').execute();
  },
};

// Per-tenant dialect settings (validation.unknownFields, errors.httpStatus), one JSON column like
// quotas: the gateway gives them meaning and defaults, the store only keeps them.
const tenantSettings: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('tenants').addColumn('settings', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('tenants').dropColumn('settings').execute();
  },
};

// Gateway-owned tasks (issue 16). The row keeps the id the gateway minted as its key for good
// (tenants, callbacks, usage and admin speak it); the provider's id, once there is one, sits
// beside it. Rows confirmed before this migration were keyed by the provider's id already: that
// id is copied over, so both kinds read the same way. The admission queue lives in the same table
// (state `queued`), ordered within a tenant by priority then acceptance; two partial indexes keep
// the dispatcher's reads as small as the queue and the tasks at the provider. Idempotency-Key
// answers are rows with a unique (tenant, key): they hold across instances, unlike a cache.
const gatewayOwnedTasks: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('tasks').addColumn('provider_task_id', 'text').execute();
    await db.schema.alterTable('tasks').addColumn('queued_at', 'bigint').execute();
    await db.schema
      .alterTable('tasks')
      .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('tasks').addColumn('deadline_at', 'bigint').execute();
    await db.schema.alterTable('tasks').addColumn('upstream_body', 'text').execute();
    await db
      .updateTable('tasks')
      .set((eb) => ({ provider_task_id: eb.ref('task_id') }))
      .where('state', '<>', 'sending')
      .execute();
    // In the dispatcher's order (priority first, higher first; then FIFO), so taking a tenant's
    // head and counting a task's position read the index, never sort the queue. Written as SQL:
    // the schema builder has no per-column direction; both dialects take this text as it is.
    await sql`create index tasks_queued_idx on tasks (tenant_id, priority desc, queued_at, task_id) where state = 'queued'`.execute(db);
    await db.schema
      .createIndex('tasks_at_provider_idx')
      .on('tasks')
      .column('tenant_id')
      .where(sql<boolean>`${sql.ref('final_at')} is null and ${sql.ref('state')} <> 'queued'`)
      .execute();
    await db.schema
      .createTable('idempotency_keys')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('idem_key', 'text', (c) => c.notNull())
      .addColumn('body_hash', 'text', (c) => c.notNull())
      .addColumn('answer', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pkey', ['tenant_id', 'idem_key'])
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('idempotency_keys').execute();
    await db.schema.dropIndex('tasks_at_provider_idx').execute();
    await db.schema.dropIndex('tasks_queued_idx').execute();
    for (const column of ['upstream_body', 'deadline_at', 'priority', 'queued_at', 'provider_task_id'])
      await db.schema.alterTable('tasks').dropColumn(column).execute();
  },
};

// Several upstreams: a task names the one it was sent to, so its reads, reconciliation and
// callbacks go back there. Rows from before have none (null): the gateway takes them for the
// upstream holding their key, else its first (a config with one `upstream` is exactly that).
const taskUpstream: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('tasks').addColumn('upstream_id', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('tasks').dropColumn('upstream_id').execute();
  },
};

// Result copies (one row per successful task: a leased job like the outbox, then the copy's files
// until the sweeper deletes them) and the per-tenant event log behind SSE and Prefer: wait. The
// log's `seq` is the SSE event id: an integer the store assigns, so a resumed stream names a
// position every instance agrees on (SQLite's rowid alias, PostgreSQL's identity column).
const resultsAndEvents: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('result_copies')
      .addColumn('task_id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'copied', 'failed', 'expired')`))
      .addColumn('sources', 'text', (c) => c.notNull())
      .addColumn('files', 'text')
      .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('retain_ms', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('result_copies_due_idx').on('result_copies').columns(['state', 'next_attempt_at']).execute();
    await db.schema.createIndex('result_copies_expires_idx').on('result_copies').columns(['state', 'expires_at']).execute();
    await db.schema.createIndex('result_copies_tenant_idx').on('result_copies').column('tenant_id').execute();

    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema
      .createTable('task_events')
      .addColumn('seq', postgres ? 'bigint' : 'integer', (c) => (postgres ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement()))
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('record', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('task_events_tenant_seq_idx').on('task_events').columns(['tenant_id', 'seq']).execute();
    await db.schema.createIndex('task_events_created_idx').on('task_events').column('created_at').execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('task_events').execute();
    await db.schema.dropTable('result_copies').execute();
  },
};

// Operating it (issue 19). Tenants keep their Standard Webhooks secret in the store (set and
// rotated through the admin API; the config's is written here at start), with the previous one
// and until when it still signs, so a rotation has an overlap in which receivers accept either.
// Tenant keys may expire. A task keeps the W3C traceparent of the span that created it, so the
// provider's callback and the tenant's delivery (any instance, any time later) join its trace.
// Provider keys may be added through the admin API (their row carries
// the key) or a config key disabled there (a row without api_key); a removed key keeps its row
// (removed_at), because open tasks still read their records with the key that created them.
// Task lists page newest first by (created_at, task_id): the two indexes below serve a tenant's
// list and the operator's from their first row, whatever the table's size, and replace the
// narrower (tenant_id, created_at) and (created_at) ones, whose every use they also serve.
const operate: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('tenants').addColumn('webhook_secret', 'text').execute();
    await db.schema.alterTable('tenants').addColumn('webhook_secret_previous', 'text').execute();
    await db.schema.alterTable('tenants').addColumn('webhook_secret_previous_until', 'bigint').execute();
    await db.schema.alterTable('tenant_keys').addColumn('expires_at', 'bigint').execute();
    await db.schema.alterTable('tasks').addColumn('trace_parent', 'text').execute();
    await db.schema
      .createTable('upstream_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // The upstream (config id) the key belongs to; null: the first upstream (one `upstream:`).
      .addColumn('upstream_id', 'text')
      .addColumn('api_key', 'text')
      .addColumn('webhook_hmac_key', 'text')
      .addColumn('create_per_10s', 'integer')
      .addColumn('record_info_per_second', 'integer')
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0).check(sql`disabled in (0, 1)`))
      .addColumn('removed_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('tasks_tenant_id_created_at_task_id_idx').on('tasks').columns(['tenant_id', 'created_at', 'task_id']).execute();
    await db.schema.createIndex('tasks_created_at_task_id_idx').on('tasks').columns(['created_at', 'task_id']).execute();
    await db.schema.dropIndex('tasks_tenant_id_created_at_idx').execute();
    await db.schema.dropIndex('tasks_created_at_idx').execute();
  },
  async down(db: AnyDb) {
    await db.schema.createIndex('tasks_created_at_idx').on('tasks').column('created_at').execute();
    await db.schema.createIndex('tasks_tenant_id_created_at_idx').on('tasks').columns(['tenant_id', 'created_at']).execute();
    await db.schema.dropIndex('tasks_created_at_task_id_idx').execute();
    await db.schema.dropIndex('tasks_tenant_id_created_at_task_id_idx').execute();
    await db.schema.dropTable('upstream_keys').execute();
    await db.schema.alterTable('tasks').dropColumn('trace_parent').execute();
    await db.schema.alterTable('tenant_keys').dropColumn('expires_at').execute();
    for (const column of ['webhook_secret_previous_until', 'webhook_secret_previous', 'webhook_secret']) {
      await db.schema.alterTable('tenants').dropColumn(column).execute();
    }
  },
};

// PostgreSQL only: the count a queue claim under maxInFlight reads after its tenant's lock
// (tenant-order.ts says why it is a function). SQLite counts in the statement: one writer.
const tenantOrder: Migration = {
  async up(db: AnyDb) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) await createAtProviderFunction(db);
  },
  async down(db: AnyDb) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) await dropAtProviderFunction(db);
  },
};

// PostgreSQL only: the check a created event makes after its tenant's lock (tenant-order.ts).
const taskUntold: Migration = {
  async up(db: AnyDb) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) await createUntoldFunction(db);
  },
  async down(db: AnyDb) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) await dropUntoldFunction(db);
  },
};

/** Every migration, by name; the Migrator applies them in name order. */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001_initial': initial,
  '0002_ledger_and_outbox': ledgerAndOutbox,
  '0003_tenant_quotas': tenantQuotas,
  '0004_callback_by_task': callbackByTask,
  '0005_integer_money_and_times': integerMoneyAndTimes,
  '0006_record_before_send': recordBeforeSend,
  '0007_tenant_settings': tenantSettings,
  '0008_task_upstream': taskUpstream,
  '0009_gateway_owned_tasks': gatewayOwnedTasks,
  '0010_results_and_events': resultsAndEvents,
  '0011_operate': operate,
  '0012_tenant_order': tenantOrder,
  '0013_task_untold': taskUntold,
};

const provider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};

export interface MigrateOptions {
  /**
   * The schema that holds Kysely's own migration tables (PostgreSQL). Given explicitly, because
   * without it Kysely looks for them in every schema of the database.
   */
  schema?: string;
}

/**
 * Brings the schema up to date; what is already applied is skipped, so running it twice is a
 * no-op. Two instances starting at once are serialized: PostgreSQL by Kysely's advisory lock,
 * SQLite by running the migrations in one `begin immediate` transaction (see sqlite.ts).
 */
export async function migrate(db: Kysely<Database>, options: MigrateOptions = {}): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    ...(options.schema !== undefined && { migrationTableSchema: options.schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const what = failed === undefined ? 'store migration' : `store migration ${failed}`;
    throw new Error(`${what} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
