// Records: affinity (a task is read with the key that created it), final records served from
// the store, concurrent polls sharing one upstream read, reads paced per key, and isolation.
import { afterEach, describe, expect, it } from 'vitest';
import { parseResult, type CreateTaskRequest } from '../../src/client/index.js';
import { ACME_KEY, GLOBEX_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { json, startScriptedServer, type ScriptedHandler, type ScriptedServer } from '../helpers/scripted-server.js';
import { manualClock } from '../helpers/wait.js';

let stack: Stack | undefined;
let upstream: ScriptedServer | undefined;
afterEach(async () => {
  await stack?.close();
  await upstream?.close();
  stack = upstream = undefined;
});

const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
const twoKeys = (simUrl: string) => ({
  upstream: {
    baseUrl: simUrl,
    keys: [
      { id: 'key-a', apiKey: 'sk-up-a' },
      { id: 'key-b', apiKey: 'sk-up-b' },
    ],
  },
});

describe('records', () => {
  it('reads every task with the key that created it (the provider shows a task to its creator only)', async () => {
    stack = await startStack({ config: twoKeys });
    const client = stack.client();
    const ids = await Promise.all(Array.from({ length: 6 }, async () => (await client.createTask(zImage)).taskId));
    expect(stack.sim.tasks('account-1').length).toBeGreaterThan(0);
    expect(stack.sim.tasks('account-2').length).toBeGreaterThan(0);
    for (const taskId of ids) {
      const record = await client.waitForTask(taskId, { initialDelayMs: 30 });
      expect(record.state).toBe('success');
      const row = await stack.store.getTask(taskId);
      const owner = stack.sim.tasks().find((t) => t.taskId === row!.providerTaskId)!.accountId;
      expect(row!.upstreamKeyId).toBe(owner === 'account-1' ? 'key-a' : 'key-b');
    }
  });

  it('stores the task with its tenant, key id, model, callBackUrl and times', async () => {
    stack = await startStack();
    const { taskId } = await stack.client().createTask({ ...zImage, callBackUrl: 'https://hooks.example.org/lx' });
    expect(await stack.store.getTask(taskId)).toMatchObject({
      taskId,
      tenantId: 'acme',
      upstreamKeyId: 'key-a',
      model: 'z-image',
      callBackUrl: 'https://hooks.example.org/lx',
      state: 'waiting',
      record: null,
      finalAt: null,
      gatewayTaskId: expect.stringMatching(/^gt_/),
      param: JSON.stringify({ ...zImage, callBackUrl: 'https://hooks.example.org/lx' }),
    });
    await stack.client().waitForTask(taskId, { initialDelayMs: 30 });
    expect(await stack.store.getTask(taskId)).toMatchObject({ state: 'success', finalAt: expect.any(Number) });
  });

  it('answers a final task from the store without calling the provider', async () => {
    stack = await startStack();
    const client = stack.client();
    const { taskId } = await client.createTask(zImage);
    const final = await client.waitForTask(taskId, { initialDelayMs: 30 });
    const reads = stack.sim.counters().recordInfo;
    for (let i = 0; i < 20; i++) expect(await client.getTask(taskId)).toEqual(final);
    expect(stack.sim.counters().recordInfo).toBe(reads);
    expect(parseResult(final).resultUrls).toHaveLength(1);
  });

  it('lets concurrent polls of one task share one upstream read', async () => {
    // The provider takes a second to answer: ample for all 20 polls to arrive while the first
    // read is in flight, even on a loaded machine.
    stack = await startStack({ simulator: { accounts: [{ apiKey: 'sk-up-a', quirks: ['slow=1000'] }] } });
    const client = stack.client();
    const { taskId } = await client.createTask(zImage);
    const before = stack.sim.counters().recordInfo;
    const records = await Promise.all(Array.from({ length: 20 }, () => client.getTask(taskId)));
    expect(new Set(records.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(stack.sim.counters().recordInfo - before).toBe(1);
  });

  it("stays within a key's recordInfo allowance, serving the last known record past it", async () => {
    // Visible upstream at once and never final (so every read would go upstream), and the
    // gateway's clock stands still: the per-second allowance cannot refill however slow the run.
    stack = await startStack({
      simulator: { timing: { visibleAfterMs: 0, waitingMs: 3_600_000 } },
      config: (simUrl) => ({ upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', recordInfoPerSecond: 2 }] } }),
      clock: manualClock(),
    });
    const client = stack.client();
    const { taskId } = await client.createTask(zImage);
    const first = await client.getTask(taskId);
    const before = stack.sim.counters().recordInfo;
    for (let i = 0; i < 10; i++) expect((await client.getTask(taskId)).state).toBe(first.state);
    expect(stack.sim.counters().recordInfo - before).toBeLessThanOrEqual(2);
  });
});

describe('a task the provider cannot show yet', () => {
  const withCallback = { ...zImage, callBackUrl: 'https://hooks.example.org/lx' };

  /** A provider that creates `task-1` and, asked about it, answers as `recordInfo` says. */
  async function provider(recordInfo: Parameters<typeof startScriptedServer>[0]) {
    upstream = await startScriptedServer((request, res, i) =>
      request.url.includes('createTask') ? json(res, 200, { code: 200, msg: 'success', data: { taskId: 'task-1' } }) : recordInfo(request, res, i),
    );
    stack = await startStack({
      upstreamUrl: upstream.url,
      config: () => ({ upstream: { baseUrl: upstream!.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a' }], timeoutMs: 300 } }),
    });
    // The tenant is answered with the gateway's id; the provider's is kept beside it.
    const created = await stack.client().createTask(withCallback);
    expect(created).toEqual({ taskId: expect.stringMatching(/^gt_/) });
    gatewayId = created.taskId;
    return stack;
  }
  let gatewayId = '';

  const waiting = () => ({
    taskId: gatewayId,
    providerTaskId: 'task-1',
    model: 'z-image',
    state: 'waiting',
    param: JSON.stringify(withCallback),
    resultJson: '',
    failCode: null,
    failMsg: null,
    costTime: null,
    completeTime: null,
    createTime: expect.any(Number),
    updateTime: expect.any(Number),
  });

  it.each([
    ['says "recordInfo is null"', ((_req, res) => json(res, 200, { code: 422, msg: 'recordInfo is null', data: null })) as ScriptedHandler],
    ['answers 500', ((_req, res) => json(res, 500, { code: 500, msg: 'Server error', data: null })) as ScriptedHandler],
    ['does not answer', (() => undefined) as ScriptedHandler],
  ])('answers what the gateway recorded when the provider %s: state waiting, HTTP 200', async (_name, recordInfo) => {
    const s = await provider(recordInfo);
    const answer = await raw(`${s.url}/api/v1/jobs/recordInfo?taskId=${gatewayId}`, { key: ACME_KEY });
    expect(answer).toMatchObject({ status: 200, body: { code: 200, msg: 'success', data: waiting() } });
    expect(parseResult(answer.body.data).param).toEqual(withCallback); // the tenant's own request
    expect(upstream!.requests.filter((r) => r.url.includes('recordInfo'))).toHaveLength(1);
  });

  it("answers the same past the key's recordInfo allowance, without asking the provider", async () => {
    upstream = await startScriptedServer((request, res) =>
      request.url.includes('createTask')
        ? json(res, 200, { code: 200, msg: 'success', data: { taskId: 'task-1' } })
        : json(res, 200, { code: 422, msg: 'recordInfo is null', data: null }),
    );
    stack = await startStack({
      upstreamUrl: upstream.url,
      config: () => ({ upstream: { baseUrl: upstream!.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a', recordInfoPerSecond: 1 }] } }),
    });
    gatewayId = (await stack.client().createTask(withCallback)).taskId;
    for (let i = 0; i < 5; i++) expect(await stack.client().getTask(gatewayId)).toMatchObject(waiting());
    expect(upstream.requests.filter((r) => r.url.includes('recordInfo')).length).toBeLessThanOrEqual(2);
  });
});

describe('isolation', () => {
  it("answers another tenant's task exactly like a task that does not exist", async () => {
    stack = await startStack();
    const { taskId } = await stack.client(ACME_KEY).createTask(zImage);
    await stack.client(ACME_KEY).waitForTask(taskId, { initialDelayMs: 30 });
    const theirs = await raw(`${stack.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: GLOBEX_KEY });
    const unknown = await raw(`${stack.url}/api/v1/jobs/recordInfo?taskId=task_z_image_0000000000000000000`, { key: GLOBEX_KEY });
    // provider mode (the default): LiangXin's public API answers it inside HTTP 200, code 422.
    expect(theirs.status).toBe(200);
    expect(theirs.body.code).toBe(422);
    expect(theirs.text).toBe(unknown.text);
    expect(theirs.status).toBe(unknown.status);
    const headers = (h: Headers) => [...h.entries()].filter(([k]) => !['x-request-id', 'date', 'etag'].includes(k));
    expect(headers(theirs.headers)).toEqual(headers(unknown.headers));
  });

  it("never lets a poll of one tenant read through another's task", async () => {
    stack = await startStack();
    const { taskId } = await stack.client(ACME_KEY).createTask(zImage);
    const before = stack.sim.counters().recordInfo;
    await raw(`${stack.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: GLOBEX_KEY });
    expect(stack.sim.counters().recordInfo).toBe(before); // refused before any upstream call
  });
});
