// A queued task's record, wherever it is shown (recordInfo, the first event of its SSE stream):
// `state: waiting` as the provider would say, plus its place in its tenant's queue and when the
// queue accepted it (openapi/gateway.yaml `GatewayTaskRecord`). One place, so both say the same.
import type { TaskRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';

export async function withQueuePlace<T extends object>(
  ctx: Pick<GatewayContext, 'store'>,
  row: TaskRow,
  view: T,
): Promise<T | (T & { queuePosition: number; queuedAt: number })> {
  if (row.state !== 'queued' || row.queuedAt === null) return view;
  return { ...view, queuePosition: await ctx.store.queuePosition(row), queuedAt: row.queuedAt };
}
