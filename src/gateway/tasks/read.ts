// GET /api/v1/jobs/recordInfo, after auth. A final task is answered from the store without
// calling the provider. Otherwise one upstream read per task at a time (concurrent polls share
// it), with the key that created the task (the provider shows a task only to its creator), and
// within that key's recordInfo allowance. Whenever the provider cannot say more (past the
// allowance, not visible yet, not answering), the gateway answers what it knows: the last
// record, or a waiting one built from the stored request. A task the gateway has recorded is
// never answered "recordInfo is null".
import type { TaskRecord } from '../../client/types.js';
import type { TaskRow } from '../../store/types.js';
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { recordIsNull, refusal } from '../errors.js';
import type { Answer } from './create.js';
import { applyRecord, knownRecord, readFromProvider, tenantView, type TenantRecord } from './records.js';

function answerWith(record: TaskRecord, row: TaskRow): Answer {
  return { body: { code: 200, msg: 'success', data: tenantView(record, row) }, log: { taskId: row.taskId, upstreamKeyId: row.upstreamKeyId } };
}

export function createRecordReader(ctx: GatewayContext) {
  const inflight = new Map<string, Promise<Answer>>();

  async function refresh(row: TaskRow): Promise<Answer> {
    // A task still `sending` is known to the provider by an id the gateway has not learnt yet.
    const read = row.providerTaskId === null ? undefined : await readFromProvider(ctx, row);
    if (read?.kind === 'record') {
      await applyRecord(ctx, row, read.record);
      return answerWith(read.record, row);
    }
    return answerWith(knownRecord(row), row);
  }

  /** A queued task: a waiting record with its place in its tenant's queue and when it was accepted. */
  async function queued(row: TaskRow): Promise<Answer> {
    const answer = answerWith(knownRecord(row), row);
    const data = (answer.body as { data: TenantRecord }).data;
    data.queuePosition = await ctx.store.queuePosition(row);
    data.queuedAt = row.queuedAt!;
    return answer;
  }

  return async function readTask(principal: Principal, taskId: unknown): Promise<Answer> {
    if (typeof taskId !== 'string' || taskId === '') {
      throw refusal('validation', 'taskId is required', { data: { errors: [{ path: 'taskId', message: 'is required', keyword: 'required' }], errorCount: 1 } });
    }
    // Tasks confirmed before migration 0009 are keyed by the provider's id; later ones (and
    // tenants that kept a gateway id of an older row) by the gateway's: either finds the row.
    const row = (await ctx.store.getTask(taskId)) ?? (taskId.startsWith('gt_') ? await ctx.store.getTaskByGatewayId(taskId) : undefined);
    // Another tenant's task answers exactly like one that does not exist.
    if (!row || row.tenantId !== principal.tenantId) throw recordIsNull();
    if (row.finalAt !== null) return answerWith(knownRecord(row), row);
    if (row.state === 'queued') return queued(row);

    let shared = inflight.get(row.taskId);
    if (!shared) {
      shared = refresh(row).finally(() => inflight.delete(row.taskId));
      inflight.set(row.taskId, shared);
    }
    return shared;
  };
}
