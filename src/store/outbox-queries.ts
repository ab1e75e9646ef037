// The outbox's queries (tenants' callbacks): claim due deliveries under a lease, record an
// attempt, list them, make one due again. Part of the Store (kysely-store.ts spreads them in);
// apart only to keep each file to one screenful of concerns. Times pass whole.ts on the way in.
import type { Kysely } from 'kysely';
import { compareCodeUnits as compare, toDeliveryRow } from './rows.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';
import { whole } from './whole.js';

export function createOutboxQueries(db: Kysely<Database>): Pick<Store, 'claimDeliveries' | 'finishDelivery' | 'listDeliveries' | 'redeliver'> {
  return {
    // The same claim-by-update as claimTasksToCheck (kysely-store.ts): a lease is free when it never was taken or
    // has run out (lease_until < now).
    async claimDeliveries(owner, now, leaseMs, limit) {
      if (limit <= 0) return [];
      const until = whole('now + leaseMs', whole('now', now) + leaseMs);
      const due = db
        .selectFrom('deliveries as due')
        .select('due.id')
        .where('due.state', '=', 'pending')
        .where('due.next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('due.lease_until', 'is', null), eb('due.lease_until', '<', now)]))
        .orderBy('due.next_attempt_at')
        .orderBy('due.id')
        .limit(limit);
      const rows = await db
        .updateTable('deliveries')
        .set({ lease_owner: owner, lease_until: until })
        .where('id', 'in', due)
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .returningAll()
        .execute();
      return rows.map(toDeliveryRow).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || compare(a.id, b.id));
    },

    // Applies only while `owner` still holds the lease: after a redeliver (lease cleared) or a
    // takeover (another owner), a late worker's outcome is dropped.
    async finishDelivery(id, owner, outcome) {
      whole('now', outcome.now);
      if (outcome.nextAttemptAt !== undefined) whole('nextAttemptAt', outcome.nextAttemptAt);
      const result = await db
        .updateTable('deliveries')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          state: outcome.state,
          ...(outcome.nextAttemptAt !== undefined && { next_attempt_at: outcome.nextAttemptAt }),
          last_status: outcome.status ?? null,
          last_error: outcome.error ?? null,
          ...(outcome.state === 'delivered' && { delivered_at: outcome.now }),
          lease_owner: null,
          lease_until: null,
          updated_at: outcome.now,
        }))
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async listDeliveries(filter) {
      let select = db.selectFrom('deliveries').selectAll();
      if (filter.tenantId !== undefined) select = select.where('tenant_id', '=', filter.tenantId);
      if (filter.taskId !== undefined) select = select.where('task_id', '=', filter.taskId);
      const rows = await select
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.max(0, filter.limit ?? 100))
        .execute();
      return rows.map(toDeliveryRow);
    },

    async redeliver(id, now) {
      whole('now', now);
      const row = await db
        .updateTable('deliveries')
        .set({ state: 'pending', next_attempt_at: now, lease_owner: null, lease_until: null, updated_at: now })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toDeliveryRow(row);
    },
  };
}
