// Verifies a callback from liangxin-gateway: Standard Webhooks (standardwebhooks.com) signing,
//   webhook-signature = "v1," + base64(HMAC-SHA256(base64decode(secret), `${id}.${timestamp}.${body}`))
// over the raw body, so verify before parsing. `webhook-id` is the same on every retry of a
// delivery: keep the ids you have processed to drop repeats. Written with node:crypto alone so
// the client stays free of dependencies.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { LiangxinWebhookError } from './errors.js';
import type { CallbackPayload } from './types.js';
import { readHeader, type HeaderBag } from './webhook.js';

export interface VerifyGatewayWebhookInput {
  /** The raw request body, exactly as received. */
  body: string | Uint8Array;
  headers: HeaderBag;
  /** The tenant's webhook secret (`whsec_…`, or its base64 part). */
  secret: string;
  /** How far webhook-timestamp may be from now, either way; default 300 s. */
  toleranceSeconds?: number;
  /** Unix ms; for tests. */
  now?: number;
}

export interface GatewayWebhook {
  /** The delivery's id: the same on every retry. */
  id: string;
  timestamp: number;
  payload: CallbackPayload;
}

export function verifyGatewayWebhook(input: VerifyGatewayWebhookInput): GatewayWebhook {
  const id = readHeader(input.headers, 'webhook-id');
  const timestamp = readHeader(input.headers, 'webhook-timestamp');
  const signatures = readHeader(input.headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new LiangxinWebhookError('MISSING_SIGNATURE', 'webhook-id, webhook-timestamp or webhook-signature is missing');
  if (!/^\d{1,12}$/.test(timestamp)) throw new LiangxinWebhookError('BAD_TIMESTAMP', 'webhook-timestamp is not Unix seconds');
  const tolerance = input.toleranceSeconds ?? 300;
  const skew = Math.abs((input.now ?? Date.now()) / 1000 - Number(timestamp));
  if (skew > tolerance) throw new LiangxinWebhookError('STALE_TIMESTAMP', `timestamp is ${Math.round(skew)} s away from now (limit ${tolerance} s)`);

  const raw = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : Buffer.from(input.body);
  const key = Buffer.from(input.secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(raw).digest();
  // Several signatures may be sent (during a secret rotation): any v1 that matches will do.
  const matches = signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new LiangxinWebhookError('BAD_SIGNATURE', 'signature does not match');

  try {
    return { id, timestamp: Number(timestamp), payload: JSON.parse(raw.toString('utf8')) as CallbackPayload };
  } catch {
    throw new LiangxinWebhookError('BAD_BODY', 'body is not JSON');
  }
}
