// A task is recorded before the provider hears of it (issue 13, item 5). For each outcome of the
// provider's createTask, what becomes of the row and of the quota slot: created (the row takes
// the provider's id), refused so that nothing was started (the row goes, the slot comes back),
// unknown (a timeout, a 5xx: the row stays in doubt and holds its slot until the provider's
// callback confirms it or the task's maximum lifetime gives it up). A scripted provider plays
// each outcome exactly.
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTaskRequest } from '../../src/client/index.js';
import type { ConfigInput } from '../../src/config/index.js';
import { ACME_KEY, ACME_WEBHOOK_SECRET, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { json, startScriptedServer, type RecordedRequest, type ScriptedHandler, type ScriptedServer } from '../helpers/scripted-server.js';
import { pollUntil } from '../helpers/wait.js';
import { successRecord } from '../fixtures/records.js';

let stack: Stack | undefined;
let upstream: ScriptedServer | undefined;
let receiver: ScriptedServer | undefined;
afterEach(async () => {
  await stack?.close();
  await upstream?.close();
  await receiver?.close();
  stack = upstream = receiver = undefined;
});

const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until the probe gives a value (the suite's one ceiling: never the machine's speed). */
const until = pollUntil;

const created =
  (taskId: string): ScriptedHandler =>
  (_req, res) =>
    json(res, 200, { code: 200, msg: 'success', data: { taskId } });
const hold: ScriptedHandler = () => undefined; // never answers: the gateway's upstream timeout ends it

/** The provider's callback for the createTask `request` it received, naming `taskId` as done. */
function callBack(request: RecordedRequest, taskId: string, credits = 2) {
  const body = JSON.parse(request.body) as { callBackUrl: string };
  const now = Date.now();
  const record = successRecord({ taskId, now, param: request.body, creditsConsumed: credits });
  return raw(body.callBackUrl, { body: { code: 200, msg: 'success', data: record } });
}

const gatewayIdOf = (request: RecordedRequest) => /\/callbacks\/liangxin\/(gt_[^/]+)\//.exec(JSON.parse(request.body).callBackUrl)![1]!;

/** The gateway in front of a scripted provider whose createTask answers play `answers` in turn. */
async function start(answers: ScriptedHandler[], config: Partial<ConfigInput> = {}, health: Record<string, number> = {}) {
  upstream = await startScriptedServer((request, res, i) => (answers[i] ?? answers.at(-1)!)(request, res, i));
  const keys = [
    { id: 'key-a', apiKey: 'sk-up-a' },
    { id: 'key-b', apiKey: 'sk-up-b' },
  ];
  stack = await startStack({
    upstreamUrl: upstream.url,
    config: () => ({
      upstream: { baseUrl: upstream!.url, keys, timeoutMs: 300, health },
      tenants: [{ id: 'acme', apiKeys: [ACME_KEY], webhookSecret: ACME_WEBHOOK_SECRET, quotas: { maxInFlight: 1 } }],
      reconcile: { afterMs: 60_000, intervalMs: 50, maxBackoffMs: 60_000, batch: 20 },
      ...config,
    }),
  });
  return stack;
}

const create = (s: Stack, body: CreateTaskRequest = zImage) => raw(`${s.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body });
const usage = async (s: Stack) => (await s.admin('GET', '/usage?groupBy=model')).body.data as Array<Record<string, number>>;

describe('a task is recorded before it is sent', () => {
  it("is stored, sending, with the tenant's request, before the provider hears of it; then records the provider's id", async () => {
    let seen: unknown;
    const s = await start([
      (request, res, i) => {
        // What the store holds while the provider has the request in hand.
        void s.store.getTaskByGatewayId(gatewayIdOf(request)).then((row) => {
          seen = row;
          created('task-1')(request, res, i);
        });
      },
    ]);
    const answer = await create(s);
    const gatewayTaskId = gatewayIdOf(upstream!.requests[0]!);
    // The tenant holds the gateway's id; the provider's is kept beside it.
    expect(answer).toMatchObject({ status: 200, body: { data: { taskId: gatewayTaskId } } });
    expect(seen).toMatchObject({
      taskId: gatewayTaskId,
      gatewayTaskId,
      state: 'sending',
      tenantId: 'acme',
      upstreamKeyId: 'key-a',
      param: JSON.stringify(zImage),
      finalAt: null,
    });
    expect(await s.store.getTask(gatewayTaskId)).toMatchObject({ taskId: gatewayTaskId, providerTaskId: 'task-1', state: 'waiting', upstreamKeyId: 'key-a' });
    expect(await s.store.getTask('task-1')).toBeUndefined();
  });

  it('a refusal that proves nothing was started leaves no row and gives the slot back', async () => {
    const credits = (_req: RecordedRequest, res: Parameters<ScriptedHandler>[1]) => json(res, 200, { code: 402, msg: 'Credits insufficient', data: null });
    const s = await start([credits, credits, created('task-2')], {}, { exhaustedRetryMs: 1 });
    expect((await create(s)).status).toBe(503); // both keys refused
    expect(await s.store.countTasks()).toBe(0);
    await sleep(5); // the keys' rest (1 ms) is over
    expect(await create(s)).toMatchObject({ status: 200, body: { data: { taskId: expect.stringMatching(/^gt_/) } } }); // maxInFlight 1: the slot came back
  });

  it('after a key refused it, the row names the key that has it', async () => {
    const s = await start([(_req, res) => json(res, 200, { code: 429, msg: 'Too many requests', data: null }), hold]);
    expect((await create(s)).status).toBe(502);
    const [first, second] = upstream!.requests;
    expect(gatewayIdOf(first!)).toBe(gatewayIdOf(second!)); // one task, one row, two keys
    expect(await s.store.getTaskByGatewayId(gatewayIdOf(second!))).toMatchObject({
      state: 'sending',
      upstreamKeyId: second!.headers.authorization === 'Bearer sk-up-a' ? 'key-a' : 'key-b',
    });
    expect(first!.headers.authorization).not.toBe(second!.headers.authorization);
  });
});

describe('a task whose createTask outcome is unknown', () => {
  it("stays in doubt, counted and holding its slot, until the provider's callback confirms it", async () => {
    const s = await start([hold, created('task-next')]);
    const timedOut = await create(s);
    expect(timedOut).toMatchObject({ status: 502, body: { code: 502, data: { attempts: [{ outcome: 'no answer' }] } } });
    expect(timedOut.body.msg).toMatch(/may or may not have been created, so it was not resent/);
    const gatewayTaskId = gatewayIdOf(upstream!.requests[0]!);
    expect(await s.store.getTaskByGatewayId(gatewayTaskId)).toMatchObject({ state: 'sending', finalAt: null, slotId: expect.any(String) });
    expect(await usage(s)).toMatchObject([{ tenantId: 'acme', tasks: 1, open: 1 }]);
    expect(await create(s)).toMatchObject({ status: 429, body: { data: { limit: 'maxInFlight' } } }); // it holds the slot
    expect(upstream!.requests).toHaveLength(1); // never resent

    // The provider had started it after all: its callback names the row and gives its id.
    expect((await callBack(upstream!.requests[0]!, 'task-late')).status).toBe(200);
    expect(await s.store.getTask(gatewayTaskId)).toMatchObject({ providerTaskId: 'task-late', state: 'success' });
    expect((await s.client().getTask(gatewayTaskId)).state).toBe('success');
    expect(await usage(s)).toMatchObject([{ tasks: 1, succeeded: 1, open: 0 }]);
    expect(await create(s)).toMatchObject({ status: 200, body: { data: { taskId: expect.stringMatching(/^gt_/) } } }); // the slot is free again
  });

  it('is given up at its maximum lifetime: fail with GATEWAY_UNCONFIRMED, its slot freed, no tenant callback', async () => {
    receiver = await startScriptedServer((_req, res) => res.writeHead(204).end());
    const s = await start([hold, created('task-next')], {
      tasks: { maxLifetimeMs: 600 },
      callbacks: { allowHttp: true, allowHosts: ['127.0.0.1'], pollIntervalMs: 50 },
    });
    expect((await create(s, { ...zImage, callBackUrl: `${receiver.url}/hook` })).status).toBe(502);
    const gatewayTaskId = gatewayIdOf(upstream!.requests[0]!);
    const row = await until('the task given up', async () => {
      const found = await s.store.getTaskByGatewayId(gatewayTaskId);
      return found?.finalAt ? found : undefined;
    });
    expect(row).toMatchObject({ taskId: gatewayTaskId, state: 'fail' });
    expect(JSON.parse(row.record!)).toMatchObject({ state: 'fail', failCode: 'GATEWAY_UNCONFIRMED', failMsg: expect.stringMatching(/never confirmed/) });
    expect(await s.admin('GET', `/deliveries?taskId=${gatewayTaskId}`)).toMatchObject({ body: { data: [] } });
    expect(await create(s)).toMatchObject({ status: 200, body: { data: { taskId: expect.stringMatching(/^gt_/) } } });
    expect(receiver.requests).toHaveLength(0);
  });

  it('a callback that beats the createTask answer confirms the task, and the answer then changes nothing', async () => {
    let callbackStatus: number | undefined;
    const s = await start([
      (request, res, i) => {
        // The provider ends the task at once and calls back before answering createTask.
        void callBack(request, 'task-fast').then((answer) => {
          callbackStatus = answer.status;
          created('task-fast')(request, res, i);
        });
      },
    ]);
    const answer = await create(s);
    expect(answer).toMatchObject({ status: 200, body: { data: { taskId: gatewayIdOf(upstream!.requests[0]!) } } });
    expect(callbackStatus).toBe(200);
    expect(await s.store.getTask(answer.body.data.taskId)).toMatchObject({
      providerTaskId: 'task-fast',
      state: 'success',
      finalAt: expect.any(Number),
      nextCheckAt: null,
    });
    expect((await s.client().getTask(answer.body.data.taskId)).state).toBe('success');
  });
});
