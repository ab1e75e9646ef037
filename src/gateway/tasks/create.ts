// POST /api/v1/jobs/createTask, after auth:
//   validate → allow-list → key pool → upstream → record → respond
// A createTask goes to another key only when the answer proves no task was started (401, 402,
// 433, 429 in the body, or a connection refused before sending). A timeout or a 5xx is never
// resent: that could start two paid tasks. The envelope says what happened.
import type { CreateTaskRequest } from '../../client/types.js';
import { formatFieldErrors } from '../../spec/validator.js';
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { GatewayError, secondsFrom } from '../errors.js';
import { UpstreamTransportError, type UpstreamAnswer } from '../upstream.js';

export interface Answer {
  body: unknown;
  log?: { taskId?: string; upstreamKeyId?: string };
}

/** Codes that prove the provider did not start the task, so another key may try. */
const NOT_CREATED = new Set([401, 402, 429, 433]);

interface Attempt {
  upstreamKey: string;
  outcome: string;
}

export function validateCreateTask(ctx: GatewayContext, principal: Principal, body: unknown): CreateTaskRequest {
  const checked = ctx.validator.validateCreateTask<CreateTaskRequest>(body);
  if (!checked.ok) {
    throw new GatewayError({ code: 422, msg: `Invalid request: ${formatFieldErrors(checked.errors)}`, data: { errors: checked.errors }, reason: 'validation' });
  }
  if (principal.models && !principal.models.includes(checked.value.model)) {
    throw new GatewayError({ code: 403, msg: `Model ${checked.value.model} is not enabled for this tenant`, data: { allowed: principal.models }, reason: 'model_not_allowed' });
  }
  return checked.value;
}

async function send(ctx: GatewayContext, apiKey: string, body: CreateTaskRequest): Promise<UpstreamAnswer> {
  try {
    const answer = await ctx.upstream.createTask(apiKey, body);
    ctx.metrics.upstreamSeconds.observe({ operation: 'createTask', outcome: String(answer.code) }, answer.durationMs / 1000);
    return answer;
  } catch (error) {
    if (error instanceof UpstreamTransportError) ctx.metrics.upstreamSeconds.observe({ operation: 'createTask', outcome: 'transport' }, error.durationMs / 1000);
    throw error;
  }
}

export async function createTask(ctx: GatewayContext, principal: Principal, body: CreateTaskRequest): Promise<Answer> {
  const attempts: Attempt[] = [];
  const tried = new Set<string>();

  for (;;) {
    const pick = ctx.pool.pickForCreate(tried);
    if (!pick.ok) {
      const retryAfterSeconds = secondsFrom(pick.retryAfterMs);
      if (pick.why === 'paced') {
        throw new GatewayError({ code: 429, msg: 'Every provider key is at its pace; try again later', retryAfterSeconds, data: { attempts }, reason: 'paced' });
      }
      throw new GatewayError({
        code: 503,
        msg: `No provider key can serve now: ${pick.reasons.join('; ') || 'all were tried'}`,
        retryAfterSeconds,
        data: { attempts },
        reason: 'no_key',
      });
    }
    tried.add(pick.keyId);

    let answer: UpstreamAnswer;
    try {
      answer = await send(ctx, pick.apiKey, body);
    } catch (error) {
      if (!(error instanceof UpstreamTransportError)) throw error;
      if (!error.sent) {
        attempts.push({ upstreamKey: pick.keyId, outcome: 'connection refused (not sent)' });
        continue;
      }
      throw new GatewayError({
        code: 502,
        msg: `The provider did not answer (${error.message}); the task may or may not have been created, so it was not resent`,
        data: { attempts: [...attempts, { upstreamKey: pick.keyId, outcome: 'no answer' }] },
        reason: 'upstream_unknown',
      });
    }

    ctx.pool.report(pick.keyId, answer.code, answer.retryAfterMs);
    const taskId = (answer.data as { taskId?: unknown } | null)?.taskId;
    if (answer.code === 200 && typeof taskId === 'string' && taskId) {
      ctx.pool.clearMaintenance();
      return record(ctx, principal, body, pick.keyId, taskId);
    }
    attempts.push({ upstreamKey: pick.keyId, outcome: `${answer.code} ${answer.msg}` });
    if (NOT_CREATED.has(answer.code)) continue;
    if (answer.code === 455) {
      throw new GatewayError({ code: 503, msg: 'The provider is in maintenance', retryAfterSeconds: secondsFrom(answer.retryAfterMs ?? 60_000), data: { attempts }, reason: 'maintenance' });
    }
    if (answer.code === 400 || answer.code === 422 || answer.code === 505) {
      // The provider judged the request itself; another key would judge it the same.
      throw new GatewayError({ code: answer.code, msg: answer.msg, data: { attempts }, reason: 'upstream_refused' });
    }
    throw new GatewayError({
      code: 502,
      msg: `The provider answered ${answer.code} ${answer.msg}; the task may or may not have been created, so it was not resent`,
      data: { attempts },
      reason: 'upstream_error',
    });
  }
}

async function record(ctx: GatewayContext, principal: Principal, body: CreateTaskRequest, upstreamKeyId: string, taskId: string): Promise<Answer> {
  const now = ctx.clock.now();
  const row = {
    taskId,
    tenantId: principal.tenantId,
    upstreamKeyId,
    model: body.model,
    callBackUrl: body.callBackUrl ?? null,
    state: 'waiting',
    record: null,
    createdAt: now,
    // The provider's updateTime of the stored record; none yet, so any first record is newer.
    updatedAt: 0,
    finalAt: null,
  } as const;
  try {
    await ctx.store.insertTask(row);
  } catch (error) {
    // The provider has the task; say so rather than hide it, and leave a trail to reconcile.
    ctx.logger.error({ err: error, taskId, upstreamKeyId, tenantId: principal.tenantId }, 'task created upstream but not recorded');
    throw new GatewayError({ code: 500, msg: `Task ${taskId} was created but could not be recorded; retry reading it later`, data: { taskId }, reason: 'store' });
  }
  return { body: { code: 200, msg: 'success', data: { taskId } }, log: { taskId, upstreamKeyId } };
}
