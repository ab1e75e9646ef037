// The provider's quirks on demand: errors inside HTTP 200, real HTTP errors, credits that run
// out, limits, maintenance, slowness, and the rate limits, all seen through the typed client.
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator, type SimulatorOptions } from '../../mock/simulator/index.js';
import { createLiangxinClient, LiangxinError, type CreateTaskRequest } from '../../src/client/index.js';
import { invalidBodies, validBodies } from '../fixtures/create-task-bodies.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
const proImage: CreateTaskRequest = { model: 'nano-banana-pro', input: { prompt: 'x' } }; // $0.09 = 18 credits

async function start(options: SimulatorOptions = {}, headers: Record<string, string> = {}) {
  sim = await createSimulator(options);
  return { sim, client: createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-sim-dev', headers }) };
}

async function refusal(promise: Promise<unknown>): Promise<LiangxinError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LiangxinError);
  return error as LiangxinError;
}

describe('validation like the spec', () => {
  it('accepts every valid body of every model', async () => {
    const { client } = await start({ createPer10s: 1000 });
    for (const { body } of validBodies) {
      await expect(client.createTask(body as CreateTaskRequest)).resolves.toMatchObject({ taskId: expect.any(String) });
    }
  });

  it('refuses every invalid body with 422 inside HTTP 200, naming the field', async () => {
    const { sim, client } = await start({ createPer10s: 1000 });
    for (const { name, body, at, keyword, mentions } of invalidBodies) {
      const error = await refusal(client.createTask(body as CreateTaskRequest));
      expect(error.code, name).toBe(422);
      expect(error.httpStatus, name).toBe(200);
      const field = (keyword === 'required' || keyword === 'additionalProperties') && mentions ? [at, mentions].filter(Boolean).join('.') : at;
      expect(error.msg, name).toContain(field || 'body');
    }
    expect(sim.tasks()).toHaveLength(0);
  });

  it('refuses Kling shots longer than 15 s in total (a rule the schema cannot state)', async () => {
    const { client } = await start();
    const body: CreateTaskRequest = { model: 'kling-v3-pro', input: { multi_prompt: [{ prompt: 'a', duration: 10 }, { prompt: 'b', duration: 6 }] } };
    const error = await refusal(client.createTask(body));
    expect(error).toMatchObject({ code: 422 });
    expect(error.msg).toMatch(/multi_prompt .* 16 s, more than 15/);
  });

  it('answers malformed JSON with HTTP 400', async () => {
    const { sim } = await start();
    const response = await fetch(`${sim.url}/api/v1/jobs/createTask`, { method: 'POST', headers: { authorization: 'Bearer sk-sim-dev' }, body: '{"model":' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 400, msg: 'Request body is not valid JSON' });
  });
});

describe('authentication', () => {
  it('answers a wrong key with 401 inside HTTP 200, and no key with a real HTTP 401', async () => {
    const { sim } = await start();
    const wrong = createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-wrong' });
    expect(await refusal(wrong.createTask(zImage))).toMatchObject({ code: 401, httpStatus: 200 });
    const none = await fetch(`${sim.url}/api/v1/jobs/recordInfo?taskId=x`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: 401 });
  });
});

describe('credits and limits', () => {
  it('runs credits down and answers 402 when they are spent', async () => {
    const { sim, client } = await start({ accounts: [{ apiKey: 'sk-sim-dev', credits: 40 }] });
    await client.createTask(proImage);
    await client.createTask(proImage);
    expect(sim.accounts()[0]!.credits).toBe(4);
    expect(await refusal(client.createTask(proImage))).toMatchObject({ code: 402, httpStatus: 200 });
    await client.createTask(zImage); // 0.8 credits still fit
    expect(sim.accounts()[0]!.credits).toBeCloseTo(3.2);
    expect(sim.tasks()).toHaveLength(3);
  });

  it('answers 433 past the sub-key task limit', async () => {
    const { client } = await start({ accounts: [{ apiKey: 'sk-sim-dev', taskLimit: 2 }] });
    await client.createTask(zImage);
    await client.createTask(zImage);
    expect(await refusal(client.createTask(zImage))).toMatchObject({ code: 433, httpStatus: 200 });
  });

  it('answers 455 during maintenance, and recovers', async () => {
    const { sim, client } = await start();
    sim.setMaintenance(true);
    expect(await refusal(client.createTask(zImage))).toMatchObject({ code: 455, httpStatus: 200 });
    expect(await refusal(client.getTask('x'))).toMatchObject({ code: 455 });
    sim.setMaintenance(false);
    await expect(client.createTask(zImage)).resolves.toBeTruthy();
  });

  // The simulator's clock stands still in both: its windows cannot roll over mid-burst, however
  // long the burst takes on a loaded machine.
  it('answers a real HTTP 429 with Retry-After past 20 createTask per 10 s', async () => {
    const now = Date.now();
    const { sim, client } = await start({ now: () => now });
    const results = await Promise.allSettled(Array.from({ length: 25 }, () => client.createTask(zImage)));
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as LiangxinError);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
    expect(refused).toHaveLength(5);
    for (const error of refused) {
      expect(error).toMatchObject({ code: 429, httpStatus: 429 });
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(10_000);
    }
    expect(sim.tasks()).toHaveLength(20);
  });

  it('answers a real HTTP 429 past 10 recordInfo per second', async () => {
    const now = Date.now();
    const { client } = await start({ now: () => now, timing: { visibleAfterMs: 0 } });
    const { taskId } = await client.createTask(zImage);
    const results = await Promise.allSettled(Array.from({ length: 14 }, () => client.getTask(taskId)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(results.filter((r) => r.status === 'rejected').every((r) => ((r as PromiseRejectedResult).reason as LiangxinError).httpStatus === 429)).toBe(true);
  });
});

describe('quirks per request and per account', () => {
  it.each([401, 402, 433, 455, 500])('error=%i answers that code inside HTTP 200', async (code) => {
    const { sim, client } = await start({}, { 'X-Simulator-Quirks': `error=${code}` });
    expect(await refusal(client.createTask(zImage))).toMatchObject({ code, httpStatus: 200 });
    expect(sim.tasks()).toHaveLength(0);
  });

  it.each([500, 502, 503])('http=%i answers that real HTTP status', async (status) => {
    const { client } = await start({ accounts: [{ apiKey: 'sk-sim-dev', quirks: [`http=${status}`] }] });
    expect(await refusal(client.createTask(zImage))).toMatchObject({ code: status, httpStatus: status });
  });

  it('slow=MS delays the answer', async () => {
    const { client } = await start({}, { 'X-Simulator-Quirks': 'slow=300' });
    const started = Date.now();
    await client.createTask(zImage);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('fail ends the task in fail/501', async () => {
    const { client } = await start({}, { 'X-Simulator-Quirks': 'fail' });
    const { taskId } = await client.createTask(zImage);
    const record = await client.waitForTask(taskId, { initialDelayMs: 20 });
    expect(record).toMatchObject({ state: 'fail', failCode: '501' });
  });

  it('refuses an unknown quirk loudly', async () => {
    const { client } = await start({}, { 'X-Simulator-Quirks': 'explode' });
    expect(await refusal(client.createTask(zImage))).toMatchObject({ code: 400, httpStatus: 400, msg: 'unknown simulator quirk "explode"' });
    await expect(createSimulator({ accounts: [{ apiKey: 'k', quirks: ['nope'] }] })).rejects.toThrow(/unknown simulator quirk/);
  });
});

describe('control API', () => {
  it('lists tasks and accounts, changes an account and maintenance over HTTP, never showing keys', async () => {
    const { sim } = await start({ accounts: [{ apiKey: 'sk-secret-key', credits: 50 }] });
    const keyed = createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-secret-key' });
    await keyed.createTask(zImage);
    const tasks = (await (await fetch(`${sim.url}/_simulator/tasks`)).json()) as Array<{ model: string; accountId: string }>;
    expect(tasks).toMatchObject([{ model: 'z-image', accountId: 'account-1' }]);
    const accounts = await (await fetch(`${sim.url}/_simulator/accounts`)).text();
    expect(accounts).not.toContain('sk-secret-key');

    const patched = await fetch(`${sim.url}/_simulator/accounts/account-1`, { method: 'PATCH', body: JSON.stringify({ credits: 0 }) });
    expect(await patched.json()).toMatchObject({ credits: 0 });
    expect(await refusal(keyed.createTask(zImage))).toMatchObject({ code: 402 });

    await fetch(`${sim.url}/_simulator/maintenance`, { method: 'PUT', body: JSON.stringify({ on: true }) });
    expect(await refusal(keyed.getTask('x'))).toMatchObject({ code: 455 });
    const bad = await fetch(`${sim.url}/_simulator/accounts/account-1`, { method: 'PATCH', body: JSON.stringify({ quirks: ['bogus'] }) });
    expect(bad.status).toBe(400);
  });
});
