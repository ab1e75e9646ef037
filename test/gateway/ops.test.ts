// Operations: health, readiness, metrics, log redaction, graceful shutdown.
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTaskRequest } from '../../src/client/index.js';
import { ACME_KEY, ADMIN_TOKEN, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { pollUntil } from '../helpers/wait.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };

describe('health and readiness', () => {
  it('is alive and ready with a store and a usable key', async () => {
    stack = await startStack();
    expect(await raw(`${stack.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await raw(`${stack.url}/readyz`)).toMatchObject({ status: 200, body: { ready: true, checks: { store: 'ok', upstreamKeys: 'ok' } } });
  });

  it('is not ready when the store is unreachable', async () => {
    stack = await startStack();
    await stack.store.close();
    const ready = await raw(`${stack.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body.checks.store).toMatch(/^unreachable/);
    stack.store.close = async () => undefined; // already closed
  });
});

describe('metrics', () => {
  it('counts requests by route, code and tenant, refusals by reason, and upstream latency', async () => {
    stack = await startStack();
    await stack.client().createTask(zImage);
    await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: { model: 'nope', input: {} } });
    await raw(`${stack.url}/api/v1/jobs/createTask`, { body: zImage });
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    expect(text).toContain('lxg_requests_total{route="/api/v1/jobs/createTask",code="200",tenant="acme"} 1');
    expect(text).toContain('lxg_requests_total{route="/api/v1/jobs/createTask",code="400",tenant="acme"} 1');
    expect(text).toContain('lxg_refusals_total{reason="validation"} 1');
    expect(text).toContain('lxg_refusals_total{reason="auth"} 1');
    expect(text).toMatch(/lxg_upstream_duration_seconds_count\{upstream="default",operation="createTask",outcome="200"\} 1/);
  });
});

describe('logs', () => {
  it('carry request id, tenant, taskId and upstream key id, and never a secret', async () => {
    stack = await startStack();
    const { taskId } = await stack.client().createTask(zImage);
    await stack.client().waitForTask(taskId, { initialDelayMs: 30 });
    await raw(`${stack.url}/api/v1/jobs/createTask`, { key: 'lxg_wrong_key_but_secret_0000', body: zImage });
    await stack.admin('GET', '/upstream-keys');
    await stack.admin('POST', '/tenants/acme/keys', {});

    const created = stack.logs.find(
      (l) => (l.req as { url?: string })?.url === '/api/v1/jobs/createTask' && (l.res as { statusCode?: number })?.statusCode === 200,
    );
    expect(created).toMatchObject({ tenantId: 'acme', taskId, upstreamKeyId: 'key-a', req: { id: expect.any(String), method: 'POST' } });
    const all = stack.rawLogs.join('\n');
    for (const secret of [ACME_KEY, ADMIN_TOKEN, 'sk-up-a', 'lxg_wrong_key_but_secret_0000']) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/lxg_[A-Za-z0-9_-]{30,}/); // no issued secret either
  });

  it('logs a request the caller abandoned, and not the health checks', async () => {
    stack = await startStack({ simulator: { accounts: [{ apiKey: 'sk-up-a', quirks: ['slow=2000'] }] } });
    const s = stack;
    const controller = new AbortController();
    const abandoned = fetch(`${stack.url}/api/v1/jobs/createTask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ACME_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(zImage),
      signal: controller.signal,
    }).catch(() => undefined);
    // Abandoned while the gateway waits for the provider (the request has reached it: the
    // provider has it), whatever the machine's speed; then the line is waited for, not timed.
    await pollUntil('the createTask at the provider', () => s.sim.counters().createTask === 1);
    controller.abort();
    await abandoned;
    await fetch(`${stack.url}/healthz`);
    await pollUntil('the aborted request logged', () => s.logs.some((l) => l.msg === 'request aborted'));
    await pollUntil('the provider done with it', () => s.sim.tasks().length === 1);
    expect(stack.logs.find((l) => l.msg === 'request aborted')).toMatchObject({
      level: 40,
      tenantId: 'acme',
      req: { method: 'POST', url: '/api/v1/jobs/createTask' },
    });
    expect(stack.logs.some((l) => (l.req as { url?: string } | undefined)?.url === '/healthz')).toBe(false);
  });

  it('logs an admin request by its whole path, /admin/v1 included', async () => {
    stack = await startStack();
    await stack.admin('GET', '/upstream-keys');
    await stack.admin('GET', '/tenants/nobody');
    // The line is written when the response closes, which may be just after fetch resolves.
    const urls = () =>
      stack!.logs.map((l) => (l.req as { url?: string } | undefined)?.url).filter((u) => u?.includes('upstream-keys') || u?.includes('nobody'));
    const deadline = Date.now() + 30_000;
    while (urls().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(urls()).toEqual(['/admin/v1/upstream-keys', '/admin/v1/tenants/nobody']);
  });

  it('passes on a sane X-Request-Id and makes one up otherwise', async () => {
    stack = await startStack();
    const given = await fetch(`${stack.url}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const odd = await fetch(`${stack.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    const other = await fetch(`${stack.url}/healthz`);
    expect(other.headers.get('x-request-id')).not.toBe(odd.headers.get('x-request-id'));
  });
});

describe('graceful shutdown', () => {
  it('finishes requests in flight, reports stopping, and refuses new work', async () => {
    stack = await startStack({ simulator: { accounts: [{ apiKey: 'sk-up-a', quirks: ['slow=400'] }] } });
    const s = stack;
    const inflight = raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: zImage });
    // In flight once the provider has it; the grace is a ceiling (close ends when the request does).
    await pollUntil('the createTask at the provider', () => s.sim.counters().createTask === 1);
    const closing = stack.server.close({ graceMs: 120_000 });
    const answer = await inflight;
    expect(answer.status).toBe(200);
    await closing;
    await expect(fetch(`${stack.url}/healthz`)).rejects.toThrow();
    expect(stack.sim.tasks()).toHaveLength(1);
  });
});
