// Acceptance into the admission queue: after auth, validation and idempotency, the tenant's own
// limits (tasksPerDay/Month counted, the budget reserved, maxQueued) decide; the provider keys'
// pacing does not (it moves to dispatch). The task is stored `queued` and answered at once with
// the gateway's id; the dispatcher (dispatch.ts) is woken to send it when allowance frees.
// maxInFlight counts tasks at the provider, so the dispatcher checks it, not this step.
import { randomUUID } from 'node:crypto';
import { estimateCostMicros } from '../../pricing/prices.js';
import { QuotaUnavailableError, type Admission, type Remaining } from '../../quota/types.js';
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import type { AcceptedTask } from '../dialect.js';
import { refusal, type GatewayError } from '../errors.js';
import type { Answer } from '../http/types.js';
import { quotaRefusal, quotaUnavailable } from '../quota.js';
import { newGatewayTaskId } from '../tasks/ids.js';
import type { TenantQueueSettings } from './settings.js';

/** The in-process signal that wakes this instance's dispatcher (other instances poll). */
export const QUEUED_EVENT = 'queued';

export interface QueueOptions {
  /** Cancel-After, in ms from acceptance; the tenant's default when absent. */
  cancelAfterMs: number | undefined;
  priority: number;
}

function queueFull(maxQueued: number): GatewayError {
  return refusal('queue_full', `Queue full: ${maxQueued} tasks waiting (maxQueued); try again when some have been sent`, {
    retryAfterSeconds: 10,
    data: { limit: 'maxQueued' },
  });
}

export async function enqueueTask(
  ctx: GatewayContext,
  principal: Principal,
  task: AcceptedTask,
  hooks: { onRemaining(remaining: Remaining[]): void },
  settings: TenantQueueSettings,
  options: QueueOptions,
): Promise<Answer> {
  const { tenantId } = principal;
  const { maxQueued } = settings;
  // A model no upstream serves would wait for nothing: refused as a task sent at once would be.
  if (ctx.upstreams.route(task.upstream.model).length === 0) throw refusal('no_upstream', `No upstream serves ${task.upstream.model}`);
  if (maxQueued !== undefined && (await ctx.store.countQueued(tenantId)) >= maxQueued) throw queueFull(maxQueued);
  const now = ctx.clock.now();
  const slotId = randomUUID();
  const estimateMicros = estimateCostMicros(task.upstream, ctx.prices) ?? 0;
  // maxInFlight is the dispatcher's (tasks at the provider); no keys: pacing is the dispatcher's too.
  const quotas = { ...principal.quotas, maxInFlight: undefined };
  let admission: Admission;
  try {
    admission = await ctx.quota.admit(tenantId, quotas, now, { slotId, estimateMicros, leaseMs: ctx.config.tasks.maxLifetimeMs, keys: [] });
  } catch (error) {
    if (error instanceof QuotaUnavailableError) throw quotaUnavailable(error);
    throw error;
  }
  hooks.onRemaining(admission.remaining);
  if (!admission.ok) throw quotaRefusal(admission, principal.quotas);

  const taskId = newGatewayTaskId(now);
  const cancelAfterMs = options.cancelAfterMs ?? settings.cancelAfterMs;
  const deadlineAt = cancelAfterMs === undefined ? null : now + cancelAfterMs;
  const lifetimeEnd = now + ctx.config.tasks.maxLifetimeMs;
  try {
    await ctx.store.insertTask({
      taskId,
      gatewayTaskId: taskId,
      tenantId,
      // No key yet: the dispatcher names the one it sends with.
      upstreamKeyId: '',
      model: task.model,
      callBackUrl: task.upstream.callBackUrl || null,
      state: 'queued',
      record: null,
      param: task.param,
      upstreamBody: JSON.stringify(task.upstream),
      createdAt: now,
      updatedAt: 0,
      finalAt: null,
      slotId,
      estimatedCostMicros: estimateMicros,
      actualCostMicros: null,
      callbackTokenHash: null,
      // Reconciliation ends it unsent at its deadline (or its lifetime) if it is still queued then.
      nextCheckAt: deadlineAt === null ? lifetimeEnd : Math.min(deadlineAt, lifetimeEnd),
      checks: 0,
      queuedAt: now,
      priority: options.priority,
      deadlineAt,
      // The createTask span's (tracing on): the dispatch, the callback and the delivery join its trace.
      traceParent: ctx.tracing.currentTraceparent(),
    });
  } catch (error) {
    await ctx.quota.release(tenantId, slotId, now).catch(() => undefined);
    ctx.logger.error({ err: error, tenantId }, 'task could not be queued');
    throw refusal('store', 'The task could not be recorded, so it was not queued; try again');
  }
  // The count before the insert does not see requests racing with this one (here or on
  // another instance): counted again with this task in, one past the cap withdraws itself.
  // Two racing may both withdraw (one more refusal than needed); the cap is never passed.
  if (maxQueued !== undefined && (await ctx.store.countQueued(tenantId)) > maxQueued && (await ctx.store.withdrawQueued(taskId))) {
    await ctx.quota.release(tenantId, slotId, now).catch(() => undefined);
    throw queueFull(maxQueued);
  }
  ctx.events.emit(QUEUED_EVENT, tenantId);
  const created = {
    taskId,
    providerTaskId: null,
    tenantId,
    callBackUrl: task.upstream.callBackUrl || null,
    model: task.model,
    param: task.param,
    createdAt: now,
  };
  return { body: { code: 200, msg: 'success', data: { taskId } }, log: { taskId }, created };
}
