// Every query of the store, written once with Kysely's query builder: the SQLite store and the
// PostgreSQL one differ only in the Kysely instance (and the runner of the per-request queries,
// hot-queries.ts, built once; the outbox's, outbox-queries.ts) they pass in. Each method is one statement (tenantUsage: two) on an
// index (primary key, a unique hash or gateway task id, tenant_id, a due time), so nothing grows
// with the task count except countTasks and usage without a tenant (usage-queries.ts). The only transaction is
// updateTask with a delivery: the final state and its callback are stored together or not at all.
// Every time and money argument passes whole.ts on its way in, whichever dialect runs the query.
import { sql, type Kysely } from 'kysely';
import { migrate } from './migrations.js';
import {
  encodeModels,
  encodeQuotas,
  encodeSettings,
  isFinalState,
  toCount,
  toFlag,
  toKeyLookup,
  toNumber,
  toOpenTask,
  toTaskRow,
  toTenantKeyRow,
  toTenantRow,
  compareCodeUnits as compare,
} from './rows.js';
import { createOutboxQueries } from './outbox-queries.js';
import { createQueueQueries } from './queue-queries.js';
import { createUsageQueries } from './usage-queries.js';
import { createOperatorQueries } from './operator-queries.js';
import { createEventQueries } from './event-queries.js';
import { createCopyQueries } from './results-queries.js';
import type { QueryRunner } from './prepared.js';
import { deliveryInsertValues, prepareHotQueries, taskInsertValues, taskUpdateValues, type TaskSelectable } from './hot-queries.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';
import { whole } from './whole.js';

export interface KyselyStoreOptions {
  /** PostgreSQL: the schema that holds the tables (Kysely's migration tables go there too). */
  schema?: string;
  /** Runs the per-request queries (hot-queries.ts): the dialect's own runner. */
  runner: QueryRunner;
  /**
   * PostgreSQL: several writers at once. Queue heads are taken `FOR UPDATE SKIP LOCKED`, and event
   * appends and queue claims take their tenant's lock (tenant-order.ts). SQLite has one writer.
   */
  concurrentWriters?: boolean;
}

export function createKyselyStore(db: Kysely<Database>, close: () => Promise<void>, options: KyselyStoreOptions): Store {
  let closing: Promise<void> | undefined;

  const { runner } = options;
  const concurrentWriters = options.concurrentWriters ?? false;
  const hot = prepareHotQueries(db);

  return {
    migrate: () => migrate(db, { ...(options.schema !== undefined && { schema: options.schema }) }),

    async ping() {
      await sql`select 1`.execute(db);
    },

    close() {
      closing ??= close();
      return closing;
    },

    // Last writer wins on models/disabled/source (the config is re-applied at every start);
    // created_at stays the first one.
    async upsertTenant(tenant, now) {
      whole('now', now);
      const row = await db
        .insertInto('tenants')
        .values({
          id: tenant.id,
          models: encodeModels(tenant.models),
          quotas: encodeQuotas(tenant.quotas),
          settings: encodeSettings(tenant.settings),
          disabled: toFlag(tenant.disabled),
          source: tenant.source,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            models: eb.ref('excluded.models'),
            quotas: eb.ref('excluded.quotas'),
            settings: eb.ref('excluded.settings'),
            disabled: eb.ref('excluded.disabled'),
            source: eb.ref('excluded.source'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return toTenantRow(row);
    },

    async getTenant(id) {
      const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toTenantRow(row);
    },

    async listTenants() {
      const rows = await db.selectFrom('tenants').selectAll().orderBy('id').execute();
      return rows.map(toTenantRow);
    },

    async updateTenant(id, patch, now) {
      whole('now', now);
      const row = await db
        .updateTable('tenants')
        .set({
          ...(patch.models !== undefined && { models: encodeModels(patch.models) }),
          ...(patch.quotas !== undefined && { quotas: encodeQuotas(patch.quotas) }),
          ...(patch.settings !== undefined && { settings: encodeSettings(patch.settings) }),
          ...(patch.disabled !== undefined && { disabled: toFlag(patch.disabled) }),
          ...(patch.source !== undefined && { source: patch.source }),
          updated_at: now,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toTenantRow(row);
    },

    async addTenantKey(key) {
      const inserted = await db
        .insertInto('tenant_keys')
        .values({
          id: key.id,
          tenant_id: key.tenantId,
          hash: key.hash,
          label: key.label,
          source: key.source,
          created_at: whole('createdAt', key.createdAt),
          revoked_at: null,
          expires_at: key.expiresAt === undefined ? null : whole('expiresAt', key.expiresAt),
        })
        // No conflict target: two instances seeding the same config key at once collide on the
        // primary key as well as on the hash, and either way the key is already there.
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (inserted.numInsertedOrUpdatedRows === 0n) {
        const existing = await db.selectFrom('tenant_keys').select(['hash']).where('id', '=', key.id).executeTakeFirst();
        if (existing && existing.hash !== key.hash) throw new Error(`tenant key id ${key.id} already names another key`);
      }
    },

    async listTenantKeys(tenantId) {
      const rows = await db.selectFrom('tenant_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toTenantKeyRow);
    },

    // coalesce keeps the first revocation time; revoking twice still answers true (the key exists).
    async revokeTenantKey(tenantId, keyId, now) {
      whole('now', now);
      const result = await db
        .updateTable('tenant_keys')
        .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(now)).$castTo<number>() }))
        .where('id', '=', keyId)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async findKeyByHash(hash) {
      const [row] = await runner.all<Parameters<typeof toKeyLookup>[0]>(hot.findKeyByHash, hot.findKeyByHash.parameters({ hash }));
      return row && toKeyLookup(row);
    },

    async insertTask(task) {
      await runner.insert(hot.insertTask, hot.insertTask.parameters(taskInsertValues(task)));
    },

    async getTask(taskId) {
      const [row] = await runner.all<TaskSelectable>(hot.getTask, hot.getTask.parameters({ taskId }));
      return row && toTaskRow(row);
    },

    async getTaskByGatewayId(gatewayTaskId) {
      const [row] = await runner.all<TaskSelectable>(hot.getTaskByGatewayId, hot.getTaskByGatewayId.parameters({ gatewayTaskId }));
      return row && toTaskRow(row);
    },

    async confirmTask(gatewayTaskId, confirmation) {
      return (
        (await runner.run(
          hot.confirmTask,
          hot.confirmTask.parameters({ ...confirmation, nextCheckAt: whole('nextCheckAt', confirmation.nextCheckAt), gatewayTaskId }),
        )) > 0
      );
    },

    // The two below run only when a provider key refuses a task: not worth preparing.
    async setSendingKey(gatewayTaskId, upstreamKeyId, upstreamId) {
      await db
        .updateTable('tasks')
        .set({ upstream_key_id: upstreamKeyId, ...(upstreamId === undefined ? {} : { upstream_id: upstreamId }) })
        .where('gateway_task_id', '=', gatewayTaskId)
        .where('state', '=', 'sending')
        .execute();
    },

    async discardTask(gatewayTaskId) {
      const result = await db.deleteFrom('tasks').where('gateway_task_id', '=', gatewayTaskId).where('state', '=', 'sending').executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    // One conditional UPDATE: the rules are checked by the database against the stored row, so
    // two writers racing (a poll and a callback) cannot move a task backwards or reopen it (on
    // PostgreSQL the second writer waits for the first one's row lock, then re-checks the WHERE
    // against the row it left). Only the writer whose UPDATE changed the row enqueues the
    // callback: of two final records racing, one changes the row and the other finds it final,
    // so exactly one delivery is stored, in the same transaction as the state it announces.
    async updateTask(taskId, update, delivery) {
      const query = isFinalState(update.state) ? hot.finishTask : hot.progressTask;
      const write = [query, query.parameters(taskUpdateValues(taskId, update))] as const;
      if (!isFinalState(update.state) || !delivery) return (await runner.run(...write)) > 0;
      return (await runner.runThen(write, [hot.insertDelivery, hot.insertDelivery.parameters(deliveryInsertValues(delivery, taskId))])) > 0;
    },

    async countTasks() {
      const row = await db
        .selectFrom('tasks')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      return toCount(row.n);
    },

    async tenantUsage(tenantId, since) {
      const totals = await db
        .selectFrom('tasks')
        .select((eb) => [eb.fn.countAll().as('tasks'), eb.fn.sum('actual_cost_micros').as('actual_micros')])
        .where('tenant_id', '=', tenantId)
        .where('created_at', '>=', whole('since', since))
        .executeTakeFirstOrThrow();
      const open = await db
        .selectFrom('tasks')
        .select(['task_id', 'slot_id', 'estimated_cost_micros', 'created_at'])
        .where('tenant_id', '=', tenantId)
        .where('final_at', 'is', null)
        .orderBy('created_at')
        .orderBy('task_id')
        .execute();
      return { tasks: toNumber(totals.tasks), actualCostMicros: toNumber(totals.actual_micros), open: open.map(toOpenTask) };
    },

    // Claim-by-update: the subquery picks the due rows, the outer WHERE repeats the conditions.
    // On PostgreSQL (READ COMMITTED) a second claimer that picked the same rows waits for the
    // first one's row locks, then re-checks the outer WHERE against the claimed rows (their
    // next_check_at is now in the future) and skips them; SQLite runs it under its write lock.
    async claimTasksToCheck(now, leaseMs, limit) {
      if (limit <= 0) return [];
      const until = whole('now + leaseMs', whole('now', now) + leaseMs);
      const due = db
        .selectFrom('tasks as due')
        .select('due.task_id')
        .where('due.final_at', 'is', null)
        .where('due.next_check_at', '<=', now)
        .orderBy('due.next_check_at')
        .orderBy('due.task_id')
        .limit(limit);
      const rows = await db
        .updateTable('tasks')
        .set({ next_check_at: until })
        .where('task_id', 'in', due)
        .where('final_at', 'is', null)
        .where('next_check_at', '<=', now)
        .returningAll()
        .execute();
      return rows.map(toTaskRow).sort((a, b) => a.createdAt - b.createdAt || compare(a.taskId, b.taskId));
    },

    async scheduleCheck(taskId, nextCheckAt) {
      await db
        .updateTable('tasks')
        .set((eb) => ({ next_check_at: whole('nextCheckAt', nextCheckAt), checks: eb('checks', '+', 1) }))
        .where('task_id', '=', taskId)
        .where('final_at', 'is', null)
        .execute();
    },

    ...createOutboxQueries(db),
    ...createQueueQueries(db, { concurrentWriters }),
    ...createUsageQueries(db),
    ...createOperatorQueries(db),
    ...createCopyQueries(db),
    ...createEventQueries(db, runner, { concurrentWriters }),
  };
}
