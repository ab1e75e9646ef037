// The event log's queries (migration 0010): append-only, ordered by a database-assigned seq.
// Part of the Store (kysely-store.ts spreads them in). Every createTask appends an event, so the
// appends are prepared (prepared.ts) and run by the store's runner: on SQLite they ride the
// group commit with the task's own writes instead of committing alone. Reads and pruning are
// rare and built per call. With several writers (PostgreSQL) every append takes its tenant's
// lock before seq is drawn, so a tenant's events commit in seq order (tenant-order.ts). Times
// pass whole.ts on the way in.
import { expressionBuilder, PostgresAdapter, sql, type Expression, type Kysely, type QueryCreator, type Selectable, type SqlBool } from 'kysely';
import { confirmTaskQuery } from './hot-queries.js';
import { prepareQuery, type QueryRunner } from './prepared.js';
import { toMillis, toNumber } from './rows.js';
import type { Database, TaskEventsTable } from './schema.js';
import { TENANT_LOCK_CTE, tenantLock } from './tenant-order.js';
import type { EventStore, NewTaskEvent, TaskConfirmation, TaskEventRow } from './types.js';
import { whole } from './whole.js';

function toEventRow(row: Selectable<TaskEventsTable>): TaskEventRow {
  return { seq: toNumber(row.seq), tenantId: row.tenant_id, taskId: row.task_id, state: row.state, record: row.record, createdAt: toMillis(row.created_at) };
}

type Param<P> = <K extends keyof P & string>(name: K) => P[K];

/** What an event insert takes: on PostgreSQL the tenant's lock first (tenant-order.ts). */
interface EventInsert {
  db: Kysely<Database>;
  /** Several writers at once: the row is selected from the tenant's lock. */
  locked: boolean;
  /** Where the insert is built (a QueryCreator with the statement's other CTEs). */
  into: QueryCreator<Database>;
  p: Param<NewTaskEvent>;
}

/**
 * An event's insert. With several writers the row is selected from its tenant's lock (a CTE), so
 * the identity draws seq only once the lock is held: the tenant's previous append has committed,
 * and per tenant commit order is seq order (tenant-order.ts). `only` makes it conditional.
 * Casts: PostgreSQL types a parameter in a select list as text.
 */
function eventInsert({ db, locked, into, p }: EventInsert, only?: Expression<SqlBool>) {
  const columns = [
    sql<string>`cast(${p('tenantId')} as text)`.as('tenant_id'),
    sql<string>`cast(${p('taskId')} as text)`.as('task_id'),
    sql<string>`cast(${p('state')} as text)`.as('state'),
    sql<string>`cast(${p('record')} as text)`.as('record'),
    sql<number>`cast(${p('createdAt')} as bigint)`.as('created_at'),
  ];
  const row = locked ? db.selectFrom(sql.table(TENANT_LOCK_CTE).as(TENANT_LOCK_CTE)).select(columns) : db.selectNoFrom(columns);
  const from = locked
    ? (into.with(TENANT_LOCK_CTE, (qb) => qb.selectNoFrom(tenantLock('events', p('tenantId')).as('locked'))) as unknown as QueryCreator<Database>)
    : into;
  return from
    .insertInto('task_events')
    .columns(['tenant_id', 'task_id', 'state', 'record', 'created_at'])
    .expression(only ? row.where(only) : row)
    .returning('seq');
}

/**
 * A task's first event, unless something the provider said has reached the row already (then
 * that change's own event tells it, and this one would come after it). The one statement decides
 * against the stored row, so no read goes first.
 */
function createdEventInsert(insert: EventInsert) {
  const { db, p, locked } = insert;
  // Several writers: asked after the tenant's lock, with a snapshot of its own (tenant-order.ts).
  if (locked) return eventInsert(insert, sql<SqlBool>`(select task_untold(${p('taskId')}) from ${sql.table(TENANT_LOCK_CTE)})`);
  const untold = db
    .selectFrom('tasks')
    .select(sql.lit(1).as('one'))
    .where('task_id', '=', p('taskId'))
    .where('record', 'is', null)
    .where('final_at', 'is', null);
  return eventInsert(insert, expressionBuilder<Database, never>().exists(untold));
}

function prepareEventQueries(db: Kysely<Database>, locked: boolean) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    append: prepareQuery<NewTaskEvent>((p) => eventInsert({ db, locked, into: db, p })),
    appendCreated: prepareQuery<NewTaskEvent>((p) => createdEventInsert({ db, locked, into: db, p })),
    confirm: prepareQuery<TaskConfirmation & { gatewayTaskId: string }>((p) => confirmTaskQuery(db, p)),
    // PostgreSQL: the confirmation and the created event in one statement (one round trip, one
    // commit). The update runs as a data-modifying CTE; the insert's check, after the tenant's
    // lock, sees the row `sending` or `waiting` with no record, as the two statements one after
    // the other decide on SQLite, unless a callback's record committed first.
    confirmAndAppendCreated: postgres
      ? prepareQuery<TaskConfirmation & { gatewayTaskId: string } & NewTaskEvent>((p) =>
          createdEventInsert({ db, locked, into: db.with('confirmed', () => confirmTaskQuery(db, p)) as unknown as QueryCreator<Database>, p }),
        )
      : undefined,
  };
}

export function createEventQueries(db: Kysely<Database>, runner: QueryRunner, options: { concurrentWriters: boolean }): EventStore {
  const q = prepareEventQueries(db, options.concurrentWriters);
  const at = <E extends { createdAt: number }>(event: E) => ({ ...event, createdAt: whole('createdAt', event.createdAt) });
  return {
    async appendEvent(event) {
      return (await runner.insertReturning(q.append, q.append.parameters(at(event))))!;
    },

    appendCreatedEvent: (event) => runner.insertReturning(q.appendCreated, q.appendCreated.parameters(at(event))),

    async confirmAndAppendCreated(gatewayTaskId, confirmation, event) {
      const values = { ...at(event), ...confirmation, nextCheckAt: whole('nextCheckAt', confirmation.nextCheckAt), gatewayTaskId };
      if (q.confirmAndAppendCreated) return runner.insertReturning(q.confirmAndAppendCreated, q.confirmAndAppendCreated.parameters(values));
      // SQLite: two writes queued in the same turn, so one batch commits both, in this order.
      const [, seq] = await Promise.all([
        runner.run(q.confirm, q.confirm.parameters(values)),
        runner.insertReturning(q.appendCreated, q.appendCreated.parameters(values)),
      ]);
      return seq;
    },

    async eventsAfter(tenantId, afterSeq, limit, taskId) {
      let select = db.selectFrom('task_events').selectAll().where('tenant_id', '=', tenantId).where('seq', '>', whole('afterSeq', afterSeq));
      if (taskId !== undefined) select = select.where('task_id', '=', taskId);
      const rows = await select.orderBy('seq').limit(Math.max(0, limit)).execute();
      return rows.map(toEventRow);
    },

    async lastEventSeq(tenantId) {
      const row = await db
        .selectFrom('task_events')
        .select((eb) => eb.fn.max<number | string | null>('seq').as('seq'))
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      return row?.seq === null || row?.seq === undefined ? 0 : toNumber(row.seq);
    },

    async pruneEvents(before) {
      const result = await db.deleteFrom('task_events').where('created_at', '<', whole('before', before)).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
