// Readiness and metrics that tell the truth (issue 19, item 3): /readyz probes the provider, so
// with the provider unreachable it says not ready before any tenant's createTask fails; the
// gateway's own response time per route is a histogram; tenants never see internal error text.
import { afterEach, describe, expect, it } from 'vitest';
import type { QuotaBackend } from '../../src/quota/types.js';
import { ACME_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { json, startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { pollUntil } from '../helpers/wait.js';

let stack: Stack | undefined;
let provider: ScriptedServer | undefined;
afterEach(async () => {
  await stack?.close();
  await provider?.close();
  stack = undefined;
  provider = undefined;
});

/** A provider that answers every recordInfo "not found", as LiangXin does for an unknown task. */
const notFound = () => startScriptedServer((_req, res) => json(res, 200, { code: 422, msg: 'recordInfo is null', data: null }));

describe('/readyz probes the provider', () => {
  it('says ready while the provider answers, and not ready (why named) once it is unreachable', async () => {
    provider = await notFound();
    stack = await startStack({
      upstreamUrl: provider.url,
      config: () => ({ upstream: { baseUrl: provider!.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a' }], probeIntervalMs: 1 } }),
    });
    const ready = await raw(`${stack.url}/readyz`);
    expect(ready).toMatchObject({ status: 200, body: { ready: true, checks: { upstream: 'ok', upstreamKeys: 'ok' } } });
    // The probe is a recordInfo of a task no one has, with a key of the pool: nothing is paid for.
    expect(provider.requests[0]).toMatchObject({ method: 'GET', url: expect.stringContaining('/api/v1/jobs/recordInfo?taskId=lxg-readiness-probe') });
    expect(provider.requests.some((r) => r.url.includes('createTask'))).toBe(false);

    await provider.close();
    const down = await pollUntil('readiness to see the provider gone', async () => {
      const answer = await raw(`${stack!.url}/readyz`);
      return answer.status === 503 ? answer : undefined;
    });
    expect(down.body.checks.upstream).toMatch(/^provider unreachable/);
    // Key states alone still look fine: the probe is what tells.
    expect(down.body.checks.upstreamKeys).toBe('ok');
    expect(JSON.stringify(down.body)).not.toContain('sk-up-a');
    provider = undefined;
  });

  it('reports a key the provider refuses (401) to the key pool', async () => {
    provider = await startScriptedServer((_req, res) => json(res, 200, { code: 401, msg: 'x', data: null }));
    stack = await startStack({
      upstreamUrl: provider.url,
      config: () => ({ upstream: { baseUrl: provider!.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a' }], probeIntervalMs: 1 } }),
    });
    const refused = await raw(`${stack.url}/readyz`);
    expect(refused.status).toBe(503);
    expect(refused.body.checks.upstream).toBe('provider refused key key-a (401)');
    expect((await stack.admin('GET', '/upstream-keys')).body.data[0]).toMatchObject({ id: 'key-a', state: 'disabled' });
  });
});

describe('response time per route', () => {
  it("observes the gateway's own answer time, by declared route, for the API, admin and ops", async () => {
    stack = await startStack();
    await stack.client().createTask({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } });
    await raw(`${stack.url}/api/v1/jobs/recordInfo?taskId=nope`, { key: ACME_KEY });
    await stack.admin('GET', '/tenants/acme');
    await raw(`${stack.url}/no/such/path`);
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    for (const route of ['/api/v1/jobs/createTask', '/api/v1/jobs/recordInfo', '/admin/v1/tenants/:tenantId', 'unmatched']) {
      expect(metrics).toMatch(new RegExp(`lxg_response_duration_seconds_count\\{route="${route.replace(/[/:]/g, (c) => `\\${c}`)}"\\} [1-9]`));
    }
    // Bounded labels: no task id, no tenant id in the route.
    expect(metrics).not.toMatch(/lxg_response_duration_seconds_count\{route="[^"]*nope/);
  });
});

describe('internal error text never reaches a tenant', () => {
  it('answers an ioredis failure inside admission with the catalogue refusal, and logs the detail', async () => {
    const ioredis = "Stream isn't writeable and enableOfflineQueue options is false";
    stack = await startStack();
    const quota = stack.gateway.context.quota as QuotaBackend;
    quota.admit = async () => {
      throw new Error(ioredis);
    };
    const answer = await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } } });
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({ code: 500, msg: 'Internal error', data: null });
    expect(answer.text).not.toContain('enableOfflineQueue');
    expect(stack.rawLogs.some((line) => line.includes('enableOfflineQueue'))).toBe(true);
  });
});
