// GET /api/v1/jobs/recordInfo, after auth. A final task is answered from the store without
// calling the provider. Otherwise one upstream read per task at a time (concurrent polls share
// it), at the task's upstream with the key that created it (the provider shows a task only to its
// creator), and within that key's recordInfo budget (read-budget.ts). When more tasks are polled
// than the budget can read, polls are answered at once from what the gateway knows and the budget
// goes to the tasks with the strongest claim (poll-priority.ts). Whenever the provider cannot say
// more (past the budget, not visible yet, not answering), the gateway answers what it knows: the last
// record, or a waiting one built from the stored request. A task the gateway has recorded is
// never answered "recordInfo is null". Every answer says how old its record may be. A task the
// provider showed this instance less than tasks.minReadIntervalMs ago is answered from the store
// without a read: polling faster than that brings nothing the provider would not say a moment later.
import type { TaskRecord } from '../../client/types.js';
import type { TaskRow } from '../../store/types.js';
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { invalidField, recordIsNull } from '../errors.js';
import type { Answer } from '../http/types.js';
import { createPollPriority, PROVIDER_CALLBACK_EVENT } from './poll-priority.js';
import { withQueuePlace } from '../queue/place.js';
import { applyRecord, FINAL, knownRecord, readFromProvider, tenantView, type TenantRecord } from './records.js';

/** How old the served record may be, in ms: 0 when just read from the provider (openapi/gateway.yaml). */
export const RECORD_AGE_HEADER = 'X-LiangXin-Record-Age-Ms';

export function createRecordReader(ctx: GatewayContext) {
  // A success is shown with its result copies (results/) when the gateway keeps them.
  async function answerWith(record: TaskRecord, row: TaskRow, ageMs: number): Promise<Answer> {
    const view = tenantView(record, row);
    const data = ctx.results && view.state === 'success' ? await ctx.results.present(view, row.taskId) : view;
    return {
      body: { code: 200, msg: 'success', data },
      headers: { [RECORD_AGE_HEADER]: String(Math.max(0, Math.round(ageMs))) },
      log: { taskId: row.taskId, upstreamKeyId: row.upstreamKeyId },
    };
  }

  const inflight = new Map<string, Promise<Answer>>();
  const priority = createPollPriority(
    () => ctx.clock.now(),
    () => ctx.config.tasks.minReadIntervalMs,
  );
  ctx.events.on(PROVIDER_CALLBACK_EVENT, (row: TaskRow, record: TaskRecord) => {
    priority.callbackArrived();
    priority.learnt(row, FINAL.has(record.state));
  });

  const stored = (row: TaskRow) => answerWith(knownRecord(row), row, ctx.clock.now() - priority.knownAt(row));

  async function refresh(row: TaskRow): Promise<Answer> {
    // A task still `sending` is known to the provider by an id the gateway has not learnt yet.
    const read = row.providerTaskId === null ? undefined : await readFromProvider(ctx, row);
    if (read?.kind === 'record') {
      priority.learnt(row, FINAL.has(read.record.state));
      await applyRecord(ctx, row, read.record);
      return answerWith(read.record, row, 0);
    }
    return stored(row);
  }

  function shared(row: TaskRow): Promise<Answer> {
    let reading = inflight.get(row.taskId);
    if (!reading) {
      reading = refresh(row).finally(() => inflight.delete(row.taskId));
      inflight.set(row.taskId, reading);
    }
    return reading;
  }

  /** The read budget of the key that created the task, at the task's upstream. */
  const readsOf = (row: TaskRow) => ctx.upstreams.ofTask(row)?.pool.readsOf(row.upstreamKeyId) ?? { available: 0, perSecond: 0 };

  /** Spends what the key's budget has now on the tasks in demand with the strongest claim. */
  function spend(polled: TaskRow): void {
    const { available } = readsOf(polled);
    for (const row of priority.next(polled.upstreamKeyId, available, (taskId) => inflight.has(taskId))) {
      shared(row).catch((error: unknown) => ctx.logger.warn({ err: error, taskId: row.taskId }, 'recordInfo: a background read failed'));
    }
  }

  /** A queued task: a waiting record with its place in its tenant's queue and when it was accepted. */
  async function queued(row: TaskRow): Promise<Answer> {
    // Nothing newer exists anywhere: the gateway is the only one that knows this task.
    const answer = await answerWith(knownRecord(row), row, 0);
    const body = answer.body as { data: TenantRecord };
    body.data = await withQueuePlace(ctx, row, body.data);
    return answer;
  }

  return async function readTask(principal: Principal, taskId: unknown): Promise<Answer> {
    if (typeof taskId !== 'string' || taskId === '') {
      throw invalidField({ path: 'taskId', message: 'is required', keyword: 'required' });
    }
    // Tasks confirmed before migration 0009 are keyed by the provider's id; later ones (and
    // tenants that kept a gateway id of an older row) by the gateway's: either finds the row.
    const row = (await ctx.store.getTask(taskId)) ?? (taskId.startsWith('gt_') ? await ctx.store.getTaskByGatewayId(taskId) : undefined);
    // Another tenant's task answers exactly like one that does not exist.
    if (!row || row.tenantId !== principal.tenantId) throw recordIsNull();
    if (row.finalAt !== null) return stored(row);
    if (row.state === 'queued') return queued(row);

    const reading = inflight.get(row.taskId);
    if (reading) return reading;
    const decision = priority.polled(row, readsOf(row).perSecond);
    if (decision === 'read') return shared(row);
    if (decision === 'queue') spend(row);
    return stored(row);
  };
}
