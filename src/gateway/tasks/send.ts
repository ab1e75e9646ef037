// Sending a recorded createTask to the provider, key after key. It goes to another key only when
// the answer proves no task was started (401, 402, 403, 433, 429 in the body, or a connection refused
// before sending). A timeout or a 5xx is never resent: that could start two paid tasks. What
// comes back says which of the three it was, because the task's row and quota slot follow it:
// created (the row takes the provider's id), refused (nothing was started: the row goes, the slot
// is given back) or unknown (the row stays in doubt, holding its slot, until the provider's
// callback or the task's maximum lifetime settles it).
import type { CreateTaskRequest } from '../../client/types.js';
import { QuotaUnavailableError } from '../../quota/types.js';
import type { GatewayContext } from '../context.js';
import { GatewayError, refusal, secondsFrom } from '../errors.js';
import { quotaUnavailable } from '../quota.js';
import { UpstreamTransportError, type UpstreamAnswer } from '../upstream.js';

/** Codes that prove the provider did not start the task, so another key may try (403: LiangXin's 402). */
const NOT_CREATED = new Set([401, 402, 403, 429, 433]);

/** Codes of a request the provider judged and refused: another key would judge it the same. */
const JUDGED = new Set([400, 422, 505]);

interface Attempt {
  upstreamKey: string;
  outcome: string;
}

export type SendOutcome =
  | { kind: 'created'; keyId: string; taskId: string }
  | { kind: 'refused'; error: GatewayError }
  | { kind: 'unknown'; error: GatewayError };

/** The task to send: its row (by the gateway's id), the first key, the body with the gateway's callback URL. */
export interface Sending {
  gatewayTaskId: string;
  keyId: string;
  upstreamBody: CreateTaskRequest;
}

/** What the caller lends: whether it has left (then nothing more is sent). */
export interface SendHooks {
  aborted(): boolean;
  /** Told how long each call to the provider took, to tell the gateway's own time from it. */
  upstreamMs?(ms: number): void;
}

export function noKey(reasons: string[], retryAfterMs: number, attempts: Attempt[]): GatewayError {
  return new GatewayError({
    code: 503,
    msg: `No provider key can serve now: ${reasons.join('; ') || 'all were tried'}`,
    retryAfterSeconds: secondsFrom(retryAfterMs),
    data: { attempts },
    reason: reasons[0] === 'provider in maintenance' ? 'maintenance' : 'no_key',
  });
}

async function call(ctx: GatewayContext, apiKey: string, body: CreateTaskRequest, hooks: SendHooks): Promise<UpstreamAnswer> {
  try {
    const answer = await ctx.upstream.createTask(apiKey, body);
    ctx.metrics.upstreamSeconds.observe({ operation: 'createTask', outcome: String(answer.code) }, answer.durationMs / 1000);
    hooks.upstreamMs?.(answer.durationMs);
    return answer;
  } catch (error) {
    if (error instanceof UpstreamTransportError) {
      ctx.metrics.upstreamSeconds.observe({ operation: 'createTask', outcome: 'transport' }, error.durationMs / 1000);
      hooks.upstreamMs?.(error.durationMs);
    }
    throw error;
  }
}

function judged(answer: UpstreamAnswer, attempts: Attempt[]): SendOutcome {
  if (answer.code === 455) {
    return { kind: 'refused', error: new GatewayError({ code: 503, msg: 'The provider is in maintenance', retryAfterSeconds: secondsFrom(answer.retryAfterMs ?? 60_000), data: { attempts }, reason: 'maintenance' }) };
  }
  if (JUDGED.has(answer.code)) {
    // Relayed as the provider said it: its body code, and in `provider` mode its HTTP status too.
    return { kind: 'refused', error: new GatewayError({ code: answer.code, msg: answer.msg, data: { attempts }, reason: 'upstream_refused', providerStatus: answer.httpStatus }) };
  }
  return {
    kind: 'unknown',
    error: new GatewayError({
      code: 502,
      msg: `The provider answered ${answer.code} ${answer.msg}; the task may or may not have been created, so it was not resent`,
      data: { attempts },
      reason: 'upstream_error',
    }),
  };
}

/** One key's try; `undefined` when it proved no task was started (another key may try). */
async function attempt(ctx: GatewayContext, keyId: string, body: CreateTaskRequest, attempts: Attempt[], hooks: SendHooks): Promise<SendOutcome | undefined> {
  let answer: UpstreamAnswer;
  try {
    answer = await call(ctx, ctx.pool.apiKeyOf(keyId)!, body, hooks);
  } catch (error) {
    if (!(error instanceof UpstreamTransportError)) throw error;
    if (!error.sent) {
      attempts.push({ upstreamKey: keyId, outcome: 'connection refused (not sent)' });
      return undefined;
    }
    const msg = `The provider did not answer (${error.message}); the task may or may not have been created, so it was not resent`;
    return { kind: 'unknown', error: new GatewayError({ code: 502, msg, data: { attempts: [...attempts, { upstreamKey: keyId, outcome: 'no answer' }] }, reason: 'upstream_unknown' }) };
  }
  ctx.pool.report(keyId, answer.code, answer.retryAfterMs);
  const taskId = (answer.data as { taskId?: unknown } | null)?.taskId;
  if (answer.code === 200 && typeof taskId === 'string' && taskId) {
    ctx.pool.clearMaintenance();
    return { kind: 'created', keyId, taskId };
  }
  attempts.push({ upstreamKey: keyId, outcome: `${answer.code} ${answer.msg}` });
  return NOT_CREATED.has(answer.code) ? undefined : judged(answer, attempts);
}

/** The next usable key with allowance left, or the refusal that says why there is none. */
async function nextKey(ctx: GatewayContext, tried: Set<string>, attempts: Attempt[]): Promise<string | GatewayError> {
  const next = ctx.pool.candidates(tried);
  if (next.keys.length === 0) {
    // Name every resting key, the ones tried for this task included.
    const all = ctx.pool.candidates();
    return noKey(all.reasons, all.retryAfterMs, attempts);
  }
  let pick;
  try {
    pick = await ctx.quota.pickKey(next.keys, ctx.clock.now());
  } catch (error) {
    if (error instanceof QuotaUnavailableError) return quotaUnavailable(error);
    throw error;
  }
  if (pick.ok) return pick.keyId;
  return new GatewayError({ code: 429, msg: 'Every other provider key is at its pace; try again later', retryAfterSeconds: secondsFrom(pick.retryAfterMs), data: { attempts }, reason: 'paced' });
}

export async function sendToProvider(ctx: GatewayContext, sending: Sending, hooks: SendHooks): Promise<SendOutcome> {
  const attempts: Attempt[] = [];
  const tried = new Set<string>();
  let keyId = sending.keyId;
  for (;;) {
    if (hooks.aborted()) {
      // The caller left before this was sent: nothing to create, nothing to hold.
      return { kind: 'refused', error: refusal('aborted', 'The client closed the request') };
    }
    tried.add(keyId);
    const outcome = await attempt(ctx, keyId, sending.upstreamBody, attempts, hooks);
    if (outcome) return outcome;
    const next = await nextKey(ctx, tried, attempts);
    if (next instanceof GatewayError) return { kind: 'refused', error: next };
    keyId = next;
    // The row names the key its provider callback will be signed with.
    await ctx.store.setSendingKey(sending.gatewayTaskId, keyId);
  }
}
