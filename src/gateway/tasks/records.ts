// What the gateway does with a record the provider reported, wherever it came from (a tenant's
// poll, the provider's callback, reconciliation): store it, and when that write made the task
// final, enqueue the tenant's callback in the same transaction and settle the task's quota.
// The store's conditional update makes all of it happen once per task, however many instances
// and deliveries report the same end, and never lets an older record replace a newer one.
import { randomBytes } from 'node:crypto';
import { FINAL_STATES, type TaskRecord } from '../../client/types.js';
import type { NewDelivery, NewTaskEvent, TaskRow, TaskStateName } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import type { CreatedTask } from '../http/types.js';
import { UpstreamTransportError, type UpstreamAnswer } from '../upstream.js';

export const FINAL = new Set<TaskStateName>(FINAL_STATES);

/**
 * What a final task cost, in integer micro-dollars: what the provider reports (its cost rule,
 * src/providers/), else the estimate for a success; a failure is free.
 */
export function costOf(reported: number | undefined, record: TaskRecord, row: TaskRow): number {
  if (record.state === 'fail') return 0;
  return reported ?? row.estimatedCostMicros ?? 0;
}

/**
 * A time the provider reported, as the whole Unix milliseconds the store keeps (rounded); one no
 * column can hold is no time at all (undefined), so the caller's fallback applies.
 */
export function providerTime(value: number | null | undefined): number | undefined {
  if (typeof value !== 'number') return undefined;
  const ms = Math.round(value);
  return Number.isSafeInteger(ms) && ms >= 0 ? ms : undefined;
}

/** Frees the task's quota slot and adds its cost (micro-dollars) to the month; a failure only logs (the lease frees the slot). */
export async function settle(ctx: GatewayContext, row: TaskRow, costMicros: number): Promise<void> {
  try {
    await ctx.quota.settle(row.tenantId, row.slotId ?? row.taskId, costMicros, row.createdAt);
  } catch (error) {
    ctx.logger.warn({ err: error, taskId: row.taskId, tenantId: row.tenantId }, 'quota: settle failed');
  }
}

/** A record as tenants see it: the provider's fields, and the gateway's extension fields (openapi/gateway.yaml). */
export type TenantRecord = TaskRecord & { providerTaskId?: string; queuePosition?: number; queuedAt?: number };

/**
 * The record as the tenant sees it: the gateway's task id (the provider's is kept beside it, for
 * support), its own model id and its own request. The provider's record names its own id and
 * LiangXin's model (a public alias was translated), and its `param` is the body the gateway
 * sent, carrying the gateway's own callback URL with the task's secret token; the row keeps what
 * the tenant sent. Rows from before the request was kept (migration 0006) get the provider's
 * `param` with the tenant's callBackUrl put back.
 */
export function tenantView(record: TaskRecord, row: Pick<TaskRow, 'taskId' | 'providerTaskId' | 'callBackUrl' | 'model' | 'param'>): TenantRecord {
  const ids = { taskId: row.taskId, ...(row.providerTaskId ? { providerTaskId: row.providerTaskId } : {}) };
  if (row.param) return { ...record, ...ids, model: row.model, param: row.param };
  if (!record.param) return { ...record, ...ids };
  try {
    const param = JSON.parse(record.param) as Record<string, unknown>;
    if (!('callBackUrl' in param)) return { ...record, ...ids };
    if (row.callBackUrl) param.callBackUrl = row.callBackUrl;
    else delete param.callBackUrl;
    return { ...record, ...ids, param: JSON.stringify(param) };
  } catch {
    return { ...record, ...ids };
  }
}

/**
 * What the gateway knows of a task: the provider's last record, or before the provider has shown
 * one, the record it would show now (state waiting, the tenant's own request as its param).
 */
export function knownRecord(row: Pick<TaskRow, 'record' | 'taskId' | 'model' | 'param' | 'createdAt'>): TaskRecord {
  if (row.record) return JSON.parse(row.record) as TaskRecord;
  return {
    taskId: row.taskId,
    model: row.model,
    state: 'waiting',
    // Tasks recorded before the request was kept (migration 0006) have only their model.
    param: row.param ?? JSON.stringify({ model: row.model }),
    resultJson: '',
    failCode: null,
    failMsg: null,
    costTime: null,
    completeTime: null,
    createTime: row.createdAt,
    updateTime: row.createdAt,
  };
}

/** The signal (ctx.events) that an event was written along with another write: (tenantId, seq). */
export const EVENT_WRITTEN = 'event-written';

/** A new task's first event (`created`), from what its answer knew: state waiting, the tenant's own request. */
export function createdEvent(task: CreatedTask, now: number): NewTaskEvent {
  const view = tenantView(knownRecord({ ...task, record: null }), task);
  return { tenantId: task.tenantId, taskId: task.taskId, state: view.state, record: JSON.stringify(view), createdAt: now };
}

/** Standard Webhooks ids: unique, and stable across the delivery's retries. */
function deliveryId(): string {
  return `msg_${Date.now().toString(36)}${randomBytes(10).toString('hex')}`;
}

export function deliveryFor(row: TaskRow, record: TaskRecord, now: number): NewDelivery | null {
  if (!row.callBackUrl || !FINAL.has(record.state)) return null;
  const payload = {
    code: record.state === 'fail' ? 501 : 200,
    msg: record.state === 'fail' ? (record.failMsg ?? 'Generation failed') : 'success',
    data: tenantView(record, row),
  };
  return { id: deliveryId(), tenantId: row.tenantId, url: row.callBackUrl, payload: JSON.stringify(payload), createdAt: now };
}

/** Stores a record; returns whether it changed the task (false for a stale or repeated one). */
export async function applyRecord(ctx: GatewayContext, row: TaskRow, record: TaskRecord): Promise<boolean> {
  const text = JSON.stringify(record);
  // A poll bringing back what is stored (most polls of a running task) has nothing to write;
  // the store would refuse it too, at the cost of a statement.
  if (text === row.record) return false;
  const now = ctx.clock.now();
  const final = FINAL.has(record.state);
  const actualCostMicros = final ? costOf(ctx.upstreams.ofTask(row)?.provider.costMicros(record), record, row) : undefined;
  const completed = providerTime(record.completeTime);
  const delivery = deliveryFor(row, record, now);
  // A success's callback waits (bounded) for its result copy, which releases it sooner with the copy's URLs.
  const hold = delivery && ctx.results ? ctx.results.callbackHoldMs(record) : 0;
  if (delivery && hold > 0) delivery.nextAttemptAt = now + hold;
  const changed = await ctx.store.updateTask(
    row.taskId,
    {
      state: record.state,
      record: text,
      updatedAt: providerTime(record.updateTime) ?? completed ?? now,
      finalAt: final ? (completed ?? now) : null,
      ...(final ? { actualCostMicros } : {}),
    },
    delivery,
  );
  if (changed && final) {
    await settle(ctx, row, actualCostMicros!);
    // Wake this instance's outbox rather than wait for its next poll (a held one waits for its copy).
    if (delivery && hold === 0) ctx.events.emit('delivery');
  }
  // The call-out for what follows a stored change: task events (events/), result copies (results/).
  if (changed) ctx.events.emit('task', row, record);
  return changed;
}

export type ProviderRead =
  | { kind: 'record'; record: TaskRecord }
  /** The provider says "recordInfo is null": not visible yet (or gone). */
  | { kind: 'not-visible' }
  /** The key's recordInfo allowance is spent for now. */
  | { kind: 'paced' }
  | { kind: 'unavailable'; reason: string };

/**
 * One recordInfo at the task's upstream, with the key that created it, within that key's
 * allowance. A task the provider has not named yet (queued, or sent and unconfirmed) cannot be asked about.
 */
export async function readFromProvider(ctx: GatewayContext, row: TaskRow): Promise<ProviderRead> {
  if (!row.providerTaskId) return { kind: 'not-visible' };
  const upstream = ctx.upstreams.ofTask(row);
  if (!upstream) return { kind: 'unavailable', reason: `upstream ${row.upstreamId} is no longer configured` };
  const read = upstream.pool.tryRead(row.upstreamKeyId);
  if (!read.ok) return { kind: 'paced' };
  const labels = { upstream: upstream.id, operation: 'recordInfo' };
  let answer: UpstreamAnswer;
  try {
    answer = await upstream.client.recordInfo(read.apiKey, row.providerTaskId);
    ctx.metrics.upstreamSeconds.observe({ ...labels, outcome: String(answer.code) }, answer.durationMs / 1000);
  } catch (error) {
    if (!(error instanceof UpstreamTransportError)) throw error;
    ctx.metrics.upstreamSeconds.observe({ ...labels, outcome: 'transport' }, error.durationMs / 1000);
    return { kind: 'unavailable', reason: `the provider did not answer: ${error.message}` };
  }
  const verdict = upstream.provider.readRecord(answer);
  upstream.pool.readAnswered(row.upstreamKeyId, verdict.kind === 'unavailable' && verdict.paced, answer.retryAfterMs);
  if (verdict.kind === 'record') {
    upstream.pool.clearMaintenance();
    return verdict;
  }
  if (verdict.kind === 'unavailable') upstream.pool.report(row.upstreamKeyId, verdict.key, verdict.reason, verdict.retryAfterMs);
  return verdict.kind === 'not-visible' ? verdict : { kind: 'unavailable', reason: verdict.reason };
}
