// Who may read /readyz and /metrics (issue 13, item 11): they name tenants, provider keys and
// what is failing. Open only when the gateway listens on loopback; otherwise behind a token
// (ops.token), on a listener of their own (ops.listen), or both. /healthz stays open everywhere.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type ConfigInput } from '../../src/config/index.js';
import { listenGateway, type RunningGateway } from '../../src/gateway/server.js';
import { ACME_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';

const OPS_TOKEN = 'test-ops-token-0123456789';
let stack: Stack | undefined;
let opsListener: RunningGateway | undefined;
afterEach(async () => {
  await opsListener?.close();
  await stack?.close();
  stack = opsListener = undefined;
});

async function get(url: string, token?: string) {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, text: await response.text() };
}

describe('the config', () => {
  const base = (extra: Partial<ConfigInput>): ConfigInput => ({ upstream: { baseUrl: 'http://127.0.0.1:1', keys: [{ id: 'a', apiKey: 'k' }] }, ...extra });
  const problem = (raw: ConfigInput) => {
    try {
      parseConfig(raw);
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
    return undefined;
  };

  it.each(['127.0.0.1', '127.3.4.5', 'localhost', '::1', '[::1]'])('leaves ops endpoints open on a loopback listener (%s)', (host) => {
    expect(problem(base({ listen: { host, port: 8080 } }))).toBeUndefined();
  });

  it.each(['0.0.0.0', '::', '10.0.0.5', 'gateway.internal'])('refuses to expose them on %s without ops.token or ops.listen', (host) => {
    expect(problem(base({ listen: { host, port: 8080 } }))).toBe(
      `config: ops: listen.host ${host} is reachable from other machines, and /readyz and /metrics name tenants and keys: set ops.token, or ops.listen (a listener of their own)`,
    );
  });

  it('accepts either protection', () => {
    expect(problem(base({ listen: { host: '0.0.0.0', port: 8080 }, ops: { token: OPS_TOKEN } }))).toBeUndefined();
    expect(problem(base({ listen: { host: '0.0.0.0', port: 8080 }, ops: { listen: { host: '0.0.0.0', port: 9090 } } }))).toBeUndefined();
    expect(problem(base({ ops: { token: 'short' } }))).toBe('config: ops.token: must be at least 16 characters');
    expect(problem(base({ ops: { listen: { host: '127.0.0.1' } } as never }))).toMatch(/^config: ops\.listen\.port: /);
  });
});

describe('ops.token', () => {
  it('is required on /readyz and /metrics, not on /healthz', async () => {
    stack = await startStack({ config: () => ({ ops: { token: OPS_TOKEN } }) });
    for (const path of ['/readyz', '/metrics']) {
      for (const token of [undefined, 'wrong-token-0123456789', ACME_KEY]) {
        const refused = await raw(`${stack.url}${path}`, { key: token });
        expect(refused.status, `${path} with ${token}`).toBe(401);
        expect(refused.body).toEqual({ code: 401, msg: 'Ops token required: Authorization: Bearer <ops.token>', data: null });
      }
      expect((await get(`${stack.url}${path}`, OPS_TOKEN)).status).toBe(200);
    }
    expect(await get(`${stack.url}/healthz`)).toEqual({ status: 200, text: '{"status":"ok"}' });
    expect((await get(`${stack.url}/metrics`, OPS_TOKEN)).text).toContain('lxg_refusals_total{reason="ops_auth"} 6');
  });
});

describe('ops.listen', () => {
  async function startWithOpsListener(ops: ConfigInput['ops']) {
    stack = await startStack({ config: () => ({ ops }) });
    opsListener = await listenGateway(stack.gateway.ops, { host: '127.0.0.1', port: 0 });
    return { api: stack.url, ops: opsListener.url };
  }

  it('moves /readyz and /metrics off the tenant listener; /healthz answers on both', async () => {
    const { api, ops } = await startWithOpsListener({ listen: { host: '127.0.0.1', port: 0 } });
    for (const path of ['/readyz', '/metrics']) {
      const hidden = await raw(`${api}${path}`);
      expect(hidden.status).toBe(404);
      expect(hidden.body.msg).toBe(`No route GET ${path}`);
      expect((await get(`${ops}${path}`)).status).toBe(200);
    }
    expect((await get(`${api}/healthz`)).status).toBe(200);
    expect((await get(`${ops}/healthz`)).status).toBe(200);
  });

  it('serves nothing else: no tenant API, no admin API', async () => {
    const { ops } = await startWithOpsListener({ listen: { host: '127.0.0.1', port: 0 } });
    expect((await raw(`${ops}/api/v1/jobs/createTask`, { key: ACME_KEY, body: { model: 'z-image', input: { prompt: 'x' } } })).status).toBe(404);
    expect((await raw(`${ops}/admin/v1/tenants`)).status).toBe(404);
  });

  it('says "stopping" there too while the gateway drains', async () => {
    const { ops } = await startWithOpsListener({ listen: { host: '127.0.0.1', port: 0 } });
    stack!.gateway.beginShutdown();
    expect(await get(`${ops}/healthz`)).toEqual({ status: 503, text: '{"status":"stopping"}' });
  });

  it('with a token as well, wants it there', async () => {
    const { ops } = await startWithOpsListener({ listen: { host: '127.0.0.1', port: 0 }, token: OPS_TOKEN });
    expect((await get(`${ops}/metrics`)).status).toBe(401);
    expect((await get(`${ops}/metrics`, OPS_TOKEN)).status).toBe(200);
    expect((await get(`${ops}/healthz`)).status).toBe(200);
  });
});
