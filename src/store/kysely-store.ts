// Every query of the store, written once with Kysely's query builder: the SQLite store and the
// PostgreSQL one differ only in the Kysely instance they pass in. Each method is one statement
// on an index (primary key, the unique hash, or tenant_id), so nothing grows with the task count
// except countTasks.
import { sql, type Kysely } from 'kysely';
import { migrate } from './migrations.js';
import {
  encodeModels,
  FINAL_STATES,
  isFinalState,
  toFlag,
  toKeyLookup,
  toCount,
  toTaskRow,
  toTenantKeyRow,
  toTenantRow,
} from './rows.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';

export function createKyselyStore(db: Kysely<Database>, close: () => Promise<void>): Store {
  let closing: Promise<void> | undefined;

  return {
    migrate: () => migrate(db),

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
      const row = await db
        .insertInto('tenants')
        .values({
          id: tenant.id,
          models: encodeModels(tenant.models),
          disabled: toFlag(tenant.disabled),
          source: tenant.source,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            models: eb.ref('excluded.models'),
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
      const row = await db
        .updateTable('tenants')
        .set({
          ...(patch.models !== undefined && { models: encodeModels(patch.models) }),
          ...(patch.disabled !== undefined && { disabled: toFlag(patch.disabled) }),
          updated_at: now,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toTenantRow(row);
    },

    async addTenantKey(key) {
      await db
        .insertInto('tenant_keys')
        .values({
          id: key.id,
          tenant_id: key.tenantId,
          hash: key.hash,
          label: key.label,
          source: key.source,
          created_at: key.createdAt,
          revoked_at: null,
        })
        .onConflict((oc) => oc.column('hash').doNothing())
        .execute();
    },

    async listTenantKeys(tenantId) {
      const rows = await db
        .selectFrom('tenant_keys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toTenantKeyRow);
    },

    // coalesce keeps the first revocation time; revoking twice still answers true (the key exists).
    async revokeTenantKey(tenantId, keyId, now) {
      const result = await db
        .updateTable('tenant_keys')
        .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(now)).$castTo<number>() }))
        .where('id', '=', keyId)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async findKeyByHash(hash) {
      const row = await db
        .selectFrom('tenant_keys as k')
        .innerJoin('tenants as t', 't.id', 'k.tenant_id')
        .select(['k.id', 'k.tenant_id', 'k.revoked_at', 't.disabled', 't.models'])
        .where('k.hash', '=', hash)
        .executeTakeFirst();
      return row && toKeyLookup(row);
    },

    async insertTask(task) {
      await db
        .insertInto('tasks')
        .values({
          task_id: task.taskId,
          tenant_id: task.tenantId,
          upstream_key_id: task.upstreamKeyId,
          model: task.model,
          call_back_url: task.callBackUrl,
          state: task.state,
          record: task.record,
          created_at: task.createdAt,
          updated_at: task.updatedAt,
          final_at: task.finalAt,
        })
        .execute();
    },

    async getTask(taskId) {
      const row = await db.selectFrom('tasks').selectAll().where('task_id', '=', taskId).executeTakeFirst();
      return row && toTaskRow(row);
    },

    // One conditional UPDATE: the rules are checked by the database against the stored row, so
    // two writers racing (a poll and a callback) cannot move a task backwards or reopen it.
    // finalAt follows the state: set (to updatedAt if the caller gave none) exactly when final.
    async updateTask(taskId, update) {
      const final = isFinalState(update.state);
      const result = await db
        .updateTable('tasks')
        .set({
          state: update.state,
          record: update.record,
          updated_at: update.updatedAt,
          final_at: final ? (update.finalAt ?? update.updatedAt) : null,
        })
        .where('task_id', '=', taskId)
        .where('final_at', 'is', null)
        .where('state', 'not in', FINAL_STATES)
        .where('updated_at', '<=', update.updatedAt)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async countTasks() {
      const row = await db
        .selectFrom('tasks')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      return toCount(row.n);
    },
  };
}
