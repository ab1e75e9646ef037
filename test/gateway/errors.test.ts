// The refusal catalogue (src/gateway/errors.ts): every refusal names a reason of it, which gives
// its body code and HTTP status; the envelope of an invalid field is built in one place.
import { describe, expect, it } from 'vitest';
import { GatewayError, invalidField, invalidRequest, REFUSALS, refusal, relayed } from '../../src/gateway/errors.js';

describe('the refusal catalogue', () => {
  it('gives every reason a 4xx/5xx body code and an HTTP status for provider mode', () => {
    for (const [reason, entry] of Object.entries(REFUSALS)) {
      expect(entry.code, reason).toBeGreaterThanOrEqual(400);
      expect(entry.code, reason).toBeLessThan(600);
      expect([200, entry.code], reason).toContain(entry.provider);
    }
  });

  it("answers a catalogued refusal with the catalogue's code in both modes", () => {
    const error = refusal('not_found', 'No tenant acme');
    expect(error).toBeInstanceOf(GatewayError);
    expect({ code: error.code, provider: error.httpStatus('provider'), body: error.httpStatus('body') }).toEqual({ code: 404, provider: 404, body: 404 });
    const unknown = refusal('unknown_task', 'recordInfo is null');
    expect({ code: unknown.code, provider: unknown.httpStatus('provider'), body: unknown.httpStatus('body') }).toEqual({ code: 422, provider: 200, body: 422 });
  });

  it("relays a provider's refusal with its own code and HTTP status", () => {
    const error = relayed({ code: 433, msg: 'Sensitive content', httpStatus: 200 }, { attempts: [] });
    expect({ reason: error.reason, code: error.code, provider: error.httpStatus('provider'), body: error.httpStatus('body'), data: error.data }).toEqual({
      reason: 'upstream_refused',
      code: 433,
      provider: 200,
      body: 433,
      data: { attempts: [] },
    });
  });

  it('builds the invalid-field envelope once: 400 on the tenant API, 422 on the admin API', () => {
    const field = { path: 'callBackUrl', message: 'must be https', keyword: 'callback' };
    const tenant = invalidField(field);
    expect({ code: tenant.code, msg: tenant.msg, data: tenant.data }).toEqual({
      code: 400,
      msg: 'Invalid request: callBackUrl must be https',
      data: { errors: [field], errorCount: 1 },
    });
    const admin = invalidField({ path: 'groupBy', message: 'must be one of model, day', keyword: 'format' }, 'admin_validation');
    expect({ code: admin.code, reason: admin.reason }).toEqual({ code: 422, reason: 'admin_validation' });
    expect(invalidRequest({ ok: false, errors: [field], errorCount: 1 }).data).toEqual(tenant.data);
  });
});
