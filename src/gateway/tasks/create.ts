// POST /api/v1/jobs/createTask, after auth:
//   validate → allow-list → quota + key (one admission) → upstream → record → respond
// A createTask goes to another key only when the answer proves no task was started (401, 402,
// 433, 429 in the body, or a connection refused before sending). A timeout or a 5xx is never
// resent: that could start two paid tasks. The envelope says what happened. The quota slot taken
// at admission is given back whenever no task is left to track it.
import { randomUUID } from 'node:crypto';
import type { CreateTaskRequest } from '../../client/types.js';
import { estimateCostMicros } from '../../pricing/prices.js';
import { QuotaUnavailableError, type Admission, type Remaining } from '../../quota/types.js';
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { GatewayError, invalidRequest, secondsFrom } from '../errors.js';
import { quotaRefusal, quotaUnavailable } from '../quota.js';
import { CallbackUrlError } from '../callbacks/ssrf.js';
import { callbackUrlFor, newCallbackToken } from '../callbacks/inbound.js';
import { UpstreamTransportError, type UpstreamAnswer } from '../upstream.js';

export interface Answer {
  body: unknown;
  log?: { taskId?: string; upstreamKeyId?: string };
}

/** What the HTTP adapter lends a createTask: headers to set, and whether the caller left. */
export interface CallHooks {
  onRemaining(remaining: Remaining[]): void;
  aborted(): boolean;
}

/** Codes that prove the provider did not start the task, so another key may try (403: LiangXin's 402). */
const NOT_CREATED = new Set([401, 402, 403, 429, 433]);

interface Attempt {
  upstreamKey: string;
  outcome: string;
}

export function validateCreateTask(ctx: GatewayContext, principal: Principal, body: unknown): CreateTaskRequest {
  const checked = ctx.validator.validateCreateTask<CreateTaskRequest>(body);
  if (!checked.ok) {
    throw invalidRequest(checked);
  }
  if (principal.models && !principal.models.includes(checked.value.model)) {
    throw new GatewayError({ code: 403, msg: `Model ${checked.value.model} is not enabled for this tenant`, data: { allowed: principal.models }, reason: 'model_not_allowed' });
  }
  return checked.value;
}

function callbackRefused(message: string): GatewayError {
  return new GatewayError({ code: 422, msg: `Invalid request: callBackUrl ${message}`, data: { errors: [{ path: 'callBackUrl', message, keyword: 'callback' }] }, reason: 'validation' });
}

/**
 * A tenant's callBackUrl is where the gateway itself will POST from inside the operator's
 * network: it must be https (unless allowed for development), never resolve to a private
 * address, and the tenant needs a secret to sign with.
 */
export async function checkCallbackUrl(ctx: GatewayContext, principal: Principal, body: CreateTaskRequest): Promise<void> {
  if (!body.callBackUrl) return;
  if (!ctx.tenantSecret(principal.tenantId)) throw callbackRefused('cannot be used: this tenant has no webhookSecret to sign callbacks with');
  try {
    await ctx.callbackGuard.checkUrl(body.callBackUrl);
  } catch (error) {
    if (error instanceof CallbackUrlError) throw callbackRefused(error.message.replace(/^callBackUrl /, ''));
    throw error;
  }
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

function noKey(reasons: string[], retryAfterMs: number, attempts: Attempt[]): GatewayError {
  return new GatewayError({
    code: 503,
    msg: `No provider key can serve now: ${reasons.join('; ') || 'all were tried'}`,
    retryAfterSeconds: secondsFrom(retryAfterMs),
    data: { attempts },
    reason: reasons[0] === 'provider in maintenance' ? 'maintenance' : 'no_key',
  });
}

/** Quota + first key in one admission. */
async function admit(ctx: GatewayContext, principal: Principal, body: CreateTaskRequest, hooks: CallHooks) {
  const quotas = principal.quotas;
  const now = ctx.clock.now();
  const slotId = randomUUID();
  const estimateMicros = estimateCostMicros(body, ctx.prices) ?? 0;
  const candidates = ctx.pool.candidates();
  let admission: Admission;
  try {
    admission = await ctx.quota.admit(principal.tenantId, quotas, now, { slotId, estimateMicros, leaseMs: ctx.config.tasks.maxLifetimeMs, keys: candidates.keys });
  } catch (error) {
    if (error instanceof QuotaUnavailableError) throw quotaUnavailable(error);
    throw error;
  }
  hooks.onRemaining(admission.remaining);
  if (!admission.ok) throw quotaRefusal(admission, quotas);
  return { slotId, estimateMicros, admittedAt: now, keyId: admission.keyId, candidates };
}

export async function createTask(ctx: GatewayContext, principal: Principal, body: CreateTaskRequest, hooks: CallHooks): Promise<Answer> {
  const { slotId, estimateMicros, admittedAt, keyId: firstKey, candidates } = await admit(ctx, principal, body, hooks);
  // The provider calls the gateway back, never the tenant: its URL carries this task's token.
  const callback = newCallbackToken();
  const upstreamBody = { ...body, callBackUrl: callbackUrlFor(ctx.publicUrl(), callback.token) } as CreateTaskRequest;
  const attempts: Attempt[] = [];
  const tried = new Set<string>();
  const giveBack = () => ctx.quota.release(principal.tenantId, slotId, admittedAt).catch((error: unknown) => ctx.logger.warn({ err: error }, 'quota: release failed; the slot frees itself at lease expiry'));

  let keyId = firstKey;
  if (!keyId) {
    await giveBack();
    throw noKey(candidates.reasons, candidates.retryAfterMs, attempts);
  }
  for (;;) {
    if (hooks.aborted()) {
      // The caller left before anything was sent: nothing to create, nothing to hold.
      await giveBack();
      throw new GatewayError({ code: 499, httpStatus: 499, msg: 'The client closed the request', reason: 'aborted' });
    }
    tried.add(keyId);
    let answer: UpstreamAnswer | undefined;
    try {
      answer = await send(ctx, ctx.pool.apiKeyOf(keyId)!, upstreamBody);
    } catch (error) {
      if (!(error instanceof UpstreamTransportError)) {
        await giveBack();
        throw error;
      }
      if (error.sent) {
        await giveBack();
        throw new GatewayError({
          code: 502,
          msg: `The provider did not answer (${error.message}); the task may or may not have been created, so it was not resent`,
          data: { attempts: [...attempts, { upstreamKey: keyId, outcome: 'no answer' }] },
          reason: 'upstream_unknown',
        });
      }
      attempts.push({ upstreamKey: keyId, outcome: 'connection refused (not sent)' });
    }

    if (answer) {
      ctx.pool.report(keyId, answer.code, answer.retryAfterMs);
      const taskId = (answer.data as { taskId?: unknown } | null)?.taskId;
      if (answer.code === 200 && typeof taskId === 'string' && taskId) {
        ctx.pool.clearMaintenance();
        return record(ctx, principal, body, { keyId, taskId, slotId, estimateMicros, callbackTokenHash: callback.hash });
      }
      attempts.push({ upstreamKey: keyId, outcome: `${answer.code} ${answer.msg}` });
      if (!NOT_CREATED.has(answer.code)) {
        await giveBack();
        throw refusedUpstream(answer, attempts);
      }
    }

    // Not created: another key, if one is usable and has allowance left.
    const next = ctx.pool.candidates(tried);
    if (next.keys.length === 0) {
      await giveBack();
      // Name every resting key, the ones tried for this task included.
      const all = ctx.pool.candidates();
      throw noKey(all.reasons, all.retryAfterMs, attempts);
    }
    const pick = await ctx.quota.pickKey(next.keys, ctx.clock.now()).catch(async (error: unknown) => {
      await giveBack();
      throw error instanceof QuotaUnavailableError ? quotaUnavailable(error) : error;
    });
    if (!pick.ok) {
      await giveBack();
      throw new GatewayError({ code: 429, msg: 'Every other provider key is at its pace; try again later', retryAfterSeconds: secondsFrom(pick.retryAfterMs), data: { attempts }, reason: 'paced' });
    }
    keyId = pick.keyId;
  }
}

function refusedUpstream(answer: UpstreamAnswer, attempts: Attempt[]): GatewayError {
  if (answer.code === 455) {
    return new GatewayError({ code: 503, msg: 'The provider is in maintenance', retryAfterSeconds: secondsFrom(answer.retryAfterMs ?? 60_000), data: { attempts }, reason: 'maintenance' });
  }
  if (answer.code === 400 || answer.code === 422 || answer.code === 505) {
    // The provider judged the request itself; another key would judge it the same.
    return new GatewayError({ code: answer.code, msg: answer.msg, data: { attempts }, reason: 'upstream_refused' });
  }
  return new GatewayError({
    code: 502,
    msg: `The provider answered ${answer.code} ${answer.msg}; the task may or may not have been created, so it was not resent`,
    data: { attempts },
    reason: 'upstream_error',
  });
}

async function record(
  ctx: GatewayContext,
  principal: Principal,
  body: CreateTaskRequest,
  created: { keyId: string; taskId: string; slotId: string; estimateMicros: number; callbackTokenHash: string },
): Promise<Answer> {
  const { keyId: upstreamKeyId, taskId } = created;
  const now = ctx.clock.now();
  try {
    await ctx.store.insertTask({
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
      slotId: created.slotId,
      estimatedCostMicros: created.estimateMicros,
      actualCostMicros: null,
      callbackTokenHash: created.callbackTokenHash,
      // If no final state has arrived by then, reconciliation polls it.
      nextCheckAt: now + ctx.config.reconcile.afterMs,
      checks: 0,
    });
  } catch (error) {
    // The provider has the task; say so rather than hide it. Its slot frees itself at lease expiry.
    ctx.logger.error({ err: error, taskId, upstreamKeyId, tenantId: principal.tenantId }, 'task created upstream but not recorded');
    throw new GatewayError({ code: 500, msg: `Task ${taskId} was created but could not be recorded; retry reading it later`, data: { taskId }, reason: 'store' });
  }
  return { body: { code: 200, msg: 'success', data: { taskId } }, log: { taskId, upstreamKeyId } };
}
