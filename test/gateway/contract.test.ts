// The gateway's real answers conform to its own contract (openapi/gateway.yaml): Prism proxies
// every request to the running gateway and, with `errors` on, replaces any answer that breaks
// the contract with a 500 naming the violation. Refusals included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrism, type RunningPrism } from '../../mock/prism.js';
import { gatewaySpecPath } from '../../src/spec/files.js';
import { ACME_KEY, ACME_WEBHOOK_SECRET, ADMIN_TOKEN, GLOBEX_KEY, startStack, type Stack } from '../helpers/gateway-stack.js';

let stack: Stack;
let proxy: RunningPrism;

beforeAll(async () => {
  stack = await startStack({
    simulator: { accounts: [{ apiKey: 'sk-up-a' }] },
    config: (simUrl) => ({
      upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 4 }] },
      tenants: [
        { id: 'acme', apiKeys: [ACME_KEY], webhookSecret: ACME_WEBHOOK_SECRET, quotas: { requestsPerMinute: 1000, budgetUsdPerMonth: 0.5 } },
        { id: 'globex', apiKeys: [GLOBEX_KEY], models: ['z-image'] },
      ],
    }),
  });
  proxy = await startPrism({ specPath: gatewaySpecPath, upstream: stack.url, errors: true });
});
afterAll(async () => {
  await proxy?.close();
  await stack?.close();
});

async function call(method: string, path: string, init: { key?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  const response = await fetch(`${proxy.url}${path}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await response.text();
  return { status: response.status, violations: response.headers.get('sl-violations'), text };
}

const zImage = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };

/** Prism's own refusal of a request (before the gateway) would hide what the gateway answers. */
function expectConforming(result: Awaited<ReturnType<typeof call>>, status: number) {
  expect(result.text).not.toContain('stoplight.io/prism/errors');
  expect(result.violations, result.violations ?? '').toBeNull();
  expect(result.status).toBe(status);
}

describe('the gateway answers as openapi/gateway.yaml says', () => {
  let taskId = '';

  it('createTask: accepted', async () => {
    const result = await call('POST', '/api/v1/jobs/createTask', { key: ACME_KEY, body: zImage });
    expectConforming(result, 200);
    taskId = JSON.parse(result.text).data.taskId;
  });

  it('recordInfo: a record (in progress and final)', async () => {
    await new Promise((r) => setTimeout(r, 20));
    expectConforming(await call('GET', `/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: ACME_KEY }), 200);
    await new Promise((r) => setTimeout(r, 300));
    expectConforming(await call('GET', `/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: ACME_KEY }), 200);
  });

  it.each([
    ['a wrong tenant key', () => call('POST', '/api/v1/jobs/createTask', { key: 'lxg_unknown_key_0123456789', body: zImage }), 401],
    ['a model not enabled', () => call('POST', '/api/v1/jobs/createTask', { key: GLOBEX_KEY, body: { model: 'kling-v3-pro', input: { prompt: 'x' } } }), 403],
    // provider mode (the default): "recordInfo is null" inside HTTP 200, as the public API answers it.
    ["another tenant's task", () => call('GET', `/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: GLOBEX_KEY }), 200],
    ['an unknown task', () => call('GET', '/api/v1/jobs/recordInfo?taskId=nope', { key: ACME_KEY }), 200],
  ])('refusal: %s', async (_name, send, status) => {
    expectConforming(await send(), status);
  });

  it('refusal: every key at its pace (429 with Retry-After)', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => call('POST', '/api/v1/jobs/createTask', { key: ACME_KEY, body: zImage })));
    const paced = results.filter((r) => r.status === 429);
    expect(paced.length).toBeGreaterThan(0);
    for (const result of paced) expectConforming(result, 429);
  });

  it('refusal: over the monthly budget (402)', async () => {
    expectConforming(
      await call('POST', '/api/v1/jobs/createTask', { key: ACME_KEY, body: { model: 'kling-v3-pro', input: { prompt: 'x', duration: 15 } } }),
      402,
    );
  });

  it('refusal: a callBackUrl that resolves to a private address (400)', async () => {
    expectConforming(await call('POST', '/api/v1/jobs/createTask', { key: ACME_KEY, body: { ...zImage, callBackUrl: 'https://10.1.2.3/hook' } }), 400);
  });

  it('the provider callback endpoint: unknown token', async () => {
    const record = {
      taskId: 't',
      model: 'z-image',
      state: 'success',
      param: '',
      resultJson: '',
      failCode: null,
      failMsg: null,
      costTime: 1,
      completeTime: 1,
      createTime: 1,
    };
    expectConforming(await call('POST', '/callbacks/liangxin/unknown-token', { body: { code: 200, msg: 'ok', data: record } }), 404);
    expectConforming(await call('POST', '/callbacks/liangxin/gt_unknown/unknown-token', { body: { code: 200, msg: 'ok', data: record } }), 404);
  });

  it('operations', async () => {
    expectConforming(await call('GET', '/healthz'), 200);
    expectConforming(await call('GET', '/readyz'), 200);
    expectConforming(await call('GET', '/metrics'), 200);
  });

  it('admin API', async () => {
    expectConforming(await call('GET', '/admin/v1/tenants', { key: ADMIN_TOKEN }), 200);
    expectConforming(await call('POST', '/admin/v1/tenants', { key: ADMIN_TOKEN, body: { id: 'initech', models: ['z-image'] } }), 201);
    expectConforming(await call('PATCH', '/admin/v1/tenants/initech', { key: ADMIN_TOKEN, body: { disabled: true } }), 200);
    const issued = await call('POST', '/admin/v1/tenants/initech/keys', { key: ADMIN_TOKEN, body: { label: 'ci' } });
    expectConforming(issued, 201);
    expectConforming(await call('GET', '/admin/v1/tenants/initech/keys', { key: ADMIN_TOKEN }), 200);
    expectConforming(await call('DELETE', `/admin/v1/tenants/initech/keys/${JSON.parse(issued.text).data.id}`, { key: ADMIN_TOKEN }), 200);
    expectConforming(await call('GET', '/admin/v1/upstream-keys', { key: ADMIN_TOKEN }), 200);
    expectConforming(await call('PATCH', '/admin/v1/tenants/initech', { key: ADMIN_TOKEN, body: { quotas: { tasksPerDay: 5 } } }), 200);
    expectConforming(await call('GET', '/admin/v1/usage?groupBy=day', { key: ADMIN_TOKEN }), 200);
    expectConforming(await call('GET', '/admin/v1/deliveries?tenant=acme', { key: ADMIN_TOKEN }), 200);
    expectConforming(await call('POST', '/admin/v1/deliveries/msg_nope/redeliver', { key: ADMIN_TOKEN }), 404);
    expectConforming(await call('PATCH', '/admin/v1/tenants/nobody', { key: ADMIN_TOKEN, body: { disabled: true } }), 404);
    expectConforming(await call('GET', '/admin/v1/tenants', { key: ACME_KEY }), 401);
  });

  it('the operator endpoints of issue 19', async () => {
    expectConforming(await call('GET', '/api/v1/jobs/list?limit=2', { key: ACME_KEY }), 200);
    expectConforming(await call('GET', '/admin/v1/tasks?tenant=acme&limit=5', { key: ADMIN_TOKEN }), 200);
    expectConforming(await call('GET', '/admin/v1/tenants/acme', { key: ADMIN_TOKEN }), 200);
    expectConforming(await call('POST', '/admin/v1/tenants', { key: ADMIN_TOKEN, body: { id: 'hooli' } }), 201);
    expectConforming(await call('POST', '/admin/v1/tenants/hooli/webhook-secret', { key: ADMIN_TOKEN, body: { overlapSeconds: 60 } }), 200);
    const issued = await call('POST', '/admin/v1/tenants/hooli/keys', { key: ADMIN_TOKEN, body: { expiresAt: 4_102_444_800_000 } });
    expectConforming(issued, 201);
    expectConforming(
      await call('PATCH', `/admin/v1/tenants/hooli/keys/${JSON.parse(issued.text).data.id}`, { key: ADMIN_TOKEN, body: { label: 'x', expiresAt: null } }),
      200,
    );
    expectConforming(await call('DELETE', '/admin/v1/tenants/hooli', { key: ADMIN_TOKEN }), 200);
    expectConforming(await call('DELETE', '/admin/v1/tenants/acme', { key: ADMIN_TOKEN }), 409);
    expectConforming(await call('POST', '/admin/v1/upstream-keys', { key: ADMIN_TOKEN, body: { id: 'key-z', apiKey: 'sk-up-z' } }), 201);
    expectConforming(await call('PATCH', '/admin/v1/upstream-keys/key-z', { key: ADMIN_TOKEN, body: { disabled: true } }), 200);
    expectConforming(await call('DELETE', '/admin/v1/upstream-keys/key-z', { key: ADMIN_TOKEN }), 200);
    expectConforming(await call('DELETE', '/admin/v1/upstream-keys/key-a', { key: ADMIN_TOKEN }), 409);
    expectConforming(await call('POST', '/admin/v1/reload', { key: ADMIN_TOKEN }), 409);
  });
});
