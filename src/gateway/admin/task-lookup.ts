// GET /admin/v1/tasks/{taskId}/history: one task as the gateway recorded it (by the provider's
// id or the gateway's own `gt_…`), its callbacks to the tenant, and its history: the events its
// row and deliveries prove, in time order. Secrets stay out: the callback token's hash and the
// provider key's secret are never shown (the key by its id only).
import { Router } from 'express';
import type { components } from '../../generated/gateway.js';
import type { DeliveryRow, TaskRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import { refusal } from '../errors.js';
import { handle } from '../respond.js';

export interface TaskEvent {
  at: number;
  event: string;
}

function parsed(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The contract's AdminTask (openapi/gateway.yaml). */
export function taskView(task: TaskRow): components['schemas']['AdminTask'] {
  return {
    taskId: task.taskId,
    gatewayTaskId: task.gatewayTaskId,
    providerTaskId: task.providerTaskId,
    tenantId: task.tenantId,
    upstreamId: task.upstreamId,
    upstreamKeyId: task.upstreamKeyId,
    model: task.model,
    state: task.state,
    callBackUrl: task.callBackUrl,
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    finalAt: task.finalAt,
    queuedAt: task.queuedAt,
    estimatedUsdMicros: task.estimatedCostMicros,
    actualUsdMicros: task.actualCostMicros,
    checks: task.checks,
    param: parsed(task.param),
    record: parsed(task.record),
  };
}

/** What the row and its deliveries prove happened, oldest first. */
export function historyOf(task: TaskRow, deliveries: DeliveryRow[]): TaskEvent[] {
  const events: TaskEvent[] =
    task.queuedAt === null
      ? [{ at: task.createdAt, event: `recorded by the gateway (model ${task.model}, provider key ${task.upstreamKeyId})` }]
      : [{ at: task.queuedAt, event: `accepted into the admission queue (model ${task.model})` }];
  if (task.updatedAt > 0) events.push({ at: task.updatedAt, event: `provider's last record: ${task.state}` });
  if (task.finalAt !== null) events.push({ at: task.finalAt, event: `final: ${task.state}` });
  for (const d of deliveries) {
    events.push({ at: d.createdAt, event: `callback ${d.id} queued for ${d.url}` });
    const answer = d.lastStatus !== null ? `HTTP ${d.lastStatus}` : (d.lastError ?? 'no answer yet');
    if (d.attempts > 0) events.push({ at: d.updatedAt, event: `callback ${d.id}: ${d.state} after ${d.attempts} attempt(s), last answer ${answer}` });
  }
  return events.sort((a, b) => a.at - b.at);
}

export function taskLookupRouter(ctx: GatewayContext): Router {
  const router = Router();
  router.get(
    '/tasks/:taskId/history',
    handle(async (req, res) => {
      const id = req.params.taskId as string;
      const task = (await ctx.store.getTask(id)) ?? (id.startsWith('gt_') ? await ctx.store.getTaskByGatewayId(id) : undefined);
      if (!task) throw refusal('not_found', `No task ${id}`);
      const deliveries = await ctx.store.listDeliveries({ taskId: task.taskId, limit: 100 });
      res.json({ code: 200, msg: 'success', data: { task: taskView(task), deliveries, history: historyOf(task, deliveries) } });
    }),
  );
  return router;
}
