// The simulator speaks the contract: Prism, proxying to it, checks every request and answer
// against openapi/liangxin.yaml (with `errors` on, a violation turns the answer into a 500), and
// our own validator checks the answers' shapes too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrism, type RunningPrism } from '../../mock/prism.js';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { createSpecValidator } from '../../src/spec/validator.js';
import { validBodies } from '../fixtures/create-task-bodies.js';

let sim: RunningSimulator;
let proxy: RunningPrism;
const spec = createSpecValidator();
/** The simulator's clock: tasks move on when the tests say, not with the machine's speed. */
let now = Date.now();

beforeAll(async () => {
  sim = await createSimulator({
    now: () => now,
    createPer10s: 1000,
    recordInfoPerSecond: 1000,
    accounts: [{ apiKey: 'sk-sim-dev' }, { apiKey: 'sk-broke', credits: 0 }],
  });
  proxy = await startPrism({ upstream: sim.url, errors: true });
});
afterAll(async () => {
  await proxy?.close();
  await sim?.close();
});

async function call(path: string, init: { body?: unknown; key?: string; quirks?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${init.key ?? 'sk-sim-dev'}`, 'content-type': 'application/json' };
  if (init.quirks) headers['x-simulator-quirks'] = init.quirks;
  const response = await fetch(`${proxy.url}${path}`, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: response.status, violations: response.headers.get('sl-violations'), body: (await response.json()) as { code: number; data: unknown } };
}

function expectConforming(result: Awaited<ReturnType<typeof call>>, schema: string) {
  expect(result.violations, `Prism found violations`).toBeNull();
  expect(spec.validateSchema(schema, result.body)).toMatchObject({ ok: true });
}

describe('through a validating Prism proxy', () => {
  it('createTask answers conform for every model, and the records they lead to too', async () => {
    for (const { body } of validBodies) {
      const created = await call('/api/v1/jobs/createTask', { body });
      expect(created.status).toBe(200);
      expectConforming(created, 'CreateTaskResponse');
    }
    const taskIds = sim.tasks().map((t) => t.taskId);
    now += 3_600_000; // every task final
    for (const taskId of taskIds) expectConforming(await call(`/api/v1/jobs/recordInfo?taskId=${taskId}`), 'RecordInfoResponse');
  });

  it('records in progress conform', async () => {
    const created = await call('/api/v1/jobs/createTask', { body: { model: 'kling-v3-pro', input: { prompt: 'x' } } });
    const taskId = (created.body.data as { taskId: string }).taskId;
    now += 20; // visible (after 10 ms), far from final
    const reading = await call(`/api/v1/jobs/recordInfo?taskId=${taskId}`);
    expect((reading.body.data as { state: string }).state).not.toBe('success');
    expectConforming(reading, 'RecordInfoResponse');
  });

  it.each([
    ['recordInfo is null', () => call('/api/v1/jobs/recordInfo?taskId=unknown'), 200, 422],
    ['out of credits (LiangXin: HTTP 403)', () => call('/api/v1/jobs/createTask', { key: 'sk-broke', body: validBodies[0]!.body }), 403, 403],
    ['maintenance', () => call('/api/v1/jobs/recordInfo?taskId=x', { quirks: 'error=455' }), 200, 455],
    ['a real HTTP 500', () => call('/api/v1/jobs/createTask', { quirks: 'http=500', body: validBodies[0]!.body }), 500, 500],
    ['a real HTTP 429', () => call('/api/v1/jobs/createTask', { quirks: 'http=429', body: validBodies[0]!.body }), 429, 429],
  ])('refusals conform: %s', async (_name, send, status, code) => {
    const result = await send();
    expect(result.status).toBe(status);
    expect(result.body.code).toBe(code);
    expectConforming(result, 'ErrorResponse');
  });

  it('refusals conform: a wrong key (LiangXin: HTTP 401, not the envelope)', async () => {
    const result = await call('/api/v1/jobs/createTask', { key: 'sk-nobody', body: validBodies[0]!.body });
    expect(result.status).toBe(401);
    expectConforming(result, 'AuthError');
  });
});
