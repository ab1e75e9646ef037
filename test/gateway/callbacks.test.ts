// Callbacks end to end: the provider calls the gateway (never the tenant), the gateway records
// the end once, and delivers it to the tenant signed per Standard Webhooks, durably, with retries,
// whatever the provider's callbacks do (lost, late, duplicated, out of order, badly signed).
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyGatewayWebhook, type CreateTaskRequest, type TaskRecord } from '../../src/client/index.js';
import type { ConfigInput } from '../../src/config/index.js';
import { newCallbackToken } from '../../src/gateway/callbacks/inbound.js';
import { ACME_KEY, raw, startStack, type Stack, type StackOptions } from '../helpers/gateway-stack.js';
import { json, startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { HANG_CEILING_MS } from '../helpers/wait.js';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
let stack: Stack | undefined;
let receiver: ScriptedServer | undefined;
afterEach(async () => {
  await stack?.close();
  await receiver?.close();
  stack = receiver = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = HANG_CEILING_MS): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

interface Options {
  simulator?: StackOptions['simulator'];
  hmac?: { provider?: string; gateway?: string };
  receiver?: Parameters<typeof startScriptedServer>[0];
  config?: Partial<ConfigInput>;
}

async function start(options: Options = {}) {
  receiver = await startScriptedServer(options.receiver ?? ((_req, res) => res.writeHead(204).end()));
  stack = await startStack({
    simulator: { accounts: [{ apiKey: 'sk-up-a', hmacKey: options.hmac?.provider, quirks: [] }], ...options.simulator },
    config: (simUrl) => ({
      upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', webhookHmacKey: options.hmac?.gateway }] },
      tenants: [{ id: 'acme', apiKeys: [ACME_KEY], webhookSecret: SECRET }],
      callbacks: { allowHttp: true, allowHosts: ['127.0.0.1'], retryScheduleMs: [100, 100, 100], pollIntervalMs: 50 },
      reconcile: { afterMs: 300, intervalMs: 50, maxBackoffMs: 300, batch: 20 },
      ...options.config,
    }),
  });
  return stack;
}

const body = (url: string): CreateTaskRequest => ({ model: 'z-image', callBackUrl: url, input: { prompt: 'x', aspect_ratio: '1:1' } });

async function createWithCallback(s: Stack, path = '/hook') {
  const answer = await raw(`${s.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: body(`${receiver!.url}${path}`) });
  expect(answer.status).toBe(200);
  return answer.body.data.taskId as string;
}

function received() {
  return receiver!.requests.map((r) => ({ request: r, webhook: verifyGatewayWebhook({ body: r.body, headers: r.headers, secret: SECRET }) }));
}

describe('the provider calls the gateway, the gateway calls the tenant', () => {
  it('gives the provider its own URL, and the tenant a signed callback with the final record', async () => {
    const s = await start();
    const taskId = await createWithCallback(s);
    const [delivery] = await until('the tenant callback', () => (receiver!.requests.length ? received() : undefined));
    // The provider posted to the gateway, never to the tenant.
    expect(s.sim.callbacks.map((c) => c.url)).toEqual([expect.stringMatching(new RegExp(`^${s.url}/callbacks/liangxin/[A-Za-z0-9_-]{32}$`))]);
    expect(s.sim.callbacks[0]!.status).toBe(200);
    expect(delivery!.request.url).toBe('/hook');
    const record = delivery!.webhook.payload.data as TaskRecord;
    expect(delivery!.webhook.payload.code).toBe(200);
    expect(record).toMatchObject({ taskId, state: 'success' });
    // The token never reaches the tenant: param carries the tenant's own callBackUrl.
    expect(JSON.parse(record.param).callBackUrl).toBe(`${receiver!.url}/hook`);
    const read = await raw(`${s.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: ACME_KEY });
    expect(read.text).not.toContain('/callbacks/liangxin/');
    await sleep(200);
    expect(receiver!.requests).toHaveLength(1);
  });

  it('verifies the provider\'s signature when the key has an HMAC key', async () => {
    const s = await start({ hmac: { provider: 'whk-shared', gateway: 'whk-shared' } });
    await createWithCallback(s);
    await until('the tenant callback', () => receiver!.requests.length > 0);
    expect(s.sim.callbacks[0]!).toMatchObject({ signed: true, status: 200 });
  });

  it('refuses a badly signed provider callback, and still ends the task by polling', async () => {
    const s = await start({ hmac: { provider: 'whk-theirs', gateway: 'whk-ours' } });
    const taskId = await createWithCallback(s);
    await until('the provider callback', () => s.sim.callbacks.length > 0);
    expect(s.sim.callbacks[0]!.status).toBe(401);
    const [delivery] = await until('the tenant callback', () => (receiver!.requests.length ? received() : undefined));
    expect(delivery!.webhook.payload.data.taskId).toBe(taskId);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/lxg_refusals_total\{reason="callback_signature"\} 1/);
  });

  it('refuses unknown tokens and callbacks of another task, changing nothing', async () => {
    const s = await start({ simulator: { timing: 'realistic' } });
    const taskId = await createWithCallback(s);
    const fake = { code: 200, msg: 'ok', data: { taskId, model: 'z-image', state: 'success', param: '', resultJson: '{"resultUrls":["http://x/y.png"]}', failCode: null, failMsg: null, costTime: 1, completeTime: Date.now(), createTime: Date.now() - 1000 } };
    expect((await raw(`${s.url}/callbacks/liangxin/not-a-token`, { body: fake })).status).toBe(404);
    expect((await s.store.getTask(taskId))!.state).toBe('waiting');
  });

  const storedTask = (taskId: string, tokenHash: string, now: number) => ({
    taskId, tenantId: 'acme', upstreamKeyId: 'key-a', model: 'z-image', callBackUrl: null, state: 'waiting' as const, record: null,
    createdAt: now - 1000, updatedAt: 0, finalAt: null, slotId: `slot-${taskId}`, estimatedCostUsd: 0.01, actualCostUsd: null,
    callbackTokenHash: tokenHash, nextCheckAt: now + 60_000, checks: 0,
  });
  const finalRecord = (taskId: string, now: number) => ({ taskId, model: 'z-image', state: 'success', param: '{}', resultJson: '{"resultUrls":["http://x/y.png"]}', failCode: null, failMsg: null, costTime: 1, completeTime: now, createTime: now - 1000, updateTime: now });

  it('accepts a callback that arrives before its task is stored (the provider does not resend)', async () => {
    const s = await start({ simulator: { timing: 'realistic' } });
    const token = newCallbackToken();
    const now = Date.now();
    const calling = raw(`${s.url}/callbacks/liangxin/${token.token}`, { body: { code: 200, msg: 'success', data: finalRecord('task-early', now) } });
    await sleep(60); // the createTask that made it is still on its way to the store
    await s.store.insertTask(storedTask('task-early', token.hash, now));
    expect((await calling).status).toBe(200);
    expect(await s.store.getTask('task-early')).toMatchObject({ state: 'success', finalAt: now, nextCheckAt: null });
  });

  it("refuses one task's token on a callback naming another task", async () => {
    const s = await start({ simulator: { timing: 'realistic' } });
    const [mine, other] = [newCallbackToken(), newCallbackToken()];
    const now = Date.now();
    await s.store.insertTask(storedTask('task-mine', mine.hash, now));
    await s.store.insertTask(storedTask('task-other', other.hash, now));
    // A wrong token does not wait for the task to appear: one lookup, not the retries an unknown
    // task gets (counted, rather than timed against a machine's speed).
    const lookups: string[] = [];
    const getTask = s.store.getTask;
    s.store.getTask = (taskId) => (lookups.push(taskId), getTask(taskId));
    const forged = await raw(`${s.url}/callbacks/liangxin/${mine.token}`, { body: { code: 200, msg: 'success', data: finalRecord('task-other', now) } });
    expect(forged).toMatchObject({ status: 404, body: { code: 404, msg: 'Unknown callback' } });
    expect(lookups).toEqual(['task-other']);
    s.store.getTask = getTask;
    expect(await s.store.getTask('task-other')).toMatchObject({ state: 'waiting' });
    const genuine = await raw(`${s.url}/callbacks/liangxin/${other.token}`, { body: { code: 200, msg: 'success', data: finalRecord('task-other', now) } });
    expect(genuine.status).toBe(200);
    expect(await s.store.getTask('task-other')).toMatchObject({ state: 'success' });
  });

  // How many callbacks the provider sends for three tasks, per quirk: waited for before checking.
  const providerCallbacks: Record<string, number> = { 'callback=lost': 0, 'callback=late': 3, 'callback=duplicate': 6, 'callback=out-of-order': 6 };
  for (const quirk of Object.keys(providerCallbacks)) {
    it(`delivers every final state exactly once when the provider's callback is ${quirk.split('=')[1]}`, async () => {
      const s = await start({ simulator: { accounts: [{ apiKey: 'sk-up-a', quirks: [quirk] }], timing: { lateCallbackMs: 600 } } });
      const ids = [await createWithCallback(s), await createWithCallback(s), await createWithCallback(s)];
      await until('three tenant callbacks', () => receiver!.requests.length >= 3);
      await until('every provider callback answered', () => s.sim.callbacks.length >= providerCallbacks[quirk]!);
      await sleep(900); // and any (wrong) second delivery they caused would be sent meanwhile
      const deliveries = received();
      expect(deliveries.map((d) => d.webhook.payload.data.taskId).sort()).toEqual([...ids].sort());
      expect(deliveries.every((d) => d.webhook.payload.data.state === 'success')).toBe(true);
      for (const taskId of ids) expect((await s.store.getTask(taskId))!.state).toBe('success');
    });
  }
});

describe('durable delivery to the tenant', () => {
  it('retries with the same webhook-id until the receiver answers 2xx', async () => {
    const s = await start({ receiver: (_req, res, i) => (i < 2 ? json(res, 500, { error: 'down' }) : res.writeHead(200).end()) });
    const taskId = await createWithCallback(s);
    await until('three attempts', () => receiver!.requests.length >= 3);
    const deliveries = received();
    expect(new Set(deliveries.map((d) => d.webhook.id)).size).toBe(1); // every attempt verified, one id
    const listed = await s.admin('GET', `/deliveries?taskId=${taskId}`);
    expect(listed.body.data).toMatchObject([{ state: 'delivered', attempts: 3, lastStatus: 200 }]);
  });

  it('stops at 410, marks failed after the last attempt, and redelivers on request', async () => {
    const s = await start({ receiver: (_req, res) => res.writeHead(410).end() });
    const gone = await createWithCallback(s);
    await until('the 410', async () => (await s.admin('GET', `/deliveries?taskId=${gone}`)).body.data[0]?.state === 'failed');
    expect(receiver!.requests).toHaveLength(1);

    await receiver!.close();
    receiver = await startScriptedServer((_req, res) => json(res, 503, {}, { 'retry-after': '0' }));
    const failing = await createWithCallback(s);
    const [failed] = await until('the last attempt', async () => {
      const rows = (await s.admin('GET', `/deliveries?taskId=${failing}`)).body.data;
      return rows[0]?.state === 'failed' ? rows : undefined;
    });
    expect(failed).toMatchObject({ attempts: 4, lastStatus: 503 }); // the first attempt and 3 retries
    const again = await s.admin('POST', `/deliveries/${failed.id}/redeliver`);
    expect(again.body.data).toMatchObject({ id: failed.id, state: 'pending' });
    await until('a fifth attempt', () => receiver!.requests.length >= 5);
  });
});

describe('reconciliation', () => {
  it('gives up on a task past the maximum lifetime, ends it in fail, frees its slot and tells the tenant', async () => {
    const s = await start({
      // Generating for an hour: the provider never ends it, however long the run takes.
      simulator: { timing: { generatingMs: 3_600_000 }, accounts: [{ apiKey: 'sk-up-a', quirks: ['callback=lost'] }] },
      config: { tasks: { maxLifetimeMs: 700 }, tenants: [{ id: 'acme', apiKeys: [ACME_KEY], webhookSecret: SECRET, quotas: { maxInFlight: 1 } }] },
    });
    const taskId = await createWithCallback(s);
    const [delivery] = await until('the tenant callback', () => (receiver!.requests.length ? received() : undefined));
    expect(delivery!.webhook.payload).toMatchObject({ code: 501, data: { taskId, state: 'fail', failCode: 'GATEWAY_GAVE_UP' } });
    expect(delivery!.webhook.payload.data.failMsg).toMatch(/stopped waiting/);
    expect((await raw(`${s.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: body(`${receiver!.url}/hook`) })).status).toBe(200);
  });
});

describe('callBackUrl is checked before anything is sent', () => {
  it.each([
    ['http://10.0.0.7/hook', /private/],
    ['https://169.254.169.254/latest/meta-data', /link-local|metadata/],
    ['ftp://example.org/hook', /https/],
  ])('refuses %s with 422 naming the field', async (url, reason) => {
    const s = await start({ config: { callbacks: { allowHttp: true, allowHosts: [] } } });
    const answer = await raw(`${s.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: body(url) });
    expect(answer.status).toBe(422);
    expect(answer.body.data.errors[0].path).toBe('callBackUrl');
    expect(answer.body.msg).toMatch(reason);
    expect(s.sim.counters().createTask).toBe(0);
  });

  it('refuses a callBackUrl from a tenant without a webhookSecret', async () => {
    const s = await start({ config: { tenants: [{ id: 'acme', apiKeys: [ACME_KEY] }] } });
    const answer = await raw(`${s.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: body(`${receiver!.url}/hook`) });
    expect(answer).toMatchObject({ status: 422, body: { data: { errors: [{ path: 'callBackUrl' }] } } });
  });
});
