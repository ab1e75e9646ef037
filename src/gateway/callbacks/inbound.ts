// POST /callbacks/liangxin/:token — the provider telling the gateway a task ended. The URL the
// gateway gave the provider carries an unguessable per-task token (only its hash is stored, with
// the task); the callback names its task (data.taskId), and the token must be that task's
// (compared in constant time). When the task's provider key has a webhookHmacKey, the signature
// must verify too (timestamp window, constant time). Accepted callbacks go through the same path as a poll (records.ts):
// idempotent for duplicates, and an older record never replaces a newer one.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { LiangxinWebhookError } from '../../client/errors.js';
import { verifyWebhook } from '../../client/webhook.js';
import type { CallbackPayload } from '../../client/types.js';
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

export function callbackUrlFor(publicUrl: string, token: string): string {
  return `${publicUrl}${CALLBACK_PATH}/${token}`;
}

function refused(code: number, msg: string, reason: string): GatewayError {
  return new GatewayError({ code, msg, reason });
}

export interface InboundCallback {
  /** The token from the URL path. */
  token: string;
  payload: unknown;
  headers: IncomingHttpHeaders;
  /** Where the task's ids go for the request log. */
  locals: RequestLocals;
  requestId?: string;
}

/**
 * Waits before a task is called unknown. A task that ends at once can be called back before the
 * gateway has stored it (the provider's answer to createTask is still on its way, or another
 * instance is still writing it), and the provider does not resend: refusing at once would leave
 * the task to reconciliation and its quota slot held until then. Only a task not found waits
 * (a wrong token does not), for about two seconds in all.
 */
export const UNKNOWN_TASK_WAITS_MS = [10, 40, 150, 500, 1_300];

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
export function createCallbackReceiver(ctx: GatewayContext, waitsMs: readonly number[] = UNKNOWN_TASK_WAITS_MS) {
  const hmacKeys = new Map(ctx.config.upstream.keys.map((k) => [k.id, k.webhookHmacKey]));

  async function findTask(taskId: string) {
    let row = await ctx.store.getTask(taskId);
    for (const ms of waitsMs) {
      if (row) break;
      await sleep(ms);
      row = await ctx.store.getTask(taskId);
    }
    return row;
  }

  return async function receive({ token, payload, headers, locals, requestId }: InboundCallback): Promise<void> {
    // Unknown task, no task named, or not this task's token: one answer, saying nothing more.
    const taskId = taskIdOf(payload);
    const row = taskId === undefined ? undefined : await findTask(taskId);
    if (!row || !tokenMatches(token, row.callbackTokenHash)) {
      ctx.logger.warn({ reqId: requestId }, 'callback refused: unknown task or token');
      throw refused(404, 'Unknown callback', 'callback_unknown');
    }
    locals.taskId = row.taskId;
    locals.upstreamKeyId = row.upstreamKeyId;
    const hmacKey = hmacKeys.get(row.upstreamKeyId);
    if (hmacKey) {
      try {
        verifyWebhook({ body: payload as CallbackPayload, headers, hmacKey, toleranceSeconds: ctx.config.callbacks.toleranceSeconds, now: ctx.clock.now() });
      } catch (error) {
        const why = error instanceof LiangxinWebhookError ? error.code : 'BAD_SIGNATURE';
        ctx.logger.warn({ taskId: row.taskId, why }, 'callback refused: signature');
        throw refused(401, `Callback signature refused (${why})`, 'callback_signature');
      }
    }
    const checked = ctx.validator.validateSchema<CallbackPayload>('CallbackPayload', payload);
    if (!checked.ok) {
      ctx.logger.warn({ taskId: row.taskId }, 'callback refused: not a callback payload');
      throw refused(400, 'Not a callback of this task', 'callback_invalid');
    }
    await applyRecord(ctx, row, checked.value.data);
  };
}
