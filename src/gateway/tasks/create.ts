// POST /api/v1/jobs/createTask, after auth, validation (dialect.ts: aliases, the spec, the
// allow-list) and idempotency (queue/idempotency.ts):
//   admission `queue`: tenant quotas → queued (queue/enqueue.ts) → answered; sent by queue/dispatch.ts
//   admission `reject`: quota + upstream and key (one admission) → record (`sending`) → upstreams
//   (send.ts: routing, keys, failover) → confirm (the provider's task id) → respond
// Either way the tenant is answered with the gateway's task id (`gt_…`), never the provider's.
// The task is recorded before it is sent, under an id the gateway mints and puts in the callback
// URL it gives the provider, so a task the provider started is never lost: if the gateway dies
// or the answer is lost, the provider's callback finds the row, and until then the row counts in
// usage, budgets and the in-flight limit. The quota slot taken at admission is given back when no
// row is left to hold it: nothing recorded, or the provider proved it started nothing.
import { randomUUID } from 'node:crypto';
import type { CreateTaskRequest } from '../../client/types.js';
import { estimateCostMicros } from '../../pricing/prices.js';
import { QuotaUnavailableError, type Admission, type Remaining } from '../../quota/types.js';
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import type { AcceptedTask } from '../dialect.js';
import type { Answer, CreatedTask } from '../http/types.js';
import { invalidField, refusal, type GatewayError } from '../errors.js';
import { quotaRefusal, quotaUnavailable } from '../quota.js';
import { CallbackUrlError } from '../callbacks/ssrf.js';
import { callbackUrlFor, newCallbackToken } from '../callbacks/inbound.js';
import { enqueueTask, type QueueOptions } from '../queue/enqueue.js';
import { newGatewayTaskId } from './ids.js';
import { createdEvent, EVENT_WRITTEN } from './records.js';
import { noKey, sendToProvider, type Sending, type SendHooks } from './send.js';

/** What the HTTP adapter lends a createTask: headers to set, and whether the caller left. */
export interface CallHooks extends SendHooks {
  onRemaining(remaining: Remaining[]): void;
}

function callbackRefused(message: string): GatewayError {
  return invalidField({ path: 'callBackUrl', message, keyword: 'callback' });
}

/**
 * A tenant's callBackUrl is where the gateway itself will POST from inside the operator's
 * network: it must be https (unless allowed for development), never resolve to a private
 * address, and the tenant needs a secret to sign with.
 */
export async function checkCallbackUrl(ctx: GatewayContext, principal: Principal, body: CreateTaskRequest): Promise<void> {
  // "" is no callback (clients of the public API send it): nothing to check, nothing to send to.
  if (!body.callBackUrl) return;
  if (!principal.hasWebhookSecret) throw callbackRefused('cannot be used: this tenant has no webhookSecret to sign callbacks with');
  try {
    await ctx.callbackGuard.checkUrl(body.callBackUrl);
  } catch (error) {
    if (error instanceof CallbackUrlError) throw callbackRefused(error.message.replace(/^callBackUrl /, ''));
    throw error;
  }
}

interface Admitted {
  slotId: string;
  estimateMicros: number;
  admittedAt: number;
  /** The first upstream and key to send with; none when no key of any upstream can serve. */
  first: { upstreamId: string; keyId: string } | undefined;
  /** Why no key could, when none could. */
  noKey: { reasons: string[]; retryAfterMs: number };
}

/**
 * Quota + first upstream and key in one admission: the model's upstreams in routing order
 * (upstreams.ts), the first with a usable key; one whose keys are all at their pace gives way to
 * the next (admission counts nothing when it refuses, so asking again is safe).
 */
async function admit(ctx: GatewayContext, principal: Principal, body: CreateTaskRequest, hooks: CallHooks): Promise<Admitted> {
  const quotas = principal.quotas;
  const now = ctx.clock.now();
  const slotId = randomUUID();
  const estimateMicros = estimateCostMicros(body, ctx.prices) ?? 0;
  const { choices, reasons, retryAfterMs } = ctx.upstreams.keyChoices(body.model);
  if (choices.length === 0 && reasons.length === 0) throw refusal('no_upstream', `No upstream serves ${body.model}`);
  // None has a key: the limits are still checked (and counted) before the tenant hears why.
  if (choices.length === 0) choices.push({ upstream: ctx.upstreams.route(body.model)[0]!, keys: [] });
  let admission: Admission | undefined;
  let chosen = choices[0]!;
  for (chosen of choices) {
    try {
      admission = await ctx.quota.admit(principal.tenantId, quotas, now, {
        slotId,
        estimateMicros,
        leaseMs: ctx.config.tasks.maxLifetimeMs,
        keys: chosen.keys,
      });
    } catch (error) {
      if (error instanceof QuotaUnavailableError) throw quotaUnavailable(error);
      throw error;
    }
    if (admission.ok || admission.limit !== 'paced') break;
  }
  hooks.onRemaining(admission!.remaining);
  if (!admission!.ok) throw quotaRefusal(admission!, quotas);
  const first = admission!.keyId ? { upstreamId: chosen.upstream.id, keyId: admission!.keyId } : undefined;
  return { slotId, estimateMicros, admittedAt: now, first, noKey: { reasons, retryAfterMs } };
}

/**
 * A tenant with `admission: queue` has its task queued (queue/enqueue.ts) and answered at once;
 * with `reject`, it is sent now or refused (below).
 */
export async function createTask(
  ctx: GatewayContext,
  principal: Principal,
  task: AcceptedTask,
  hooks: CallHooks,
  queueOptions: QueueOptions = { cancelAfterMs: undefined, priority: 0 },
): Promise<Answer> {
  const settings = ctx.queueSettings(principal.settings.queue);
  if (settings.admission === 'queue') return enqueueTask(ctx, principal, task, hooks, settings, queueOptions);
  return sendNow(ctx, principal, task, hooks);
}

async function sendNow(ctx: GatewayContext, principal: Principal, task: AcceptedTask, hooks: CallHooks): Promise<Answer> {
  const admitted = await admit(ctx, principal, task.upstream, hooks);
  // The slot goes back unless a recorded task holds it: one started, or one whose fate is unknown.
  let giveBack = true;
  try {
    if (!admitted.first) throw noKey(admitted.noKey.reasons, admitted.noKey.retryAfterMs, []);
    const sending = await recordSending(ctx, principal, task, admitted, admitted.first);
    giveBack = false;
    const outcome = await sendToProvider(ctx, sending, hooks);
    if (outcome.kind === 'created') return await confirm(ctx, principal, task, admitted.admittedAt, sending, outcome);
    if (outcome.kind === 'refused') giveBack = await discard(ctx, sending);
    throw outcome.error;
  } finally {
    if (giveBack) await release(ctx, principal, admitted);
  }
}

/** Gives the admission back: its slot, its reservation, its day and month count. */
async function release(ctx: GatewayContext, principal: Principal, admitted: Admitted): Promise<void> {
  await ctx.quota.release(principal.tenantId, admitted.slotId, admitted.admittedAt).catch((error: unknown) => {
    ctx.logger.warn({ err: error }, 'quota: release failed; the slot frees itself at lease expiry');
  });
}

/**
 * Records the task before anything is sent: whatever happens next (the gateway killed, the
 * answer lost), the row is there for the provider's callback, the usage ledger and the quotas.
 */
async function recordSending(
  ctx: GatewayContext,
  principal: Principal,
  task: AcceptedTask,
  admitted: Admitted,
  first: { upstreamId: string; keyId: string },
): Promise<Sending> {
  const body = task.upstream;
  const gatewayTaskId = newGatewayTaskId(admitted.admittedAt);
  const callback = newCallbackToken();
  try {
    await ctx.store.insertTask({
      taskId: gatewayTaskId,
      gatewayTaskId,
      tenantId: principal.tenantId,
      upstreamId: first.upstreamId,
      upstreamKeyId: first.keyId,
      // The tenant's own model id and body (a public alias stays the alias): what its records show.
      model: task.model,
      callBackUrl: body.callBackUrl || null,
      state: 'sending',
      record: null,
      param: task.param,
      createdAt: admitted.admittedAt,
      // The provider's updateTime of the stored record; none yet, so any first record is newer.
      updatedAt: 0,
      finalAt: null,
      slotId: admitted.slotId,
      estimatedCostMicros: admitted.estimateMicros,
      actualCostMicros: null,
      callbackTokenHash: callback.hash,
      // Unconfirmed, it cannot be polled (the provider knows it by an id the gateway has not
      // learnt): given up then, unless its answer or its callback comes first.
      nextCheckAt: admitted.admittedAt + ctx.config.tasks.maxLifetimeMs,
      checks: 0,
      // The createTask span's (tracing on): the callback and the delivery join its trace.
      traceParent: ctx.tracing.currentTraceparent(),
    });
  } catch (error) {
    ctx.logger.error({ err: error, tenantId: principal.tenantId }, 'task could not be recorded; not sent');
    throw refusal('store', 'The task could not be recorded, so it was not sent; try again');
  }
  // The provider calls the gateway back, never the tenant: its URL names the row and carries the token.
  const upstreamBody = { ...body, callBackUrl: callbackUrlFor(ctx.publicUrl(), gatewayTaskId, callback.token) } as CreateTaskRequest;
  return { gatewayTaskId, ...first, upstreamBody };
}

/**
 * The provider started the task: the row records its id and upstream (unless its callback got
 * there first). With `announce` (a task sent at once, events on), its created event is written
 * in the same write: one round trip and one commit instead of two.
 */
export async function confirmSent(
  ctx: GatewayContext,
  tenantId: string,
  gatewayTaskId: string,
  created: { upstreamId: string; keyId: string; taskId: string },
  announce?: CreatedTask,
): Promise<void> {
  const { upstreamId, keyId: upstreamKeyId, taskId: providerTaskId } = created;
  // If no final state has arrived by then, reconciliation polls it.
  const confirmation = { providerTaskId, upstreamKeyId, upstreamId, nextCheckAt: ctx.clock.now() + ctx.config.reconcile.afterMs };
  try {
    if (!announce || !ctx.config.events.enabled) {
      await ctx.store.confirmTask(gatewayTaskId, confirmation);
      return;
    }
    const seq = await ctx.store.confirmAndAppendCreated(gatewayTaskId, confirmation, createdEvent(announce, ctx.clock.now()));
    if (seq !== undefined) ctx.events.emit(EVENT_WRITTEN, tenantId, seq);
  } catch (error) {
    // The provider has the task and the row holds it (its callback will confirm it); say so.
    ctx.logger.error({ err: error, taskId: gatewayTaskId, providerTaskId, upstreamKeyId, tenantId }, 'task created upstream; its id could not be recorded');
    throw refusal('store', `Task ${gatewayTaskId} was created but could not be recorded; retry reading it later`, { data: { taskId: gatewayTaskId } });
  }
}

/** Tenants are answered with the gateway's id, whatever the provider calls the task. */
async function confirm(
  ctx: GatewayContext,
  principal: Principal,
  task: AcceptedTask,
  createdAt: number,
  sending: Sending,
  created: { upstreamId: string; keyId: string; taskId: string },
): Promise<Answer> {
  const taskId = sending.gatewayTaskId;
  const { tenantId } = principal;
  const callBackUrl = task.upstream.callBackUrl || null;
  const announce = { taskId, providerTaskId: created.taskId, tenantId, callBackUrl, model: task.model, param: task.param, createdAt };
  await confirmSent(ctx, tenantId, taskId, created, announce);
  return { body: { code: 200, msg: 'success', data: { taskId } }, log: { taskId, upstreamKeyId: created.keyId, upstreamId: created.upstreamId } };
}

/** The provider proved it started nothing: the row goes. True when it did (the slot may go back). */
async function discard(ctx: GatewayContext, sending: Sending): Promise<boolean> {
  try {
    return await ctx.store.discardTask(sending.gatewayTaskId);
  } catch (error) {
    // The row stays and holds the slot until the task's maximum lifetime gives it up.
    ctx.logger.warn({ err: error, gatewayTaskId: sending.gatewayTaskId }, 'a task the provider refused could not be removed');
    return false;
  }
}
