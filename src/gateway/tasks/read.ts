// GET /api/v1/jobs/recordInfo, after auth. A final task is answered from the store without
// calling the provider. Otherwise one upstream read per task at a time (concurrent polls share
// it), with the key that created the task (the provider shows a task only to its creator), and
// within that key's recordInfo allowance: past it, the last known record is served.
import type { TaskRecord } from '../../client/types.js';
import type { TaskRow } from '../../store/types.js';
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { GatewayError, recordIsNull } from '../errors.js';
import type { Answer } from './create.js';
import { applyRecord, readFromProvider, tenantView } from './records.js';

function answerWith(record: TaskRecord, row: TaskRow): Answer {
  return { body: { code: 200, msg: 'success', data: tenantView(record, row) }, log: { taskId: row.taskId, upstreamKeyId: row.upstreamKeyId } };
}

export function createRecordReader(ctx: GatewayContext) {
  const inflight = new Map<string, Promise<Answer>>();

  async function refresh(row: TaskRow): Promise<Answer> {
    const read = await readFromProvider(ctx, row);
    if (read.kind === 'record') {
      await applyRecord(ctx, row, read.record);
      return answerWith(read.record, row);
    }
    // The provider cannot be asked now (or has nothing yet): the last known record, if any.
    if (row.record) return answerWith(JSON.parse(row.record) as TaskRecord, row);
    if (read.kind === 'not-visible' || read.kind === 'paced') throw recordIsNull(); // as the provider answers this early
    throw new GatewayError({ code: 502, msg: `No record yet: ${read.reason}`, reason: 'upstream_unavailable' });
  }

  return async function readTask(principal: Principal, taskId: unknown): Promise<Answer> {
    if (typeof taskId !== 'string' || taskId === '') {
      throw new GatewayError({ code: 400, msg: 'taskId is required', data: { errors: [{ path: 'taskId', message: 'is required', keyword: 'required' }] }, reason: 'validation' });
    }
    const row = await ctx.store.getTask(taskId);
    // Another tenant's task answers exactly like one that does not exist.
    if (!row || row.tenantId !== principal.tenantId) throw recordIsNull();
    if (row.finalAt !== null && row.record) return answerWith(JSON.parse(row.record) as TaskRecord, row);

    let shared = inflight.get(taskId);
    if (!shared) {
      shared = refresh(row).finally(() => inflight.delete(taskId));
      inflight.set(taskId, shared);
    }
    return shared;
  };
}
