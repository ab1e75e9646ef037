// GET /api/v1/jobs/recordInfo, after auth. A final task is answered from the store without
// calling the provider. Otherwise one upstream read per task at a time (concurrent polls share
// it), with the key that created the task (the provider shows a task only to its creator), and
// within that key's recordInfo allowance: past it, the last known record is served.
import type { TaskRecord } from '../../client/types.js';
import type { TaskRow, TaskStateName } from '../../store/types.js';
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { GatewayError, recordIsNull } from '../errors.js';
import { UpstreamTransportError } from '../upstream.js';
import type { Answer } from './create.js';

const FINAL = new Set<TaskStateName>(['success', 'fail']);

function answerWith(record: TaskRecord, row: TaskRow): Answer {
  return { body: { code: 200, msg: 'success', data: record }, log: { taskId: row.taskId, upstreamKeyId: row.upstreamKeyId } };
}

/** What the tenant sees when the provider cannot be asked right now. */
function lastKnown(row: TaskRow, unavailable: () => GatewayError): Answer {
  if (row.record) return answerWith(JSON.parse(row.record) as TaskRecord, row);
  throw unavailable();
}

export function createRecordReader(ctx: GatewayContext) {
  const inflight = new Map<string, Promise<Answer>>();

  async function refresh(row: TaskRow): Promise<Answer> {
    const read = ctx.pool.tryRead(row.upstreamKeyId);
    const busy = () => new GatewayError({ code: 429, msg: 'The provider read allowance of this task is spent; try again shortly', retryAfterSeconds: 1, reason: 'read_paced' });
    if (!read.ok) return row.record ? lastKnown(row, busy) : Promise.reject(recordIsNull());

    let answer;
    try {
      answer = await ctx.upstream.recordInfo(read.apiKey, row.taskId);
      ctx.metrics.upstreamSeconds.observe({ operation: 'recordInfo', outcome: String(answer.code) }, answer.durationMs / 1000);
    } catch (error) {
      if (!(error instanceof UpstreamTransportError)) throw error;
      ctx.metrics.upstreamSeconds.observe({ operation: 'recordInfo', outcome: 'transport' }, error.durationMs / 1000);
      return lastKnown(row, () => new GatewayError({ code: 502, msg: `The provider did not answer: ${error.message}`, reason: 'upstream_unavailable' }));
    }

    if (answer.code === 200 && answer.data && typeof answer.data === 'object') {
      const record = answer.data as TaskRecord;
      const final = FINAL.has(record.state);
      const now = ctx.clock.now();
      await ctx.store.updateTask(row.taskId, {
        state: record.state,
        record: JSON.stringify(record),
        updatedAt: record.updateTime ?? record.completeTime ?? now,
        finalAt: final ? (record.completeTime ?? now) : null,
      });
      ctx.pool.clearMaintenance();
      return answerWith(record, row);
    }
    if (answer.code === 401 || answer.code === 455) ctx.pool.report(row.upstreamKeyId, answer.code, answer.retryAfterMs);
    // Not visible upstream yet: exactly what the provider says just after creation.
    if (answer.code === 422 || answer.code === 404) return row.record ? lastKnown(row, recordIsNull) : Promise.reject(recordIsNull());
    return lastKnown(row, () => new GatewayError({ code: 502, msg: `The provider answered ${answer.code} ${answer.msg}`, reason: 'upstream_error' }));
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
