// Several upstreams: two simulators (two ports, different accounts) as two upstreams of one
// gateway. Routing by model and price, failover when an upstream proves it started nothing
// (maintenance, no usable key, a not-created refusal), never after an answer that leaves the task
// unknown (counted at both simulators: no task created twice), and reads and callbacks going to
// the upstream the task is on, in either dialect.
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator, type SimulatorAccount } from '../../mock/simulator/index.js';
import type { CreateTaskRequest } from '../../src/client/index.js';
import { ACME_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { pollUntil } from '../helpers/wait.js';

let stack: Stack | undefined;
let simB: RunningSimulator | undefined;
afterEach(async () => {
  await stack?.close();
  await simB?.close();
  stack = simB = undefined;
});

const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
const kling: CreateTaskRequest = { model: 'kling-v3-pro', input: { prompt: 'A fox', duration: 5 } };

interface Side {
  account?: Partial<SimulatorAccount>;
  upstream?: Record<string, unknown>;
}

/** Upstream `a` on the stack's simulator, `b` on a second one; each its own account and key. */
async function twoUpstreams(a: Side = {}, b: Side = {}): Promise<{ stack: Stack; simA: RunningSimulator; simB: RunningSimulator }> {
  simB = await createSimulator({ accounts: [{ apiKey: 'sk-b', ...b.account }] });
  const urlB = simB.url;
  stack = await startStack({
    simulator: { accounts: [{ apiKey: 'sk-a', ...a.account }] },
    config: (urlA) => ({
      upstream: undefined,
      upstreams: [
        { id: 'a', baseUrl: urlA, keys: [{ id: 'key-a', apiKey: 'sk-a', webhookHmacKey: a.account?.hmacKey }], ...a.upstream },
        { id: 'b', baseUrl: urlB, keys: [{ id: 'key-b', apiKey: 'sk-b', webhookHmacKey: b.account?.hmacKey }], ...b.upstream },
      ],
    }),
  });
  return { stack, simA: stack.sim, simB };
}

const create = (s: Stack, body: CreateTaskRequest = zImage) => raw(`${s.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body });
const counts = (simA: RunningSimulator, sim: RunningSimulator) => ({ a: simA.tasks().length, b: sim.tasks().length });

describe('routing', () => {
  it('sends each model to the cheapest upstream that serves it, and records which', async () => {
    const { stack: s, simA, simB: b } = await twoUpstreams({ upstream: { priceFactor: 1 } }, { upstream: { priceFactor: 0.8 } });
    const created = await create(s);
    expect(created.status).toBe(200);
    expect(counts(simA, b)).toEqual({ a: 0, b: 1 });
    expect(await s.store.getTask(created.body.data.taskId)).toMatchObject({ upstreamId: 'b', upstreamKeyId: 'key-b' });
  });

  it('a model goes only to the upstreams that list it', async () => {
    const { stack: s, simA, simB: b } = await twoUpstreams({ upstream: { models: ['z-image'] } }, { upstream: { models: ['kling-v3-pro'], priceFactor: 0.5 } });
    expect((await create(s, zImage)).status).toBe(200);
    expect((await create(s, kling)).status).toBe(200);
    expect(simA.tasks().map((t) => t.model)).toEqual(['z-image']);
    expect(b.tasks().map((t) => t.model)).toEqual(['kling-v3-pro']);
    // A model no upstream serves is refused before anything is counted or sent.
    const none = await create(s, { model: 'imagen4-fast', input: { prompt: 'x' } } as CreateTaskRequest);
    expect(none).toMatchObject({ status: 503, body: { code: 503, msg: expect.stringContaining('No upstream serves imagen4-fast') } });
  });
});

describe('failover', () => {
  it('goes on to the next upstream when the cheaper one is in maintenance (455), and routes around it afterwards', async () => {
    const { stack: s, simA, simB: b } = await twoUpstreams({}, { upstream: { priceFactor: 0.5 } });
    b.setMaintenance(true);
    const first = await create(s);
    expect(first.status).toBe(200);
    expect(counts(simA, b)).toEqual({ a: 1, b: 0 });
    expect(b.counters().createTask).toBe(1); // tried once, answered 455
    expect(await s.store.getTask(first.body.data.taskId)).toMatchObject({ upstreamId: 'a', upstreamKeyId: 'key-a' });
    // b rests in maintenance: the next task goes to a without asking b.
    expect((await create(s)).status).toBe(200);
    expect(b.counters().createTask).toBe(1);
    const upstreams = (await s.admin('GET', '/upstreams')).body.data as Array<{ id: string; healthy: boolean; reason: string | null }>;
    expect(upstreams).toMatchObject([
      { id: 'a', provider: 'liangxin', healthy: true, reason: null },
      { id: 'b', provider: 'liangxin', healthy: false, reason: 'provider in maintenance' },
    ]);
    const ready = await raw(`${s.url}/readyz`);
    expect(ready).toMatchObject({ status: 200, body: { checks: { upstreamKeys: 'ok' } } });
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toContain('lxg_upstream_healthy{upstream="b"} 0');
    expect(metrics).toContain('lxg_upstream_healthy{upstream="a"} 1');
  });

  it('goes on when the cheaper upstream has no usable key (its only key out of credits)', async () => {
    const { stack: s, simA, simB: b } = await twoUpstreams({}, { account: { credits: 0 }, upstream: { priceFactor: 0.5 } });
    const created = await create(s);
    expect(created.status).toBe(200);
    expect(counts(simA, b)).toEqual({ a: 1, b: 0 });
    const keys = (await s.admin('GET', '/upstream-keys')).body.data;
    expect(keys).toMatchObject([
      { id: 'key-a', upstream: 'a', state: 'active' },
      { id: 'key-b', upstream: 'b', state: 'exhausted' },
    ]);
  });

  it('goes on after a refusal that proves no task was started (505 feature disabled)', async () => {
    const { stack: s, simA, simB: b } = await twoUpstreams({}, { account: { quirks: ['error=505'] }, upstream: { priceFactor: 0.5 } });
    expect((await create(s)).status).toBe(200);
    expect(counts(simA, b)).toEqual({ a: 1, b: 0 });
    expect(b.counters().createTask).toBe(1);
  });

  it('goes on when the cheaper upstream cannot be reached at all (connection refused: nothing was sent)', async () => {
    const { stack: s, simA, simB: b } = await twoUpstreams({}, { upstream: { priceFactor: 0.5, baseUrl: 'http://127.0.0.1:1' } });
    const created = await create(s);
    expect(created.status).toBe(200);
    expect(counts(simA, b)).toEqual({ a: 1, b: 0 });
  });

  it("when every upstream refuses, the tenant gets the last one's answer and each one's attempts", async () => {
    const { stack: s, simA, simB: b } = await twoUpstreams({ account: { credits: 0 } }, { account: { credits: 0 }, upstream: { priceFactor: 0.5 } });
    const refused = await create(s);
    expect(refused.status).toBe(503);
    expect(refused.body.data.attempts).toEqual([
      { upstream: 'b', upstreamKey: 'key-b', outcome: '403 insufficient quota' },
      { upstream: 'a', upstreamKey: 'key-a', outcome: '403 insufficient quota' },
    ]);
    expect(counts(simA, b)).toEqual({ a: 0, b: 0 });
    expect(await s.store.countTasks()).toBe(0); // nothing started, nothing kept
    expect((await raw(`${s.url}/readyz`)).body.checks.upstreamKeys).toMatch(/^a: no usable key: key-a: exhausted; b: no usable key: key-b: exhausted$/);
  });

  it.each([
    ['a real HTTP 500', 'http=500'],
    ['a 500 inside HTTP 200', 'error=500'],
  ])('never after an answer that leaves the task unknown (%s): one createTask in all, kept in doubt', async (_name, quirk) => {
    const { stack: s, simA, simB: b } = await twoUpstreams({}, { account: { quirks: [quirk] }, upstream: { priceFactor: 0.5 } });
    const unknown = await create(s);
    expect(unknown).toMatchObject({ status: 502, body: { code: 502 } });
    expect(simA.counters().createTask).toBe(0);
    expect(b.counters().createTask).toBe(1);
    // The row stays, in doubt, on the upstream that may have it.
    const [row] = await s.store.claimTasksToCheck(Date.now() + 365 * 86_400_000, 1, 10);
    expect(row).toMatchObject({ state: 'sending', upstreamId: 'b' });
  });
});

describe("a task's reads and callbacks go to its upstream", () => {
  it("recordInfo asks the upstream that has the task, and its signed callback is checked with that upstream's key", async () => {
    const {
      stack: s,
      simA,
      simB: b,
    } = await twoUpstreams({ account: { hmacKey: 'hmac-a' } }, { account: { hmacKey: 'hmac-b' }, upstream: { priceFactor: 0.5 } });
    const created = await create(s, { ...zImage, callBackUrl: 'https://hooks.example.org/acme' });
    const { taskId } = created.body.data;
    const readsA = simA.counters().recordInfo;
    const read = await raw(`${s.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: ACME_KEY });
    expect(read.body).toMatchObject({ code: 200, data: { taskId, model: 'z-image' } });
    expect(b.counters().recordInfo).toBeGreaterThanOrEqual(1);
    expect(simA.counters().recordInfo).toBe(readsA);
    // b's callback, signed with b's key, ends the task.
    const accepted = await pollUntil("b's callback accepted", () => b.callbacks.find((c) => c.status === 200));
    // The provider's callback names its own id for the task; the tenant holds the gateway's.
    expect(accepted).toMatchObject({ taskId: (await s.store.getTask(taskId))!.providerTaskId, signed: true });
    expect((await s.store.getTask(taskId))!.state).toBe('success');
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toContain('lxg_provider_callbacks_total{outcome="accepted"} 1');
  });

  it('a lost callback: reconciliation polls the upstream the task is on, with its key', async () => {
    simB = await createSimulator({ accounts: [{ apiKey: 'sk-b', quirks: ['callback=lost'] }] });
    const urlB = simB.url;
    stack = await startStack({
      simulator: { accounts: [{ apiKey: 'sk-a' }] },
      config: (urlA) => ({
        upstream: undefined,
        upstreams: [
          { id: 'a', baseUrl: urlA, keys: [{ id: 'key-a', apiKey: 'sk-a' }] },
          { id: 'b', baseUrl: urlB, priceFactor: 0.5, keys: [{ id: 'key-b', apiKey: 'sk-b' }] },
        ],
        reconcile: { afterMs: 1, intervalMs: 20 },
      }),
    });
    const created = await create(stack, { ...zImage, callBackUrl: 'https://hooks.example.org/acme' });
    const { taskId } = created.body.data;
    await pollUntil('reconciliation to end the task', async () => (await stack!.store.getTask(taskId))?.state === 'success');
    expect(simB.counters().recordInfo).toBeGreaterThanOrEqual(1);
    expect(stack.sim.counters()).toMatchObject({ createTask: 0, recordInfo: 0 });
  });

  it("an upstream of the public Market API: the body goes in its dialect, records and callbacks come back in LiangXin's", async () => {
    const { stack: s, simA, simB: b } = await twoUpstreams({}, { account: { dialect: 'market' }, upstream: { provider: 'market', priceFactor: 0.5 } });
    const created = await create(s, {
      model: 'seedream-v4-5',
      callBackUrl: 'https://hooks.example.org/acme',
      input: { prompt: 'A fox', enable_safety_checker: true },
    } as CreateTaskRequest);
    expect(created.status).toBe(200);
    expect(b.tasks().map((t) => t.model)).toEqual(['seedream/4.5-text-to-image']);
    expect(simA.tasks()).toHaveLength(0);
    const { taskId } = created.body.data;
    await pollUntil('the market callback', async () => (await s.store.getTask(taskId))?.state === 'success');
    const read = await raw(`${s.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: ACME_KEY });
    expect(read.body.data).toMatchObject({ taskId, model: 'seedream-v4-5', state: 'success' });
    expect(JSON.parse(read.body.data.param)).toMatchObject({ model: 'seedream-v4-5', input: { enable_safety_checker: true } });
  });

  it('a tenant of the public dialect, routed to a Market upstream: its body arrives as it meant it', async () => {
    const { stack: s, simB: b } = await twoUpstreams({}, { account: { dialect: 'market' }, upstream: { provider: 'market', priceFactor: 0.5 } });
    const publicBody = { model: 'seedream/4.5-text-to-image', input: { prompt: 'A fox', aspect_ratio: '16:9', quality: 'basic', nsfw_checker: false } };
    const created = await create(s, publicBody as unknown as CreateTaskRequest);
    expect(created.status).toBe(200);
    expect(b.tasks().map((t) => t.model)).toEqual(['seedream/4.5-text-to-image']);
    const read = await raw(`${s.url}/api/v1/jobs/recordInfo?taskId=${created.body.data.taskId}`, { key: ACME_KEY });
    expect(read.body.data.model).toBe('seedream/4.5-text-to-image');
    expect(JSON.parse(read.body.data.param)).toEqual(publicBody);
  });

  it('a body the Market API cannot express goes to the LiangXin upstream instead', async () => {
    const { stack: s, simA, simB: b } = await twoUpstreams({}, { account: { dialect: 'market' }, upstream: { provider: 'market', priceFactor: 0.5 } });
    const magnific = { model: 'seedream-v4-5', input: { prompt: 'A fox', aspect_ratio: 'widescreen_16_9' } } as CreateTaskRequest;
    expect((await create(s, magnific)).status).toBe(200);
    expect(counts(simA, b)).toEqual({ a: 1, b: 0 });
    expect(b.counters().createTask).toBe(0); // never sent what it could not take
  });
});
