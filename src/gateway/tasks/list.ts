// Task lists: a tenant's own (GET /api/v1/jobs/list) and the operator's over every tenant
// (GET /admin/v1/tasks). Pages run newest first on (created_at, task_id), the order of the
// indexes of migration 0011, and the cursor is the last row shown: keyset pagination, so page
// 1000 costs what page 1 does and a task created meanwhile neither repeats nor hides a row.
import type { components } from '../../generated/gateway.js';
import type { Store, TaskListQuery, TaskRow, TaskStateName } from '../../store/types.js';
import { parseLimit, parseTime, type QueryFailure } from '../http/query.js';

export type TaskSummary = components['schemas']['TaskSummary'];
export type AdminTaskSummary = components['schemas']['AdminTaskSummary'];
export interface TaskPage<T> {
  items: T[];
  nextCursor: string | null;
}

const STATES: readonly TaskStateName[] = ['queued', 'sending', 'waiting', 'queuing', 'generating', 'success', 'fail'];
const LIMIT = { min: 1, max: 200, fallback: 50 };

export function encodeCursor(row: Pick<TaskRow, 'createdAt' | 'taskId'>): string {
  return Buffer.from(JSON.stringify([row.createdAt, row.taskId])).toString('base64url');
}

function decodeCursor(text: string, fail: QueryFailure): TaskListQuery['after'] {
  try {
    const [createdAt, taskId] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (Number.isSafeInteger(createdAt) && typeof taskId === 'string') return { createdAt: createdAt as number, taskId };
  } catch {
    // Falls through to the refusal.
  }
  throw fail('cursor', 'is not a cursor this API gave (pass nextCursor as it is)');
}

/** The filters and page of a list's query string; a bad value is refused naming it. */
export function parseTaskList(query: Record<string, unknown>, fail: QueryFailure): Omit<TaskListQuery, 'tenantId'> {
  const text = (name: string) => (typeof query[name] === 'string' && query[name] !== '' ? (query[name] as string) : undefined);
  const state = text('state');
  if (state !== undefined && !STATES.includes(state as TaskStateName)) throw fail('state', `must be one of ${STATES.join(', ')}`);
  const cursor = text('cursor');
  return {
    ...(state !== undefined && { state: state as TaskStateName }),
    ...(text('model') !== undefined && { model: text('model') }),
    ...(text('from') !== undefined && { from: parseTime('from', text('from'), fail) }),
    ...(text('to') !== undefined && { to: parseTime('to', text('to'), fail) }),
    ...(cursor !== undefined && { after: decodeCursor(cursor, fail) }),
    limit: parseLimit('limit', query.limit, LIMIT, fail),
  };
}

/** One page and the cursor of the next (one row more is read to know whether there is one). */
export async function listTaskPage<T>(store: Store, query: TaskListQuery, view: (row: TaskRow) => T): Promise<TaskPage<T>> {
  const rows = await store.listTasks({ ...query, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return { items: page.map(view), nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

export function tenantTaskView(row: TaskRow): TaskSummary {
  return {
    taskId: row.taskId,
    model: row.model,
    state: row.state,
    createdAt: row.createdAt,
    finalAt: row.finalAt,
    ...(row.queuedAt !== null && { queuedAt: row.queuedAt }),
  };
}

export function adminTaskView(row: TaskRow): AdminTaskSummary {
  return {
    ...tenantTaskView(row),
    tenantId: row.tenantId,
    gatewayTaskId: row.gatewayTaskId,
    // Null until the provider's answer (or callback) is recorded.
    providerTaskId: row.providerTaskId,
    upstreamKey: row.upstreamKeyId,
    estimatedCostMicros: row.estimatedCostMicros,
    actualCostMicros: row.actualCostMicros,
  };
}
