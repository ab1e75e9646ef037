// Prism's own command, run the way the README says, against openapi/liangxin.yaml: `npm run mock`
// (which is `prism mock openapi/liangxin.yaml`) answers a valid request of each operation and
// refuses an invalid one naming the field; `npx prism proxy` in front of the simulator passes
// conforming traffic through and reports an answer the contract does not allow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { spawnPrismCommand, START_HOOK_TIMEOUT_MS, type PrismProcess } from '../helpers/prism-cli.js';

const KEY = 'sk-prism-cli-test';
const zImage = { model: 'z-image', input: { prompt: 'A lighthouse at dawn', aspect_ratio: '1:1' } };

async function send(base: string, method: 'GET' | 'POST', path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, violations: response.headers.get('sl-violations'), text };
}

describe('npm run mock (prism mock openapi/liangxin.yaml)', () => {
  let prism: PrismProcess;
  beforeAll(async () => {
    prism = await spawnPrismCommand('npm', ['run', '--silent', 'mock', '--', '--port', '{port}']);
  }, START_HOOK_TIMEOUT_MS);
  afterAll(() => prism?.stop());

  it('createTask: a valid body is answered from the spec, without violations', async () => {
    const result = await send(prism.url, 'POST', '/api/v1/jobs/createTask', { body: zImage });
    expect(result.violations).toBeNull();
    expect(result.status).toBe(200);
    expect(JSON.parse(result.text)).toMatchObject({ code: 200, data: { taskId: expect.any(String) } });
  });

  it('createTask: an invalid body is refused with 422 naming the field', async () => {
    // Seedream's aspect ratios are an enum (Z-Image's are a free string LiangXin maps itself).
    const result = await send(prism.url, 'POST', '/api/v1/jobs/createTask', {
      body: { model: 'seedream-v4-5', input: { prompt: 'A lighthouse at dawn', aspect_ratio: '2:1' } },
    });
    expect(result.status).toBe(422);
    expect(JSON.parse(result.text)).toMatchObject({ code: 422 });
    expect(result.violations).toContain('"location":["request","body","input","aspect_ratio"]');
  });

  it('recordInfo: a valid read is answered from the spec, without violations', async () => {
    const result = await send(prism.url, 'GET', '/api/v1/jobs/recordInfo?taskId=task_1');
    expect(result.violations).toBeNull();
    expect(result.status).toBe(200);
    expect(JSON.parse(result.text)).toMatchObject({ code: 200, data: { taskId: expect.any(String), state: expect.any(String) } });
  });

  it('recordInfo: a read without its taskId is refused naming the parameter', async () => {
    const result = await send(prism.url, 'GET', '/api/v1/jobs/recordInfo');
    expect(result.status).toBe(422);
    expect(result.violations).toContain('"location":["request","query"]');
    expect(result.violations).toMatch(/required property 'taskId'/i); // Prism lower-cases query names
  });
});

describe('npx prism proxy openapi/liangxin.yaml <simulator>', () => {
  let sim: RunningSimulator;
  let proxy: PrismProcess;
  beforeAll(async () => {
    sim = await createSimulator({ accounts: [{ apiKey: KEY }] });
    proxy = await spawnPrismCommand('npx', ['--no', 'prism', 'proxy', 'openapi/liangxin.yaml', sim.url, '--port', '{port}']);
  }, START_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await proxy?.stop();
    await sim?.close();
  });

  it('passes a conforming exchange through, without violations', async () => {
    const result = await send(proxy.url, 'POST', '/api/v1/jobs/createTask', { body: zImage });
    expect(result.violations).toBeNull();
    expect(result.status).toBe(200);
    const { taskId } = JSON.parse(result.text).data as { taskId: string };
    expect(sim.tasks().map((t) => t.taskId)).toContain(taskId);
  });

  it('reports an answer the contract does not allow (a status it does not declare)', async () => {
    const result = await send(proxy.url, 'POST', '/api/v1/jobs/createTask', { body: zImage, headers: { 'x-simulator-quirks': 'http=503' } });
    expect(result.status).toBe(503); // passed through as the upstream answered it
    expect(result.violations).toContain('"location":["response"]');
    expect(result.violations).toContain('Unable to match the returned status code');
    // Prism's log reaches us through a pipe, not in step with the answer: wait for the line.
    await expect.poll(() => proxy.output(), { timeout: 30_000, interval: 50 }).toMatch(/Violation: response Unable to match the returned status code/);
  });
});
