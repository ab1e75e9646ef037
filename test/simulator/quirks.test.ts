// The provider's quirks on demand: errors inside HTTP 200, real HTTP errors, credits that run
// out, limits, maintenance, slowness, and the rate limits, all seen through the typed client.
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator, type SimulatorOptions } from '../../mock/simulator/index.js';
import { createLiangxinClient, LiangxinError, type CreateTaskRequest } from '../../src/client/index.js';
import { invalidBodies, refusedField, validBodies } from '../fixtures/create-task-bodies.js';
import { head, openRaw, parseAnswer } from '../helpers/raw-http.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
const proImage: CreateTaskRequest = { model: 'nano-banana-pro', input: { prompt: 'xy' } }; // $0.09 (LiangXin: a prompt of 2 characters at least) = 18 credits

async function start(options: SimulatorOptions = {}, headers: Record<string, string> = {}) {
  sim = await createSimulator(options);
  return { sim, client: createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-sim-dev', headers }) };
}

async function refusal(promise: Promise<unknown>): Promise<LiangxinError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LiangxinError);
  return error as LiangxinError;
}

describe('validation like the spec', () => {
  it("accepts every valid body of every model, LiangXin's own examples included", async () => {
    const { client } = await start({ createPer10s: 1000 });
    for (const { body } of validBodies) {
      await expect(client.createTask(body as CreateTaskRequest)).resolves.toMatchObject({ taskId: expect.any(String) });
    }
  });

  it('refuses every invalid body as LiangXin does, a real HTTP 400 naming the field', async () => {
    const { sim, client } = await start({ createPer10s: 1000 });
    for (const invalid of invalidBodies) {
      const error = await refusal(client.createTask(invalid.body as CreateTaskRequest));
      expect(error.code, invalid.name).toBe(400);
      expect(error.httpStatus, invalid.name).toBe(400);
      expect(error.msg, invalid.name).toContain(refusedField(invalid) || 'body');
    }
    expect(sim.tasks()).toHaveLength(0);
  });

  it('answers with LiangXin\'s envelope: {"code":400,"msg":"input.…","data":null}', async () => {
    const { sim } = await start();
    const response = await fetch(`${sim.url}/api/v1/jobs/createTask`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-sim-dev', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'seedream-v4-5', input: { aspect_ratio: '1:1' } }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ code: 400, msg: 'input.prompt is required', data: null });
  });

  it("refuses Kling shots longer than 15 s in total, from the spec's x-liangxin-rules", async () => {
    const { client } = await start();
    const body: CreateTaskRequest = {
      model: 'kling-v3-pro',
      input: {
        multi_prompt: [
          { prompt: 'a', duration: 10 },
          { prompt: 'b', duration: 6 },
        ],
      },
    };
    const error = await refusal(client.createTask(body));
    expect(error).toMatchObject({ code: 400, httpStatus: 400, msg: 'input.multi_prompt must have duration adding up to at most 15 (16 given)' });
  });

  it('answers malformed JSON with HTTP 400 and a body over 1 MiB with HTTP 413', async () => {
    const { sim } = await start();
    const post = (body: string) => fetch(`${sim.url}/api/v1/jobs/createTask`, { method: 'POST', headers: { authorization: 'Bearer sk-sim-dev' }, body });
    const broken = await post('{"model":');
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ code: 400, msg: 'Request body is not valid JSON' });
    const huge = await post(JSON.stringify({ model: 'z-image', input: { prompt: 'a'.repeat(1_100_000) } }));
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ code: 413 });
  });

  it('answers a body of 90,000 unknown fields in a few KB, naming the first ones', async () => {
    const { client } = await start();
    const input = { prompt: 'x', aspect_ratio: '1:1', ...Object.fromEntries(Array.from({ length: 90_000 }, (_, i) => [`f${i}`, 1])) };
    const error = await refusal(client.createTask({ model: 'z-image', input } as CreateTaskRequest));
    // LiangXin answers invalid parameters with HTTP 400.
    expect(error).toMatchObject({ code: 400, httpStatus: 400 });
    expect(error.msg.length).toBeLessThan(4096);
    expect(error.msg).toMatch(/^input\.f0 is not a field here; .*; and at least \d+ more$/);
  });

  it('refuses a body over 1 MiB from its Content-Length, without waiting for it, and closes the connection', async () => {
    const { sim } = await start();
    const connection = await openRaw(sim.url);
    connection.socket.write(
      head('POST', '/api/v1/jobs/createTask', { authorization: 'Bearer sk-sim-dev', 'content-type': 'application/json', 'content-length': 10_000_000 }) + '{',
    );
    await connection.closed;
    expect(parseAnswer(connection.received())).toMatchObject({ status: 413, body: { code: 413, msg: 'Request body is larger than 1 MiB' } });
    expect(connection.received()).toMatch(/\r\nconnection: close\r\n/i);
  });
});

describe('authentication', () => {
  it("answers a wrong or a missing key with a real HTTP 401 and LiangXin's non-envelope body", async () => {
    const { sim } = await start();
    const wrong = createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-wrong' });
    expect(await refusal(wrong.createTask(zImage))).toMatchObject({ code: 401, httpStatus: 401, msg: 'invalid token' });
    for (const headers of [{}, { authorization: 'Bearer sk-wrong' }] as Array<Record<string, string>>) {
      const answer = await fetch(`${sim.url}/api/v1/jobs/recordInfo?taskId=x`, { headers });
      expect(answer.status).toBe(401);
      expect(await answer.json()).toEqual({ error: { message: 'invalid token', type: 'new_api_error', code: '' } });
    }
    expect(sim.tasks()).toHaveLength(0);
  });
});

describe('credits and limits', () => {
  it('runs credits down and answers 403 "insufficient quota" (real HTTP 403) when they are spent', async () => {
    const { sim, client } = await start({ accounts: [{ apiKey: 'sk-sim-dev', credits: 40 }] });
    await client.createTask(proImage);
    await client.createTask(proImage);
    expect(sim.accounts()[0]!.credits).toBe(4);
    expect(await refusal(client.createTask(proImage))).toMatchObject({ code: 403, httpStatus: 403, msg: 'insufficient quota' });
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
  // The public API's codes inside HTTP 200: still there on demand.
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
    expect(await refusal(keyed.createTask(zImage))).toMatchObject({ code: 403 });

    await fetch(`${sim.url}/_simulator/maintenance`, { method: 'PUT', body: JSON.stringify({ on: true }) });
    expect(await refusal(keyed.getTask('x'))).toMatchObject({ code: 455 });
    const bad = await fetch(`${sim.url}/_simulator/accounts/account-1`, { method: 'PATCH', body: JSON.stringify({ quirks: ['bogus'] }) });
    expect(bad.status).toBe(400);
  });
});
