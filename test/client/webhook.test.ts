// verifyWebhook: the provider's HMAC over `taskId.timestamp`, computed here independently.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LiangxinWebhookError, verifyWebhook, type CallbackPayload } from '../../src/client/index.js';

const hmacKey = 'whk_test_secret';
const now = 1_765_166_334_000;
const timestamp = String(now / 1000);
const payload = {
  code: 200,
  msg: 'ok',
  data: {
    taskId: 'task_abc',
    model: 'z-image',
    state: 'success',
    param: '{}',
    resultJson: '{"resultUrls":[]}',
    failCode: null,
    failMsg: null,
    costTime: 3,
    completeTime: now,
    createTime: now - 3000,
  },
} satisfies CallbackPayload;
const body = JSON.stringify(payload);
const sign = (taskId: string, ts: string, key = hmacKey) => createHmac('sha256', key).update(`${taskId}.${ts}`).digest('base64');
const headers = (ts = timestamp, signature = sign('task_abc', ts)) => ({ 'X-Webhook-Timestamp': ts, 'X-Webhook-Signature': signature });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LiangxinWebhookError);
    return (error as LiangxinWebhookError).code;
  }
  return undefined;
}

describe('verifyWebhook', () => {
  it('accepts an authentic callback (raw string, Buffer, parsed body, Headers object)', () => {
    expect(verifyWebhook({ body, headers: headers(), hmacKey, now }).data.taskId).toBe('task_abc');
    expect(verifyWebhook({ body: Buffer.from(body), headers: headers(), hmacKey, now }).code).toBe(200);
    expect(verifyWebhook({ body: payload, headers: new Headers(headers()), hmacKey, now }).data.state).toBe('success');
    const lowercase = { 'x-webhook-timestamp': timestamp, 'x-webhook-signature': [sign('task_abc', timestamp)] };
    expect(verifyWebhook({ body, headers: lowercase, hmacKey, now }).data.taskId).toBe('task_abc');
  });

  it.each([
    ['no signature headers', () => verifyWebhook({ body, headers: {}, hmacKey, now }), 'MISSING_SIGNATURE'],
    ['a wrong key', () => verifyWebhook({ body, headers: headers(timestamp, sign('task_abc', timestamp, 'other')), hmacKey, now }), 'BAD_SIGNATURE'],
    ['a signature of another task', () => verifyWebhook({ body, headers: headers(timestamp, sign('task_xyz', timestamp)), hmacKey, now }), 'BAD_SIGNATURE'],
    [
      'a truncated signature',
      () => verifyWebhook({ body, headers: headers(timestamp, sign('task_abc', timestamp).slice(0, 10)), hmacKey, now }),
      'BAD_SIGNATURE',
    ],
    ['a timestamp 10 minutes old', () => verifyWebhook({ body, headers: headers(String(now / 1000 - 600)), hmacKey, now }), 'STALE_TIMESTAMP'],
    ['a timestamp 10 minutes ahead', () => verifyWebhook({ body, headers: headers(String(now / 1000 + 600)), hmacKey, now }), 'STALE_TIMESTAMP'],
    ['a timestamp in ms', () => verifyWebhook({ body, headers: headers(String(now) + '000'), hmacKey, now }), 'BAD_TIMESTAMP'],
    ['a body that is not JSON', () => verifyWebhook({ body: 'taskId=task_abc', headers: headers(), hmacKey, now }), 'BAD_BODY'],
    ['a body without taskId', () => verifyWebhook({ body: '{"code":200,"data":{}}', headers: headers(), hmacKey, now }), 'BAD_BODY'],
  ])('refuses %s', (_name, call, code) => {
    expect(codeOf(call)).toBe(code);
  });

  it('honours a custom tolerance', () => {
    const old = headers(String(now / 1000 - 600));
    expect(verifyWebhook({ body, headers: old, hmacKey, now, toleranceSeconds: 900 }).data.taskId).toBe('task_abc');
  });
});
