// The queries every request runs, built once per store (prepared.ts says why): the tenant key
// lookup, a task's insert (before it is sent), its confirmation (the provider's answer), read and
// update, and the callback outbox insert that goes with a final update. Written with Kysely like every other query, so each dialect gets its own SQL.
import { sql, type Kysely, type Selectable } from 'kysely';
import { prepareQuery } from './prepared.js';
import { FINAL_STATES, isFinalState } from './rows.js';
import type { Database, TasksTable } from './schema.js';
import type { NewDelivery, NewTask, TaskConfirmation, TaskUpdate } from './types.js';
import { whole, wholeFields, wholeOrNull } from './whole.js';

export type TaskSelectable = Selectable<TasksTable>;

interface TaskChange {
  taskId: string;
  state: string;
  record: string;
  updatedAt: number;
  finalAt: number | null;
  actualCostMicros: number | null;
}

/** The task columns that hold times (Unix ms) or money (micro-dollars): whole numbers only. */
const TASK_WHOLE_FIELDS = [
  'createdAt',
  'updatedAt',
  'finalAt',
  'estimatedCostMicros',
  'actualCostMicros',
  'nextCheckAt',
  'checks',
  'queuedAt',
  'deadlineAt',
  'priority',
] as const;

/** A task's insert values, its times and money checked (whole.ts); the later columns' defaults filled in. */
export function taskInsertValues(task: NewTask): NewTask {
  return wholeFields({ providerTaskId: null, queuedAt: null, priority: 0, deadlineAt: null, upstreamBody: null, ...task }, TASK_WHOLE_FIELDS);
}

/** What an update writes; a final state sets finalAt (to updatedAt if none was given). */
export function taskUpdateValues(taskId: string, update: TaskUpdate): TaskChange {
  const final = isFinalState(update.state);
  return {
    taskId,
    state: update.state,
    record: update.record,
    updatedAt: whole('updatedAt', update.updatedAt),
    finalAt: final ? wholeOrNull('finalAt', update.finalAt ?? update.updatedAt) : null,
    actualCostMicros: wholeOrNull('actualCostMicros', update.actualCostMicros),
  };
}

/** A delivery's insert values, its time checked. */
export function deliveryInsertValues(delivery: NewDelivery, taskId: string): NewDelivery & { taskId: string; nextAttemptAt: number } {
  const createdAt = whole('createdAt', delivery.createdAt);
  return { ...delivery, taskId, createdAt, nextAttemptAt: whole('nextAttemptAt', delivery.nextAttemptAt ?? createdAt) };
}

type Param<P> = <K extends keyof P & string>(name: K) => P[K];

/**
 * The row learns the provider's task id (polls name the task by it upstream); its key stays the
 * gateway's id, which tenants hold. Only from `sending`, so whichever of the createTask answer and
 * the provider's callback comes second changes nothing.
 */
export function confirmTaskQuery(db: Kysely<Database>, p: Param<TaskConfirmation & { gatewayTaskId: string }>) {
  return db
    .updateTable('tasks')
    .set({
      provider_task_id: p('providerTaskId'),
      state: 'waiting',
      upstream_key_id: p('upstreamKeyId'),
      upstream_id: sql<string | null>`coalesce(${p('upstreamId')}, upstream_id)`,
      next_check_at: p('nextCheckAt'),
    })
    .where('gateway_task_id', '=', p('gatewayTaskId'))
    .where('state', '=', 'sending');
}

export function prepareHotQueries(db: Kysely<Database>) {
  // The rules every update shares: never a final task, never an older record.
  const updateTask = (p: <K extends keyof TaskChange>(name: K) => TaskChange[K]) =>
    db
      .updateTable('tasks')
      .where('task_id', '=', p('taskId'))
      .where('final_at', 'is', null)
      .where('state', 'not in', FINAL_STATES)
      .where('updated_at', '<=', p('updatedAt'));

  return {
    findKeyByHash: prepareQuery<{ hash: string }>((p) =>
      db
        .selectFrom('tenant_keys as k')
        .innerJoin('tenants as t', 't.id', 'k.tenant_id')
        .select((eb) => [
          'k.id',
          'k.tenant_id',
          'k.revoked_at',
          'k.expires_at',
          't.disabled',
          't.models',
          't.quotas',
          't.settings',
          eb('t.webhook_secret', 'is not', null).as('has_webhook_secret'),
        ])
        .where('k.hash', '=', p('hash')),
    ),

    insertTask: prepareQuery<NewTask>((p) =>
      db.insertInto('tasks').values({
        task_id: p('taskId'),
        gateway_task_id: p('gatewayTaskId'),
        param: p('param'),
        tenant_id: p('tenantId'),
        upstream_key_id: p('upstreamKeyId'),
        upstream_id: p('upstreamId'),
        model: p('model'),
        call_back_url: p('callBackUrl'),
        state: p('state'),
        record: p('record'),
        created_at: p('createdAt'),
        updated_at: p('updatedAt'),
        final_at: p('finalAt'),
        slot_id: p('slotId'),
        estimated_cost_micros: p('estimatedCostMicros'),
        actual_cost_micros: p('actualCostMicros'),
        callback_token_hash: p('callbackTokenHash'),
        next_check_at: p('nextCheckAt'),
        checks: p('checks'),
        provider_task_id: p('providerTaskId'),
        queued_at: p('queuedAt'),
        priority: p('priority'),
        deadline_at: p('deadlineAt'),
        upstream_body: p('upstreamBody'),
        trace_parent: p('traceParent'),
      }),
    ),

    getTask: prepareQuery<{ taskId: string }>((p) => db.selectFrom('tasks').selectAll().where('task_id', '=', p('taskId'))),

    getTaskByGatewayId: prepareQuery<{ gatewayTaskId: string }>((p) => db.selectFrom('tasks').selectAll().where('gateway_task_id', '=', p('gatewayTaskId'))),

    // The row learns the provider's task id (polls name the task by it upstream); its key stays
    // the gateway's id, which tenants hold. Only from `sending`, so whichever of the createTask
    // answer and the provider's callback comes second changes nothing.
    confirmTask: prepareQuery<TaskConfirmation & { gatewayTaskId: string }>((p) => confirmTaskQuery(db, p)),

    // Still open: a poll that brings back the record already stored writes nothing.
    progressTask: prepareQuery<TaskChange>((p) =>
      updateTask(p)
        .set({ state: p('state'), record: p('record'), updated_at: p('updatedAt') })
        .where('record', 'is distinct from', p('record')),
    ),

    // Final: no longer scheduled for reconciliation (next_check_at null: see migrations.ts).
    finishTask: prepareQuery<TaskChange>((p) =>
      updateTask(p).set((eb) => ({
        state: p('state'),
        record: p('record'),
        updated_at: p('updatedAt'),
        final_at: p('finalAt'),
        next_check_at: null,
        // An unknown cost (null) leaves the column as it was.
        // (Its read type includes node-postgres' string for a bigint; what is written is a number.)
        actual_cost_micros: eb.fn.coalesce(eb.val(p('actualCostMicros')), eb.ref('actual_cost_micros')).$castTo<number | null>(),
      })),
    ),

    insertDelivery: prepareQuery<NewDelivery & { taskId: string; nextAttemptAt: number }>((p) =>
      db.insertInto('deliveries').values({
        id: p('id'),
        task_id: p('taskId'),
        tenant_id: p('tenantId'),
        url: p('url'),
        payload: p('payload'),
        state: 'pending',
        attempts: 0,
        next_attempt_at: p('nextAttemptAt'),
        lease_owner: null,
        lease_until: null,
        last_status: null,
        last_error: null,
        created_at: p('createdAt'),
        updated_at: p('createdAt'),
        delivered_at: null,
      }),
    ),
  };
}
