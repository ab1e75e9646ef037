// POST /callbacks/liangxin/:gatewayTaskId/:token — the provider telling the gateway a task ended.
// The URL the gateway gave the provider names the task by the id the gateway minted when it
// recorded the task (before sending it), and carries an unguessable per-task token (only its
// hash is stored, with the task), compared in constant time. So the callback finds its task even
// when the gateway never learnt the provider's answer (killed, or the answer lost): it then gives
// the task its provider id. When the task's provider key has a webhookHmacKey, the signature must
// verify too (timestamp window, constant time). Accepted callbacks go through the same path as a
// poll (records.ts): idempotent for duplicates, and an older record never replaces a newer one.
//
// The task is always stored before the provider hears of it, so nothing waits for it to appear:
// an unknown task and a wrong token are refused alike, at once, with the same bytes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { LiangxinWebhookError } from '../../client/errors.js';
import { verifyWebhook } from '../../client/webhook.js';
import type { CallbackPayload } from '../../client/types.js';
import type { TaskRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import { GatewayError } from '../errors.js';
import type { RequestLocals } from '../respond.js';
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

function refused(code: number, msg: string, reason: string): GatewayError {
  return new GatewayError({ code, msg, reason });
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
  const hmacKeys = new Map(ctx.config.upstream.keys.map((k) => [k.id, k.webhookHmacKey]));
  // Unknown task, no task named, a token not the task's, a task not the one named: one answer.
  const unknown = (requestId: string | undefined) => {
    ctx.logger.warn({ reqId: requestId }, 'callback refused: unknown task or token');
    return refused(404, 'Unknown callback', 'callback_unknown');
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
    const confirmation = { providerTaskId, upstreamKeyId: row.upstreamKeyId, nextCheckAt: ctx.clock.now() + ctx.config.reconcile.afterMs };
    if (await ctx.store.confirmTask(row.gatewayTaskId!, confirmation)) return { ...row, ...confirmation, state: 'waiting' };
    // The createTask answer confirmed it meanwhile (or it was given up): read what it is now.
    return ctx.store.getTaskByGatewayId(row.gatewayTaskId!);
  }

  function checkSignature(row: TaskRow, payload: unknown, headers: IncomingHttpHeaders): void {
    const hmacKey = hmacKeys.get(row.upstreamKeyId);
    if (!hmacKey) return;
    try {
      verifyWebhook({ body: payload as CallbackPayload, headers, hmacKey, toleranceSeconds: ctx.config.callbacks.toleranceSeconds, now: ctx.clock.now() });
    } catch (error) {
      const why = error instanceof LiangxinWebhookError ? error.code : 'BAD_SIGNATURE';
      ctx.logger.warn({ taskId: row.taskId, why }, 'callback refused: signature');
      throw refused(401, `Callback signature refused (${why})`, 'callback_signature');
    }
  }

  return async function receive({ target, payload, headers, locals, requestId }: InboundCallback): Promise<void> {
    let row = await find(target, payload);
    if (!row || !tokenMatches(target.token, row.callbackTokenHash)) throw unknown(requestId);
    locals.taskId = row.taskId;
    locals.upstreamKeyId = row.upstreamKeyId;
    checkSignature(row, payload, headers);
    const checked = ctx.validator.validateSchema<CallbackPayload>('CallbackPayload', payload);
    if (!checked.ok) {
      ctx.logger.warn({ taskId: row.taskId }, 'callback refused: not a callback payload');
      throw refused(400, 'Not a callback of this task', 'callback_invalid');
    }
    const record = checked.value.data;
    if (row.state === 'sending') row = await confirm(row, record.taskId);
    // The callback must name its own task (once the gateway knows the provider's id for it).
    if (!row || row.providerTaskId !== record.taskId) throw unknown(requestId);
    locals.taskId = row.taskId;
    await applyRecord(ctx, row, record);
  };
}
