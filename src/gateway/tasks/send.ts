// Sending a recorded createTask upstream: key after key of one upstream, then upstream after
// upstream among those that serve the model (upstreams.ts routes them). What each answer means is
// the provider's body-code table (src/providers/): this module follows the table's `next` (another
// key, another upstream, nobody) and never reads a code. A task moves on only when the answer
// proves no task was started, or when no key could send it; a timeout, a 5xx or anything unknown
// is never resent, to this upstream or another: that could start two paid tasks. What comes back
// says which of three it was, because the task's row and quota slot follow it: created (the row
// takes the provider's id), refused (nothing was started: the row goes, the slot is given back) or
// unknown (the row stays in doubt, holding its slot, until the provider's callback or the task's
// maximum lifetime settles it).
import type { CreateTaskRequest } from '../../client/types.js';
import type { CreateVerdict } from '../../providers/types.js';
import { QuotaUnavailableError, type KeyPick } from '../../quota/types.js';
import type { GatewayContext } from '../context.js';
import { GatewayError, refusal, secondsFrom } from '../errors.js';
import { quotaUnavailable } from '../quota.js';
import { UpstreamTransportError } from '../upstream.js';
import type { Upstream } from '../upstreams.js';

/** One key tried for this createTask (by id), on which upstream, and what came of it. */
interface Attempt {
  upstream: string;
  upstreamKey: string;
  outcome: string;
}

export type SendOutcome =
  | { kind: 'created'; upstreamId: string; keyId: string; taskId: string }
  | { kind: 'refused'; error: GatewayError }
  | { kind: 'unknown'; error: GatewayError };

/** The task to send: its row (by the gateway's id), the first upstream and key, the body with the gateway's callback URL. */
export interface Sending {
  gatewayTaskId: string;
  /** The upstream admission chose (the cheapest healthy one with a key at its pace). */
  upstreamId: string;
  keyId: string;
  /** LiangXin's body (the canonical dialect); each upstream's provider translates it. */
  upstreamBody: CreateTaskRequest;
}

/** What the caller lends: whether it has left (then nothing more is sent). */
export interface SendHooks {
  aborted(): boolean;
  /** Told how long each call to the provider took, to tell the gateway's own time from it. */
  upstreamMs?(ms: number): void;
}

/** One upstream's end: the outcome, and whether the next upstream may take the task. */
type UpstreamEnd = { outcome: SendOutcome; failover: boolean };

export function noKey(
  reasons: string[],
  retryAfterMs: number,
  attempts: Attempt[],
  maintenance = reasons.length > 0 && reasons.every((r) => r.endsWith('provider in maintenance')),
): GatewayError {
  return new GatewayError({
    code: 503,
    msg: `No provider key can serve now: ${reasons.join('; ') || 'all were tried'}`,
    retryAfterSeconds: secondsFrom(retryAfterMs),
    data: { attempts },
    reason: maintenance ? 'maintenance' : 'no_key',
  });
}

async function call(ctx: GatewayContext, upstream: Upstream, keyId: string, body: unknown, hooks: SendHooks) {
  const labels = { upstream: upstream.id, operation: 'createTask' };
  try {
    const answer = await upstream.client.createTask(upstream.pool.apiKeyOf(keyId)!, body);
    ctx.metrics.upstreamSeconds.observe({ ...labels, outcome: String(answer.code) }, answer.durationMs / 1000);
    hooks.upstreamMs?.(answer.durationMs);
    return answer;
  } catch (error) {
    if (error instanceof UpstreamTransportError) {
      ctx.metrics.upstreamSeconds.observe({ ...labels, outcome: 'transport' }, error.durationMs / 1000);
      hooks.upstreamMs?.(error.durationMs);
    }
    throw error;
  }
}

/** The tenant's answer for a not-created verdict nobody else takes, as the table says. */
function answerFor(verdict: Extract<CreateVerdict, { kind: 'not-created' }>, attempts: Attempt[]): SendOutcome {
  const { rule } = verdict;
  if (rule.tenant === 'maintenance') {
    return {
      kind: 'refused',
      error: refusal('maintenance', 'The provider is in maintenance', { retryAfterSeconds: secondsFrom(verdict.retryAfterMs ?? 60_000), data: { attempts } }),
    };
  }
  if (rule.tenant === 'relay' && rule.started === 'no') {
    // Relayed as the provider said it: its body code, and in `provider` mode its HTTP status too.
    return {
      kind: 'refused',
      error: new GatewayError({ code: verdict.code, msg: verdict.msg, data: { attempts }, reason: 'upstream_refused', providerStatus: verdict.httpStatus }),
    };
  }
  const msg = `The provider answered ${verdict.code} ${verdict.msg}; the task may or may not have been created, so it was not resent`;
  return { kind: 'unknown', error: refusal('upstream_error', msg, { data: { attempts } }) };
}

/** The next key of this upstream with allowance left, or the refusal that says why there is none. */
async function nextKey(
  ctx: GatewayContext,
  upstream: Upstream,
  tried: Set<string>,
  attempts: Attempt[],
  label: (r: string) => string,
): Promise<string | GatewayError> {
  const next = upstream.pool.candidates(tried);
  if (next.keys.length === 0) {
    // Name every resting key, the ones tried for this task included.
    const all = upstream.pool.candidates();
    return noKey(all.reasons.map(label), all.retryAfterMs, attempts);
  }
  let pick: KeyPick;
  try {
    pick = await ctx.quota.pickKey(next.keys, ctx.clock.now());
  } catch (error) {
    if (error instanceof QuotaUnavailableError) return quotaUnavailable(error);
    throw error;
  }
  if (pick.ok) return pick.keyId;
  return refusal('paced', 'Every other provider key is at its pace; try again later', {
    retryAfterSeconds: secondsFrom(pick.retryAfterMs),
    data: { attempts },
  });
}

/** Key after key of one upstream; `firstKey` is admission's pick (the first upstream only). */
async function sendVia(
  ctx: GatewayContext,
  upstream: Upstream,
  firstKey: string | undefined,
  sending: Sending,
  hooks: SendHooks,
  attempts: Attempt[],
): Promise<UpstreamEnd> {
  // Reasons name their upstream once there are several.
  const label = (reason: string) => (ctx.upstreams.list.length > 1 ? `${upstream.id}: ${reason}` : reason);
  const translated = upstream.provider.translate(sending.upstreamBody);
  if (!translated.ok) {
    attempts.push({ upstream: upstream.id, upstreamKey: '', outcome: `not sent: ${translated.why}` });
    return {
      outcome: {
        kind: 'refused',
        error: refusal('untranslatable', `Invalid request for ${upstream.id}: ${translated.path} ${translated.why}`, { data: { attempts } }),
      },
      failover: true,
    };
  }
  const tried = new Set<string>();
  let keyId: string | GatewayError = firstKey ?? (await nextKey(ctx, upstream, tried, attempts, label));
  for (;;) {
    // No key (resting, paced) proves nothing was started here: the next upstream may try.
    if (keyId instanceof GatewayError) return { outcome: { kind: 'refused', error: keyId }, failover: keyId.reason !== 'quota_unavailable' };
    if (hooks.aborted()) {
      // The caller left before this was sent: nothing to create, nothing to hold.
      return { outcome: { kind: 'refused', error: refusal('aborted', 'The client closed the request') }, failover: false };
    }
    // The row names the upstream and key its provider callback will be checked against.
    if (keyId !== sending.keyId || upstream.id !== sending.upstreamId) await ctx.store.setSendingKey(sending.gatewayTaskId, keyId, upstream.id);
    tried.add(keyId);
    let verdict: CreateVerdict;
    try {
      const answer = await call(ctx, upstream, keyId, translated.body, hooks);
      verdict = upstream.provider.readCreate(answer);
    } catch (error) {
      if (!(error instanceof UpstreamTransportError)) throw error;
      if (error.sent) {
        const msg = `The provider did not answer (${error.message}); the task may or may not have been created, so it was not resent`;
        return {
          outcome: {
            kind: 'unknown',
            error: refusal('upstream_unknown', msg, { data: { attempts: [...attempts, { upstream: upstream.id, upstreamKey: keyId, outcome: 'no answer' }] } }),
          },
          failover: false,
        };
      }
      attempts.push({ upstream: upstream.id, upstreamKey: keyId, outcome: 'connection refused (not sent)' });
      keyId = await nextKey(ctx, upstream, tried, attempts, label);
      continue;
    }
    if (verdict.kind === 'created') {
      upstream.pool.report(keyId, 'active', '');
      upstream.pool.clearMaintenance();
      return { outcome: { kind: 'created', upstreamId: upstream.id, keyId, taskId: verdict.taskId }, failover: false };
    }
    const { rule } = verdict;
    upstream.pool.report(keyId, rule.key, `provider answered ${verdict.code}: ${rule.note}`, verdict.retryAfterMs);
    attempts.push({ upstream: upstream.id, upstreamKey: keyId, outcome: `${verdict.code} ${verdict.msg}` });
    if (rule.next === 'key') keyId = await nextKey(ctx, upstream, tried, attempts, label);
    else return { outcome: answerFor(verdict, attempts), failover: rule.next === 'upstream' };
  }
}

/**
 * Sends the task: first where admission chose, then on to the other upstreams that serve its
 * model, as long as each one's end proves nothing was started there. The last refusal is the
 * tenant's answer when none took it.
 */
export async function sendToProvider(ctx: GatewayContext, sending: Sending, hooks: SendHooks): Promise<SendOutcome> {
  const attempts: Attempt[] = [];
  const first = ctx.upstreams.byId(sending.upstreamId);
  const rest = ctx.upstreams.route(sending.upstreamBody.model).filter((u) => u !== first);
  const order = first ? [first, ...rest] : rest;
  // Built only when needed: an error captures a stack, which every createTask would pay for.
  if (order.length === 0) return { kind: 'refused', error: refusal('no_upstream', `No upstream serves ${sending.upstreamBody.model}`) };
  let last!: SendOutcome;
  for (const [i, upstream] of order.entries()) {
    const end = await sendVia(ctx, upstream, i === 0 && first ? sending.keyId : undefined, sending, hooks, attempts);
    last = end.outcome;
    if (!end.failover) break;
  }
  return last;
}
