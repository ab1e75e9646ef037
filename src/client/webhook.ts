// Verifies the provider's callback signature:
//   X-Webhook-Signature = base64(HMAC-SHA256(hmacKey, `${taskId}.${X-Webhook-Timestamp}`))
// The signature covers only the task id and the time, not the body, so the taskId it is checked
// against is the one in the body: a body moved to another task fails.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { LiangxinWebhookError } from './errors.js';
import type { CallbackPayload } from './types.js';

export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookInput {
  /** The raw request body (string or Buffer) or the already parsed JSON. */
  body: string | Uint8Array | CallbackPayload;
  headers: HeaderBag;
  /** The account's webhook HMAC key. */
  hmacKey: string;
  /** How far the timestamp may be from now, either way; default 300 s. */
  toleranceSeconds?: number;
  /** Unix ms; for tests. */
  now?: number;
}

/** One header of a Headers object or a Node header bag, case-insensitively; the first if repeated. */
export function readHeader(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value;
}

function parseBody(body: VerifyWebhookInput['body']): CallbackPayload {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    try {
      return JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')) as CallbackPayload;
    } catch {
      throw new LiangxinWebhookError('BAD_BODY', 'body is not JSON');
    }
  }
  return body;
}

/** The signature the provider sends for this task and timestamp. */
export function signWebhook(taskId: string, timestamp: string | number, hmacKey: string): string {
  return createHmac('sha256', hmacKey).update(`${taskId}.${timestamp}`).digest('base64');
}

/** Returns the parsed callback when it is authentic and fresh; throws LiangxinWebhookError otherwise. */
export function verifyWebhook(input: VerifyWebhookInput): CallbackPayload {
  const payload = parseBody(input.body);
  const taskId = payload?.data?.taskId;
  if (typeof taskId !== 'string' || taskId === '') throw new LiangxinWebhookError('BAD_BODY', 'body has no data.taskId');

  const timestamp = readHeader(input.headers, 'x-webhook-timestamp');
  const signature = readHeader(input.headers, 'x-webhook-signature');
  if (!timestamp || !signature) {
    throw new LiangxinWebhookError('MISSING_SIGNATURE', 'X-Webhook-Timestamp or X-Webhook-Signature is missing');
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw new LiangxinWebhookError('BAD_TIMESTAMP', 'X-Webhook-Timestamp is not Unix seconds');

  const tolerance = input.toleranceSeconds ?? 300;
  const skew = Math.abs((input.now ?? Date.now()) / 1000 - Number(timestamp));
  if (skew > tolerance) {
    throw new LiangxinWebhookError('STALE_TIMESTAMP', `timestamp is ${Math.round(skew)} s away from now (limit ${tolerance} s)`);
  }

  const expected = Buffer.from(signWebhook(taskId, timestamp, input.hmacKey), 'base64');
  const given = Buffer.from(signature, 'base64');
  // timingSafeEqual needs equal lengths; a length mismatch is itself a mismatch.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new LiangxinWebhookError('BAD_SIGNATURE', 'signature does not match');
  }
  return payload;
}
