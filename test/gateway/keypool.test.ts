// The provider key pool: pacing under each key's allowance, health from body codes, recovery by
// timer, and the retry rule (another key only when no task can have been started).
import { afterEach, describe, expect, it } from 'vitest';
import type { LiangxinError, CreateTaskRequest } from '../../src/client/index.js';
import { ACME_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { json, startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { manualClock } from '../helpers/wait.js';

let stack: Stack | undefined;
let upstream: ScriptedServer | undefined;
afterEach(async () => {
  await stack?.close();
  await upstream?.close();
  stack = upstream = undefined;
});

const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as LiangxinError,
  );
const twoKeys = (simUrl: string, extra: Record<string, unknown> = {}) => ({
  upstream: {
    baseUrl: simUrl,
    keys: [
      { id: 'key-a', apiKey: 'sk-up-a' },
      { id: 'key-b', apiKey: 'sk-up-b' },
    ],
    ...extra,
  },
});
const keyStates = async (s: Stack) =>
  Object.fromEntries(((await s.admin('GET', '/upstream-keys')).body.data as Array<{ id: string; state: string }>).map((k) => [k.id, k.state]));

describe('pacing', () => {
  it('never sends more than each key allows; the rest get 429 with Retry-After', async () => {
    stack = await startStack({
      config: (simUrl) => ({
        upstream: {
          baseUrl: simUrl,
          keys: [
            { id: 'key-a', apiKey: 'sk-up-a', createPer10s: 3 },
            { id: 'key-b', apiKey: 'sk-up-b', createPer10s: 3 },
          ],
        },
      }),
    });
    const answers = await Promise.all(Array.from({ length: 10 }, () => raw(`${stack!.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: zImage })));
    const accepted = answers.filter((a) => a.status === 200);
    const paced = answers.filter((a) => a.status === 429);
    expect(accepted).toHaveLength(6);
    expect(paced).toHaveLength(4);
    for (const answer of paced) {
      expect(answer.body.code).toBe(429);
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(answer.headers.get('retry-after'))).toBeLessThanOrEqual(10);
    }
    expect(stack.sim.counters().createTask).toBe(6); // the provider never had to refuse
    expect(stack.sim.tasks('account-1')).toHaveLength(3);
    expect(stack.sim.tasks('account-2')).toHaveLength(3);
  });

  it("the default allowance is the provider's 20 per 10 s per key", async () => {
    stack = await startStack();
    const answers = await Promise.all(Array.from({ length: 25 }, () => raw(`${stack!.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: zImage })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(20);
    expect(stack.sim.counters().createTask).toBe(20);
  });
});

describe('key health from the body code', () => {
  it('403 (LiangXin: insufficient quota) marks a key exhausted and the task goes to another key; the key comes back after its rest', async () => {
    // The gateway's clock moves only when told: however slow the machine, the three createTask
    // happen within the rest (a real clock let a slow run retry key-a and double its rest).
    const clock = manualClock();
    stack = await startStack({
      simulator: { accounts: [{ apiKey: 'sk-up-a', credits: 0 }, { apiKey: 'sk-up-b' }] },
      config: (simUrl) => twoKeys(simUrl, { health: { exhaustedRetryMs: 300 } }),
      clock,
    });
    const client = stack.client();
    for (let i = 0; i < 3; i++) await expect(client.createTask(zImage)).resolves.toBeTruthy();
    expect(await keyStates(stack)).toEqual({ 'key-a': 'exhausted', 'key-b': 'active' });
    expect(stack.sim.tasks('account-2')).toHaveLength(3);
    const status = (await stack.admin('GET', '/upstream-keys')).body.data[0];
    expect(status).toMatchObject({ id: 'key-a', reason: expect.stringContaining('403'), retryAt: expect.any(Number) });
    expect(JSON.stringify(status)).not.toContain('sk-up-a');

    clock.advance(299);
    expect((await keyStates(stack))['key-a']).toBe('exhausted'); // still resting
    clock.advance(1);
    expect((await keyStates(stack))['key-a']).toBe('active'); // on trial again
    stack.sim.updateAccount('account-1', { credits: 1000 });
    stack.sim.updateAccount('account-2', { credits: 0 });
    await expect(client.createTask(zImage)).resolves.toBeTruthy();
    expect(stack.sim.tasks('account-1')).toHaveLength(1);
  });

  it('401 marks a key disabled, 433 exhausted, 429 cooling', async () => {
    stack = await startStack({
      simulator: { accounts: [{ apiKey: 'sk-up-b', taskLimit: 1 }, { apiKey: 'sk-up-c', quirks: ['error=429'] }, { apiKey: 'sk-up-d' }] },
      config: (simUrl) => ({
        upstream: {
          baseUrl: simUrl,
          // Equal allowances: a key not tried yet always has more left than one that was, so
          // every key is tried within a few requests whatever the rotation.
          keys: [
            { id: 'key-a', apiKey: 'sk-not-an-account', createPer10s: 3 },
            { id: 'key-b', apiKey: 'sk-up-b', createPer10s: 3 },
            { id: 'key-c', apiKey: 'sk-up-c', createPer10s: 3 },
            { id: 'key-d', apiKey: 'sk-up-d', createPer10s: 3 },
          ],
        },
      }),
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: zImage })).status);
    expect(statuses).toEqual([200, 200, 200, 200]); // every failure was retried on another key
    expect(await keyStates(stack)).toEqual({ 'key-a': 'disabled', 'key-b': 'exhausted', 'key-c': 'cooling', 'key-d': 'active' });
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toContain('lxg_upstream_key_state{upstream="default",key="key-a",state="disabled"} 1');
    expect(metrics).toContain('lxg_upstream_key_state{upstream="default",key="key-c",state="cooling"} 1');
    expect(metrics).toContain('lxg_upstream_key_state{upstream="default",key="key-d",state="active"} 1');
  });

  it('answers 503 with what every key said when none can serve', async () => {
    stack = await startStack({
      simulator: {
        accounts: [
          { apiKey: 'sk-up-a', credits: 0 },
          { apiKey: 'sk-up-b', credits: 0 },
        ],
      },
      config: (simUrl) => twoKeys(simUrl),
    });
    const first = await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: zImage });
    expect(first.status).toBe(503);
    expect(first.body.data.attempts).toEqual([
      { upstream: 'default', upstreamKey: expect.stringMatching(/key-[ab]/), outcome: '403 insufficient quota' },
      { upstream: 'default', upstreamKey: expect.stringMatching(/key-[ab]/), outcome: '403 insufficient quota' },
    ]);
    expect(Number(first.headers.get('retry-after'))).toBeGreaterThan(0);
    const again = await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: zImage });
    expect(again.status).toBe(503);
    expect(again.body.msg).toMatch(/key-a: exhausted .*key-b: exhausted|key-b: exhausted .*key-a: exhausted/);
    expect(stack.sim.counters().createTask).toBe(2); // resting keys are not asked again
    const ready = await raw(`${stack.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ ready: false });
  });

  it('455 puts the whole provider in maintenance, then recovers', async () => {
    const clock = manualClock();
    stack = await startStack({ config: (simUrl) => twoKeys(simUrl, { health: { maintenanceRetryMs: 300 } }), clock });
    stack.sim.setMaintenance(true);
    const refused = await refusal(stack.client().createTask(zImage));
    expect(refused).toMatchObject({ code: 503, httpStatus: 503 });
    expect(refused?.msg).toMatch(/maintenance/);
    expect((await raw(`${stack.url}/readyz`)).body.checks.upstreamKeys).toBe('provider in maintenance');
    stack.sim.setMaintenance(false);
    clock.advance(300);
    await expect(stack.client().createTask(zImage)).resolves.toBeTruthy();
  });
});

describe('the retry rule', () => {
  // The upstream timeout is short only where the server never answers; a server that does answer
  // gets a minute, so a loaded machine cannot turn its answer into a timeout.
  async function scripted(answer: Parameters<typeof startScriptedServer>[0], health = {}, timeoutMs = 60_000) {
    upstream = await startScriptedServer(answer);
    stack = await startStack({ upstreamUrl: upstream.url, config: () => twoKeys(upstream!.url, { timeoutMs, health }) });
    return raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: zImage });
  }

  it('a real HTTP 500 is not resent: 502, one upstream request', async () => {
    const answer = await scripted((_req, res) => json(res, 500, { code: 500, msg: 'Server error', data: null }));
    expect(answer.status).toBe(502);
    expect(answer.body.msg).toMatch(/may or may not have been created, so it was not resent/);
    expect(upstream!.requests).toHaveLength(1);
  });

  it('a 500 inside HTTP 200 is not resent either', async () => {
    const answer = await scripted((_req, res) => json(res, 200, { code: 500, msg: 'Server error', data: null }));
    expect(answer.status).toBe(502);
    expect(upstream!.requests).toHaveLength(1);
  });

  it('a timeout is not resent', async () => {
    const answer = await scripted(() => undefined, {}, 300);
    expect(answer.status).toBe(502);
    expect(answer.body.msg).toMatch(/no answer within 300 ms/);
    expect(upstream!.requests).toHaveLength(1);
  });

  it('a 429 inside HTTP 200 goes to the next key', async () => {
    const answer = await scripted((_req, res, i) =>
      i === 0 ? json(res, 200, { code: 429, msg: 'Too many requests', data: null }) : json(res, 200, { code: 200, msg: 'success', data: { taskId: 't-1' } }),
    );
    expect(answer).toMatchObject({ status: 200, body: { data: { taskId: expect.stringMatching(/^gt_/) } } }); // the gateway's id, never the provider's
    const keysUsed = upstream!.requests.map((r) => r.headers.authorization);
    expect(new Set(keysUsed)).toEqual(new Set(['Bearer sk-up-a', 'Bearer sk-up-b'])); // two different keys
  });

  it('a refused connection goes to the next key, and says so', async () => {
    upstream = await startScriptedServer(() => undefined);
    const deadUrl = upstream.url;
    await upstream.close();
    upstream = undefined;
    stack = await startStack({ upstreamUrl: deadUrl, config: () => twoKeys(deadUrl) });
    const answer = await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: zImage });
    expect(answer.status).toBe(503);
    expect(answer.body.data.attempts).toHaveLength(2);
    expect(answer.body.data.attempts[0].outcome).toBe('connection refused (not sent)');
  });

  it.each([
    ["LiangXin's real HTTP 403", 403, { code: 403, msg: 'insufficient quota', data: null }, 'exhausted'],
    ["the public API's 402 inside HTTP 200", 200, { code: 402, msg: 'Credits insufficient', data: null }, 'exhausted'],
    ["LiangXin's non-envelope HTTP 401", 401, { error: { message: 'invalid token', type: 'new_api_error', code: '' } }, 'disabled'],
  ])('%s proves no task was started: the next key gets it, the first rests', async (_name, status, body, state) => {
    const answer = await scripted((_req, res, i) =>
      i === 0 ? json(res, status, body) : json(res, 200, { code: 200, msg: 'success', data: { taskId: 't-1' } }),
    );
    expect(answer).toMatchObject({ status: 200, body: { data: { taskId: expect.stringMatching(/^gt_/) } } }); // the gateway's id, never the provider's
    expect(upstream!.requests).toHaveLength(2);
    expect(Object.values(await keyStates(stack!)).sort()).toEqual(['active', state]);
  });

  it('a provider-side 422 is passed through, not retried', async () => {
    const answer = await scripted((_req, res) => json(res, 200, { code: 422, msg: 'Invalid input: something new', data: null }));
    // Relayed as the provider said it: inside HTTP 200 (provider mode, the default).
    expect(answer).toMatchObject({ status: 200, body: { code: 422, msg: 'Invalid input: something new' } });
    expect(upstream!.requests).toHaveLength(1);
  });
});
