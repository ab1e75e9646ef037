// Ending a queued task unsent: cancelled by its tenant (POST /api/v1/jobs/cancelTask) or past
// its deadline (Cancel-After, the tenant's default, or tasks.maxLifetimeMs; reconciliation finds
// it due). Only a task still `queued` ends this way (one conditional update, with its callback in
// the same transaction): one a dispatcher has taken is the provider's, and the provider has no
// cancel. It costs nothing: its slot and budget reservation are freed (its day/month count stays:
// those count acceptances), and a tenant with a callBackUrl gets the final record.
import { UNSENT_FAIL_CODES, type UnsentEnd } from '../../client/types.js';
import type { TaskRow } from '../../store/types.js';
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { invalidField, recordIsNull, refusal } from '../errors.js';
import type { Answer } from '../http/types.js';
import { deliveryFor, FINAL, knownRecord, settle, tenantView, type TenantRecord } from '../tasks/records.js';

type Why = UnsentEnd;

function endRecord(ctx: GatewayContext, row: TaskRow, why: Why, now: number) {
  const deadline = row.deadlineAt !== null && row.deadlineAt <= now;
  const failMsg =
    why === 'cancelled'
      ? 'Cancelled by the tenant while queued; it was never sent to the provider and costs nothing'
      : deadline
        ? 'Still queued at its deadline (Cancel-After); it was never sent to the provider and costs nothing'
        : `Still queued after ${Math.round(ctx.config.tasks.maxLifetimeMs / 60_000)} min (tasks.maxLifetimeMs); it was never sent to the provider and costs nothing`;
  return {
    ...knownRecord(row),
    state: 'fail' as const,
    failCode: UNSENT_FAIL_CODES[why],
    failMsg,
    costTime: null,
    completeTime: now,
    updateTime: now,
  };
}

/** Ends a queued task; its tenant's view of the final record, or undefined when it is no longer queued. */
export async function endQueued(ctx: GatewayContext, row: TaskRow, why: Why): Promise<TenantRecord | undefined> {
  const now = ctx.clock.now();
  const record = endRecord(ctx, row, why, now);
  const delivery = deliveryFor(row, record, now);
  if (!(await ctx.store.endQueuedTask(row.taskId, { record: JSON.stringify(record), updatedAt: now }, delivery))) return undefined;
  await settle(ctx, row, 0);
  ctx.metrics.queueEnded.inc({ tenant: row.tenantId, why });
  if (delivery) ctx.events.emit('delivery');
  return tenantView(record, row);
}

/** POST /api/v1/jobs/cancelTask: `{ taskId }` of one of the tenant's own tasks. */
export async function cancelTask(ctx: GatewayContext, principal: Principal, body: unknown): Promise<Answer> {
  const taskId = (body as { taskId?: unknown } | null)?.taskId;
  if (typeof taskId !== 'string' || taskId === '') {
    throw invalidField({ path: 'taskId', message: 'is required', keyword: 'required' });
  }
  const row = (await ctx.store.getTask(taskId)) ?? (taskId.startsWith('gt_') ? await ctx.store.getTaskByGatewayId(taskId) : undefined);
  if (!row || row.tenantId !== principal.tenantId) throw recordIsNull();
  const answer = (data: TenantRecord): Answer => ({ body: { code: 200, msg: 'success', data }, log: { taskId: row.taskId } });
  if (row.state === 'queued') {
    const ended = await endQueued(ctx, row, 'cancelled');
    if (ended) return answer(ended);
  }
  // Taken by a dispatcher meanwhile, or never queued: see what it is now.
  const now = (await ctx.store.getTask(row.taskId)) ?? row;
  const known = knownRecord(now);
  // Cancelling twice answers the same final record.
  if (FINAL.has(now.state) && known.failCode === UNSENT_FAIL_CODES.cancelled) return answer(tenantView(known, now));
  throw refusal(
    'task_at_provider',
    FINAL.has(now.state)
      ? `Task ${now.taskId} is already final (${now.state})`
      : `Task ${now.taskId} is already at the provider, which has no cancel; it will end on its own`,
    {
      data: { taskId: now.taskId, state: now.state === 'sending' ? 'waiting' : now.state },
    },
  );
}
