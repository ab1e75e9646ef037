// POST /callbacks/liangxin/:gatewayTaskId/:token — an upstream telling the gateway a task ended
// (one path for every upstream: the task's row says which upstream it is on, and that upstream's
// provider reads the payload and checks its signature).
// The URL the gateway gave the provider names the task by the id the gateway minted when it
// recorded the task (before sending it), and carries an unguessable per-task token (only its
// hash is stored, with the task), compared in constant time. So the callback finds its task even
// when the gateway never learnt the provider's answer (killed, or the answer lost): it then gives
// the task its provider id. When the task's provider key has a webhookHmacKey, the signature must
// verify too (the provider's scheme: src/providers/). Accepted callbacks go through the same path
// as a poll (records.ts): idempotent for duplicates, and an older record never replaces a newer
// one. Every callback is counted by outcome (lxg_provider_callbacks_total).
//
// The task is always stored before the provider hears of it, so nothing waits for it to appear:
// an unknown task and a wrong token are refused alike, at once, with the same bytes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { CallbackSignatureError } from '../../providers/liangxin/index.js';
import type { TaskRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import { GatewayError, refusal } from '../errors.js';
import type { RequestLocals } from '../http/types.js';
import { PROVIDER_CALLBACK_EVENT } from '../tasks/poll-priority.js';
import type { Upstream } from '../upstreams.js';
import { applyRecord } from '../tasks/records.js';

export const CALLBACK_PATH = '/callbacks/liangxin';

export function newCallbackToken(): { token: string; hash: string } {
  const token = randomBytes(24).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function callbackUrlFor(publicUrl: string, gatewayTaskId: string, token: string): string {
  return `${publicUrl}${CALLBACK_PATH}/${gatewayTaskId}/${token}`;
}

/** What a callback URL names: the task (by the gateway's id) and its token. */
export interface CallbackTarget {
  /** Absent in URLs given before tasks were recorded first (`/callbacks/liangxin/{token}`). */
  gatewayTaskId?: string;
  token: string;
}

/** The part of the path after `/callbacks/liangxin/`; undefined when it names no callback. */
export function parseCallbackPath(rest: string): CallbackTarget | undefined {
  let parts: string[];
  try {
    parts = rest.split('/').map(decodeURIComponent);
  } catch {
    return undefined; // not percent-encoded properly: no such callback
  }
  if (parts.some((part) => part === '')) return undefined;
  if (parts.length === 1) return { token: parts[0]! };
  if (parts.length === 2) return { gatewayTaskId: parts[0]!, token: parts[1]! };
  return undefined;
}

export interface InboundCallback {
  target: CallbackTarget;
  payload: unknown;
  headers: IncomingHttpHeaders;
  /** Where the task's ids go for the request log. */
  locals: RequestLocals;
  requestId?: string;
}

/** The token's hash against the stored one, in constant time. */
function tokenMatches(token: string, storedHash: string | null): boolean {
  if (storedHash === null) return false;
  const given = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

function taskIdOf(payload: unknown): string | undefined {
  const taskId = (payload as { data?: { taskId?: unknown } } | null)?.data?.taskId;
  return typeof taskId === 'string' && taskId !== '' ? taskId : undefined;
}

/** Accepts (or refuses, with a GatewayError) one callback of the provider. */
export function createCallbackReceiver(ctx: GatewayContext) {
  // Unknown task, no task named, a token not the task's, a task not the one named: one answer.
  const unknown = (requestId: string | undefined) => {
    ctx.logger.warn({ reqId: requestId }, 'callback refused: unknown task or token');
    return refusal('callback_unknown', 'Unknown callback');
  };

  async function find(target: CallbackTarget, payload: unknown): Promise<TaskRow | undefined> {
    if (target.gatewayTaskId !== undefined) return ctx.store.getTaskByGatewayId(target.gatewayTaskId);
    const named = taskIdOf(payload);
    return named === undefined ? undefined : ctx.store.getTask(named);
  }

  /**
   * A task still `sending`: the provider has it (it calls back), the gateway has not recorded
   * its answer (still on its way, or lost with a gateway that died). It takes the provider's id.
   */
  async function confirm(row: TaskRow, providerTaskId: string): Promise<TaskRow | undefined> {
    const confirmation = {
      providerTaskId,
      upstreamKeyId: row.upstreamKeyId,
      upstreamId: row.upstreamId,
      nextCheckAt: ctx.clock.now() + ctx.config.reconcile.afterMs,
    };
    if (await ctx.store.confirmTask(row.gatewayTaskId!, confirmation)) return { ...row, ...confirmation, state: 'waiting' };
    // The createTask answer confirmed it meanwhile (or it was given up): read what it is now.
    return ctx.store.getTaskByGatewayId(row.gatewayTaskId!);
  }

  function checkSignature(upstream: Upstream, row: TaskRow, payload: unknown, headers: IncomingHttpHeaders): void {
    const hmacKey = upstream.hmacKeyOf(row.upstreamKeyId);
    if (!hmacKey) return;
    try {
      upstream.provider.verifySignature(payload, headers, hmacKey, { toleranceSeconds: ctx.config.callbacks.toleranceSeconds, now: ctx.clock.now() });
    } catch (error) {
      const why = error instanceof CallbackSignatureError ? error.code : 'BAD_SIGNATURE';
      ctx.logger.warn({ taskId: row.taskId, why }, 'callback refused: signature');
      throw refusal('callback_signature', `Callback signature refused (${why})`);
    }
  }

  async function receive(callback: InboundCallback): Promise<void> {
    const row = await find(callback.target, callback.payload);
    if (!row || !tokenMatches(callback.target.token, row.callbackTokenHash)) throw unknown(callback.requestId);
    // In the task's trace (ops/tracing.ts): a child of its createTask span, linked to it.
    const span = ctx.tracing.start('provider callback', {
      kind: 'server',
      parent: row.traceParent,
      linkParent: true,
      attributes: { 'lxg.tenant': row.tenantId, 'lxg.gateway_task_id': row.gatewayTaskId ?? '' },
    });
    try {
      await accept(row, callback);
      span.set({ 'lxg.task_id': callback.locals.taskId ?? row.taskId });
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  async function accept(found: TaskRow, { payload, headers, locals, requestId }: InboundCallback): Promise<void> {
    let row: TaskRow | undefined = found;
    locals.taskId = row.taskId;
    locals.upstreamKeyId = row.upstreamKeyId;
    const upstream = ctx.upstreams.ofTask(row);
    // A task whose upstream left the config: nothing can check its signature, so nothing is believed.
    if (!upstream) throw unknown(requestId);
    locals.upstreamId = upstream.id;
    checkSignature(upstream, row, payload, headers);
    const read = upstream.provider.readCallback(payload);
    if (!read.ok) {
      ctx.logger.warn({ taskId: row.taskId, why: read.why }, 'callback refused: not a callback payload');
      throw refusal('callback_invalid', 'Not a callback of this task');
    }
    const { record } = read;
    if (row.state === 'sending') row = await confirm(row, record.taskId);
    // The callback must name its own task (once the gateway knows the provider's id for it).
    if (!row || row.providerTaskId !== record.taskId) throw unknown(requestId);
    locals.taskId = row.taskId;
    await applyRecord(ctx, row, record);
    ctx.events.emit(PROVIDER_CALLBACK_EVENT, row, record);
  }

  return async function receiveCounted(callback: InboundCallback): Promise<void> {
    try {
      await receive(callback);
      ctx.metrics.providerCallbacks.inc({ outcome: 'accepted' });
    } catch (error) {
      ctx.metrics.providerCallbacks.inc({ outcome: error instanceof GatewayError ? error.reason : 'error' });
      throw error;
    }
  };
}
