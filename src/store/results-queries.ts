// The result copies' queries (migration 0010). Part of the Store (kysely-store.ts spreads them
// in), apart like outbox-queries.ts: copies are leased exactly like deliveries (claim-by-update,
// a lease that runs out frees the row for another instance). Times pass whole.ts on the way in.
// The event log's are in event-queries.ts.
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import { toMillis, toMillisOrNull, toNumber } from './rows.js';
import type { Database, ResultCopiesTable } from './schema.js';
import type { CopiedFile, CopyRow, CopyState, CopyStore } from './types.js';
import { whole } from './whole.js';

function toCopyRow(row: Selectable<ResultCopiesTable>): CopyRow {
  return {
    taskId: row.task_id,
    tenantId: row.tenant_id,
    state: row.state as CopyState,
    sources: JSON.parse(row.sources) as string[],
    files: row.files === null ? null : (JSON.parse(row.files) as CopiedFile[]),
    bytes: toNumber(row.bytes),
    attempts: toNumber(row.attempts),
    nextAttemptAt: toMillis(row.next_attempt_at),
    leaseOwner: row.lease_owner,
    leaseUntil: toMillisOrNull(row.lease_until),
    lastError: row.last_error,
    retainMs: toMillis(row.retain_ms),
    expiresAt: toMillisOrNull(row.expires_at),
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
  };
}

export function createCopyQueries(db: Kysely<Database>): CopyStore {
  return {
    async enqueueCopy(copy) {
      const at = whole('createdAt', copy.createdAt);
      const result = await db
        .insertInto('result_copies')
        .values({
          task_id: copy.taskId,
          tenant_id: copy.tenantId,
          state: 'pending',
          sources: JSON.stringify(copy.sources),
          files: null,
          bytes: 0,
          attempts: 0,
          next_attempt_at: at,
          lease_owner: null,
          lease_until: null,
          last_error: null,
          retain_ms: whole('retainMs', copy.retainMs),
          expires_at: null,
          created_at: at,
          updated_at: at,
        })
        .onConflict((oc) => oc.column('task_id').doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },

    async getCopy(taskId) {
      const row = await db.selectFrom('result_copies').selectAll().where('task_id', '=', taskId).executeTakeFirst();
      return row && toCopyRow(row);
    },

    // The outbox's claim (outbox-queries.ts): select the due ids, then take them only where the
    // lease is still free, in one statement.
    async claimCopies(owner, now, leaseMs, limit) {
      if (limit <= 0) return [];
      const until = whole('now + leaseMs', whole('now', now) + leaseMs);
      const free = (eb: ExpressionBuilder<Database, 'result_copies'>) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]);
      const due = db
        .selectFrom('result_copies')
        .select('task_id')
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where(free)
        .orderBy('next_attempt_at')
        .limit(limit);
      const rows = await db
        .updateTable('result_copies')
        .set({ lease_owner: owner, lease_until: until })
        .where('task_id', 'in', due)
        .where('state', '=', 'pending')
        .where(free)
        .returningAll()
        .execute();
      return rows.map(toCopyRow).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
    },

    async finishCopy(taskId, owner, outcome) {
      const now = whole('now', outcome.now);
      const common = { lease_owner: null, lease_until: null, updated_at: now };
      const update =
        outcome.state === 'copied'
          ? db.updateTable('result_copies').set((eb) => ({
              ...common,
              state: 'copied' as const,
              files: JSON.stringify(outcome.files),
              bytes: outcome.files.reduce((sum, f) => sum + f.bytes, 0),
              attempts: eb('attempts', '+', 1),
              last_error: null,
              expires_at: eb('retain_ms', '+', now).$castTo<number | null>(),
            }))
          : db.updateTable('result_copies').set((eb) => ({
              ...common,
              state: outcome.state,
              attempts: eb('attempts', '+', 1),
              last_error: outcome.error,
              ...(outcome.state === 'pending' && { next_attempt_at: whole('nextAttemptAt', outcome.nextAttemptAt) }),
            }));
      const result = await update.where('task_id', '=', taskId).where('lease_owner', '=', owner).where('state', '=', 'pending').executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async successesWithoutCopy(since, limit) {
      const rows = await db
        .selectFrom('tasks')
        .leftJoin('result_copies', 'result_copies.task_id', 'tasks.task_id')
        .select(['tasks.task_id', 'tasks.tenant_id', 'tasks.record', 'tasks.final_at'])
        .where('tasks.state', '=', 'success')
        .where('tasks.final_at', '>=', whole('since', since))
        .where('result_copies.task_id', 'is', null)
        .orderBy('tasks.final_at')
        .limit(limit)
        .execute();
      return rows
        .filter((r) => r.record !== null)
        .map((r) => ({ taskId: r.task_id, tenantId: r.tenant_id, record: r.record!, finalAt: toMillis(r.final_at!) }));
    },

    async expiredCopies(now, limit) {
      const rows = await db
        .selectFrom('result_copies')
        .selectAll()
        .where('state', '=', 'copied')
        .where('expires_at', '<=', whole('now', now))
        .orderBy('expires_at')
        .limit(limit)
        .execute();
      return rows.map(toCopyRow);
    },

    async markCopyExpired(taskId, now) {
      const result = await db
        .updateTable('result_copies')
        .set({ state: 'expired', updated_at: whole('now', now) })
        .where('task_id', '=', taskId)
        .where('state', '=', 'copied')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async copyBytesByTenant() {
      const rows = await db
        .selectFrom('result_copies')
        .select((eb) => ['tenant_id', eb.fn.sum<number | string>('bytes').as('bytes'), eb.fn.countAll<number | string>().as('files')])
        .where('state', '=', 'copied')
        .groupBy('tenant_id')
        .execute();
      return rows.map((r) => ({ tenantId: r.tenant_id, bytes: toNumber(r.bytes), files: toNumber(r.files) }));
    },

    // Only a delivery never attempted: one already sent carried the provider's URLs, and its
    // retries keep the same bytes (tenants dedupe on webhook-id).
    async releaseDelivery(taskId, now, payload) {
      const result = await db
        .updateTable('deliveries')
        .set({ next_attempt_at: whole('now', now), updated_at: now, ...(payload !== undefined && { payload }) })
        .where('task_id', '=', taskId)
        .where('state', '=', 'pending')
        .where('attempts', '=', 0)
        .where('lease_owner', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
