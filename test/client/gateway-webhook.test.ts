// verifyGatewayWebhook (node:crypto) against signatures made by the standardwebhooks package,
// the one the gateway signs with: two implementations of the spec must agree.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { LiangxinWebhookError, verifyGatewayWebhook } from '../../src/client/index.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const now = 1_765_166_400_000;
const body = JSON.stringify({ code: 200, msg: 'success', data: { taskId: 'task_1', state: 'success' } });

function headersFor(id: string, at: number, payload = body, key = secret) {
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at / 1000)), 'webhook-signature': new Webhook(key).sign(id, new Date(at), payload) };
}

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LiangxinWebhookError);
    return (error as LiangxinWebhookError).code;
  }
  return 'accepted';
};

describe('verifyGatewayWebhook', () => {
  it('accepts what the gateway signs, and returns the id to dedupe on', () => {
    const verified = verifyGatewayWebhook({ body, headers: headersFor('msg_1', now), secret, now });
    expect(verified).toMatchObject({ id: 'msg_1', payload: { data: { taskId: 'task_1' } } });
    expect(verifyGatewayWebhook({ body: Buffer.from(body), headers: new Headers(headersFor('msg_1', now)), secret, now }).id).toBe('msg_1');
  });

  it('accepts any matching v1 signature among several (secret rotation)', () => {
    const h = headersFor('msg_1', now);
    h['webhook-signature'] = `v1,AAAA ${h['webhook-signature']}`;
    expect(codeOf(() => verifyGatewayWebhook({ body, headers: h, secret, now }))).toBe('accepted');
  });

  it.each([
    [
      'another secret',
      () => verifyGatewayWebhook({ body, headers: headersFor('msg_1', now, body, 'whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA=='), secret, now }),
      'BAD_SIGNATURE',
    ],
    ['a changed body', () => verifyGatewayWebhook({ body: body.replace('success', 'fail'), headers: headersFor('msg_1', now), secret, now }), 'BAD_SIGNATURE'],
    ['a changed id', () => verifyGatewayWebhook({ body, headers: { ...headersFor('msg_1', now), 'webhook-id': 'msg_2' }, secret, now }), 'BAD_SIGNATURE'],
    ['an old timestamp', () => verifyGatewayWebhook({ body, headers: headersFor('msg_1', now - 600_000), secret, now }), 'STALE_TIMESTAMP'],
    ['no signature', () => verifyGatewayWebhook({ body, headers: { 'webhook-id': 'msg_1' }, secret, now }), 'MISSING_SIGNATURE'],
  ])('refuses %s', (_name, call, code) => {
    expect(codeOf(call)).toBe(code);
  });

  it('agrees with the standardwebhooks verifier', () => {
    const h = headersFor('msg_9', Date.now());
    expect(() => new Webhook(secret).verify(body, h)).not.toThrow();
    expect(verifyGatewayWebhook({ body, headers: h, secret }).id).toBe('msg_9');
  });
});
