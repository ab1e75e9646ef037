// The operator's queries (migration 0011): a tenant's webhook secrets, deleting a tenant, a key's
// label and expiry, provider keys kept in the store, and task lists. Part of the Store
// (kysely-store.ts spreads them in), apart like outbox-queries.ts. Times pass whole.ts on the way in.
import type { Kysely } from 'kysely';
import { toFlag, toTaskRow, toUpstreamKeyRow, toWebhookSecrets } from './rows.js';
import type { Database } from './schema.js';
import type { Store, TaskListQuery } from './types.js';
import { whole } from './whole.js';

type OperatorQueries = Pick<
  Store,
  'updateTenantKey' | 'deleteTenant' | 'getWebhookSecrets' | 'setWebhookSecrets' | 'listUpstreamKeys' | 'putUpstreamKey' | 'removeUpstreamKey' | 'listTasks'
>;

/**
 * A page of tasks. Keyset pagination: "older than the last row shown" as (created_at, task_id) <
 * (c, t), ordered by the index's own columns (descending), so a page reads
 * its rows from the (tenant_id, created_at, task_id) or (created_at, task_id) index and stops:
 * page 1000 costs what page 1 does. Exported for the query-plan test.
 */
export function listTasksQuery(db: Kysely<Database>, query: TaskListQuery) {
  let select = db.selectFrom('tasks').selectAll();
  if (query.tenantId !== undefined) select = select.where('tenant_id', '=', query.tenantId);
  if (query.state !== undefined) select = select.where('state', '=', query.state);
  if (query.model !== undefined) select = select.where('model', '=', query.model);
  if (query.from !== undefined) select = select.where('created_at', '>=', whole('from', query.from));
  if (query.to !== undefined) select = select.where('created_at', '<', whole('to', query.to));
  const after = query.after;
  if (after !== undefined) {
    const at = whole('after.createdAt', after.createdAt);
    // A row-value comparison: both planners seek into the index at the cursor itself. (A bound on
    // created_at with an OR for the ties seeks to the cursor's millisecond only, then reads every
    // task of that millisecond newer than the cursor: 28 ms a page with 300,000 ties, 0.2 now.)
    select = select.where((eb) => eb(eb.refTuple('created_at', 'task_id'), '<', eb.tuple(at, after.taskId)));
  }
  return select.orderBy('created_at', 'desc').orderBy('task_id', 'desc').limit(query.limit);
}

export function createOperatorQueries(db: Kysely<Database>): OperatorQueries {
  return {
    async updateTenantKey(tenantId, keyId, patch) {
      if (patch.label === undefined && patch.expiresAt === undefined) {
        return (await db.selectFrom('tenant_keys').select('id').where('id', '=', keyId).where('tenant_id', '=', tenantId).executeTakeFirst()) !== undefined;
      }
      const result = await db
        .updateTable('tenant_keys')
        .set({
          ...(patch.label !== undefined && { label: patch.label }),
          ...(patch.expiresAt !== undefined && { expires_at: patch.expiresAt === null ? null : whole('expiresAt', patch.expiresAt) }),
        })
        .where('id', '=', keyId)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    // Keys first (their foreign key), in one transaction: a tenant is never left half deleted.
    async deleteTenant(id) {
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('tenant_keys').where('tenant_id', '=', id).execute();
        const result = await trx.deleteFrom('tenants').where('id', '=', id).executeTakeFirst();
        return result.numDeletedRows > 0n;
      });
    },

    async getWebhookSecrets(tenantId) {
      const row = await db
        .selectFrom('tenants')
        .select(['webhook_secret', 'webhook_secret_previous', 'webhook_secret_previous_until'])
        .where('id', '=', tenantId)
        .executeTakeFirst();
      return row && toWebhookSecrets(row);
    },

    async setWebhookSecrets(tenantId, secrets, now) {
      const result = await db
        .updateTable('tenants')
        .set({
          webhook_secret: secrets?.current ?? null,
          webhook_secret_previous: secrets?.previous ?? null,
          webhook_secret_previous_until: secrets?.previousUntil == null ? null : whole('previousUntil', secrets.previousUntil),
          updated_at: whole('now', now),
        })
        .where('id', '=', tenantId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async listUpstreamKeys() {
      return (await db.selectFrom('upstream_keys').selectAll().orderBy('id').execute()).map(toUpstreamKeyRow);
    },

    // created_at stays the first one; a removed key put again is back.
    async putUpstreamKey(row, now) {
      whole('now', now);
      const values = {
        id: row.id,
        upstream_id: row.upstreamId,
        api_key: row.apiKey,
        webhook_hmac_key: row.webhookHmacKey,
        create_per_10s: row.createPer10s,
        record_info_per_second: row.recordInfoPerSecond,
        disabled: toFlag(row.disabled),
        removed_at: null,
        created_at: now,
        updated_at: now,
      };
      const stored = await db
        .insertInto('upstream_keys')
        .values(values)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            upstream_id: eb.ref('excluded.upstream_id'),
            api_key: eb.ref('excluded.api_key'),
            webhook_hmac_key: eb.ref('excluded.webhook_hmac_key'),
            create_per_10s: eb.ref('excluded.create_per_10s'),
            record_info_per_second: eb.ref('excluded.record_info_per_second'),
            disabled: eb.ref('excluded.disabled'),
            removed_at: null,
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUpstreamKeyRow(stored);
    },

    async removeUpstreamKey(id, now) {
      const result = await db
        .updateTable('upstream_keys')
        .set({ removed_at: whole('now', now), updated_at: now })
        .where('id', '=', id)
        .where('removed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async listTasks(query) {
      return (await listTasksQuery(db, query).execute()).map(toTaskRow);
    },
  };
}
