// The admission queue's queries (issue 16): queued tasks are rows of `tasks` in state `queued`,
// so a queued task is counted, listed and reconciled like any other, and survives restarts.
// A dispatcher takes a tenant's head by changing its state to `sending` in one statement: that
// change is the "being sent" mark, so no two dispatchers (instances) ever send the same task.
// On PostgreSQL the head is picked `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take
// different heads rather than queue up on one row; SQLite runs it under its single write lock.
// Under a maxInFlight the same statement counts the tenant's tasks at the provider first and
// takes nothing at the limit; on PostgreSQL after taking the tenant's lock (tenant-order.ts), so
// dispatchers on any number of instances never send more than the limit between them.
// Part of the Store (kysely-store.ts spreads them in); Idempotency-Key rows are here too.
import { sql, type Kysely, type QueryCreator } from 'kysely';
import { toCount, toNumber, toTaskRow } from './rows.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';
import { TENANT_LOCK_CTE, tenantLock } from './tenant-order.js';
import { whole } from './whole.js';

/** What the queue adds to the Store. */
export type QueueQueries = Pick<
  Store,
  | 'queueHead'
  | 'claimQueued'
  | 'requeueTask'
  | 'withdrawQueued'
  | 'endQueuedTask'
  | 'queuePosition'
  | 'queueDepths'
  | 'countQueued'
  | 'countAtProvider'
  | 'claimIdempotencyKey'
  | 'saveIdempotentAnswer'
  | 'dropIdempotencyKey'
>;

/** A tenant's queue head in the dispatcher's order (priority, higher first; then FIFO), on tasks_queued_idx. */
function headOf(db: Kysely<Database>, tenantId: string) {
  return db
    .selectFrom('tasks as head')
    .select('head.task_id')
    .where('head.state', '=', 'queued')
    .where('head.tenant_id', '=', tenantId)
    .orderBy('head.priority', 'desc')
    .orderBy('head.queued_at')
    .orderBy('head.task_id')
    .limit(1);
}

/** A tenant's tasks handed to the provider and not final: the predicate of the partial index tasks_at_provider_idx. */
function atProvider(db: Kysely<Database>, tenantId: string) {
  return db
    .selectFrom('tasks')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('tenant_id', '=', tenantId)
    .where(sql<boolean>`${sql.ref('final_at')} is null and ${sql.ref('state')} <> 'queued'`);
}

export function createQueueQueries(db: Kysely<Database>, options: { concurrentWriters: boolean }): QueueQueries {
  /** Whether the tenant has room under `limit`: counted after its lock where writers are concurrent. */
  const hasRoom = (tenantId: string, limit: number) =>
    options.concurrentWriters
      ? sql<boolean>`(select tasks_at_provider(${tenantId}) from ${sql.table(TENANT_LOCK_CTE)}) < ${limit}`
      : sql<boolean>`(${atProvider(db, tenantId)}) < ${limit}`;

  return {
    async queueHead(tenantId) {
      const row = await headOf(db, tenantId).select('head.model').executeTakeFirst();
      return row && { taskId: row.task_id, model: row.model };
    },

    async claimQueued(tenantId, claim) {
      let head = headOf(db, tenantId);
      if (options.concurrentWriters) head = head.forUpdate().skipLocked();
      const limit = claim.maxInFlight;
      const limited = limit !== undefined;
      if (limited) head = head.where(hasRoom(tenantId, whole('maxInFlight', limit)));
      // The lock's CTE only where the count reads from it (hasRoom, in raw SQL: hence the plain
      // QueryCreator type); without a limit nothing waits.
      const from =
        limited && options.concurrentWriters
          ? (db.with(TENANT_LOCK_CTE, (qb) => qb.selectNoFrom(tenantLock('claims', tenantId).as('locked'))) as unknown as QueryCreator<Database>)
          : db;
      const row = await from
        .updateTable('tasks')
        .set({
          state: 'sending',
          upstream_key_id: claim.upstreamKeyId,
          upstream_id: claim.upstreamId,
          callback_token_hash: claim.callbackTokenHash,
          next_check_at: whole('nextCheckAt', claim.nextCheckAt),
        })
        // `=` (a scalar subquery, run once) rather than `in`: PostgreSQL may run an IN-subquery
        // with LIMIT ... SKIP LOCKED more than once and so take more rows than the limit.
        .where('task_id', '=', head)
        .where('state', '=', 'queued')
        .returningAll()
        .executeTakeFirst();
      return row && toTaskRow(row);
    },

    // Only from `sending`: the sender proved the provider started nothing. Its queued_at and
    // priority are unchanged, so it is back where it was: at (or near) its tenant's head.
    async requeueTask(taskId) {
      const result = await db
        .updateTable('tasks')
        .set({ state: 'queued', callback_token_hash: null })
        .where('task_id', '=', taskId)
        .where('state', '=', 'sending')
        .where('queued_at', 'is not', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async withdrawQueued(taskId) {
      const result = await db.deleteFrom('tasks').where('task_id', '=', taskId).where('state', '=', 'queued').executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    // Cancel and expiry: only a task still queued (never handed to a sender) ends this way, and
    // its callback is stored with that end, in the same transaction.
    async endQueuedTask(taskId, update, delivery) {
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('tasks')
          .set({
            state: 'fail',
            record: update.record,
            updated_at: whole('updatedAt', update.updatedAt),
            final_at: whole('finalAt', update.updatedAt),
            next_check_at: null,
            actual_cost_micros: 0,
          })
          .where('task_id', '=', taskId)
          .where('state', '=', 'queued')
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        if (delivery) {
          await trx
            .insertInto('deliveries')
            .values({
              id: delivery.id,
              task_id: taskId,
              tenant_id: delivery.tenantId,
              url: delivery.url,
              payload: delivery.payload,
              state: 'pending',
              attempts: 0,
              next_attempt_at: whole('createdAt', delivery.createdAt),
              created_at: delivery.createdAt,
              updated_at: delivery.createdAt,
            })
            .execute();
        }
        return true;
      });
    },

    // 1 + the tasks of the tenant's queue ahead of it (the dispatcher's order, on the index).
    async queuePosition(row) {
      if (row.queuedAt === null) return 0;
      const queuedAt = row.queuedAt;
      const ahead = await db
        .selectFrom('tasks')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('state', '=', 'queued')
        .where('tenant_id', '=', row.tenantId)
        .where((eb) =>
          eb.or([
            eb('priority', '>', row.priority),
            eb.and([
              eb('priority', '=', row.priority),
              eb.or([eb('queued_at', '<', queuedAt), eb.and([eb('queued_at', '=', queuedAt), eb('task_id', '<', row.taskId)])]),
            ]),
          ]),
        )
        .executeTakeFirstOrThrow();
      return toCount(ahead.n) + 1;
    },

    async queueDepths() {
      const rows = await db
        .selectFrom('tasks')
        .select((eb) => ['tenant_id', eb.fn.countAll().as('n')])
        .where('state', '=', 'queued')
        .groupBy('tenant_id')
        .execute();
      return rows.map((r) => ({ tenantId: r.tenant_id, queued: toNumber(r.n) }));
    },

    async countQueued(tenantId) {
      const row = await db
        .selectFrom('tasks')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('state', '=', 'queued')
        .where('tenant_id', '=', tenantId)
        .executeTakeFirstOrThrow();
      return toCount(row.n);
    },

    async countAtProvider(tenantId) {
      const row = await atProvider(db, tenantId).executeTakeFirstOrThrow();
      return toCount(row.n);
    },

    // Insert-or-read on the primary key (tenant, key): of two requests racing with one key,
    // exactly one inserts; the other reads the row. A row past `expiredBefore` is taken over.
    async claimIdempotencyKey(claim) {
      const values = { tenant_id: claim.tenantId, idem_key: claim.key, body_hash: claim.bodyHash, answer: null, created_at: whole('now', claim.now) };
      const inserted = await db
        .insertInto('idempotency_keys')
        .values(values)
        .onConflict((oc) => oc.columns(['tenant_id', 'idem_key']).doNothing())
        .executeTakeFirst();
      if (inserted.numInsertedOrUpdatedRows !== 0n) return { kind: 'new' };
      const taken = await db
        .updateTable('idempotency_keys')
        .set({ body_hash: claim.bodyHash, answer: null, created_at: claim.now })
        .where('tenant_id', '=', claim.tenantId)
        .where('idem_key', '=', claim.key)
        .where((eb) =>
          eb.or([
            eb('created_at', '<', whole('expiredBefore', claim.expiredBefore)),
            eb.and([eb('answer', 'is', null), eb('created_at', '<', whole('abandonedBefore', claim.abandonedBefore))]),
          ]),
        )
        .executeTakeFirst();
      if (taken.numUpdatedRows > 0n) return { kind: 'new' };
      const row = await db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('tenant_id', '=', claim.tenantId)
        .where('idem_key', '=', claim.key)
        .executeTakeFirst();
      // Dropped between the two statements (its request failed): this one may go ahead next time.
      if (!row) return { kind: 'in-flight' };
      if (row.body_hash !== claim.bodyHash) return { kind: 'mismatch' };
      return row.answer === null ? { kind: 'in-flight' } : { kind: 'answered', answer: row.answer };
    },

    async saveIdempotentAnswer(tenantId, key, answer) {
      await db.updateTable('idempotency_keys').set({ answer }).where('tenant_id', '=', tenantId).where('idem_key', '=', key).execute();
    },

    async dropIdempotencyKey(tenantId, key) {
      await db.deleteFrom('idempotency_keys').where('tenant_id', '=', tenantId).where('idem_key', '=', key).where('answer', 'is', null).execute();
    },
  };
}
