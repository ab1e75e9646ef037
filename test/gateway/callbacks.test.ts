// Callbacks end to end: the provider calls the gateway (never the tenant), the gateway records
// the end once, and delivers it to the tenant signed per Standard Webhooks, durably, with retries,
// whatever the provider's callbacks do (lost, late, duplicated, out of order, badly signed).
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyGatewayWebhook, type CreateTaskRequest, type TaskRecord } from '../../src/client/index.js';
import type { ConfigInput } from '../../src/config/index.js';
import { createCallbackReceiver, newCallbackToken } from '../../src/gateway/callbacks/inbound.js';
import { ACME_KEY, raw, startStack, type Stack, type StackOptions } from '../helpers/gateway-stack.js';
import { freshPostgres, type FreshPostgres } from '../helpers/postgres.js';
import { json, startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { pollUntil } from '../helpers/wait.js';
import { successRecord } from '../fixtures/records.js';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
let stack: Stack | undefined;
let receiver: ScriptedServer | undefined;
let postgres: FreshPostgres | undefined;
afterEach(async () => {
  await stack?.close();
  await receiver?.close();
  await postgres?.drop();
  stack = receiver = postgres = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether the promise settles within `turns` turns of the event loop (timers never get to run). */
async function settlesWithinTurns(promise: Promise<unknown>, turns: number): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < turns && !settled; i++) await new Promise((r) => setImmediate(r));
  return settled;
}

/** Polls until the probe gives a value (the suite's one ceiling: never the machine's speed). */
const until = pollUntil;

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
    // …at a URL naming the task by the gateway's own id, with the task's token.
    expect(s.sim.callbacks.map((c) => c.url)).toEqual([
      expect.stringMatching(new RegExp(`^${s.url}/callbacks/liangxin/gt_[0-9a-z]{9}[0-9a-f]{16}/[A-Za-z0-9_-]{32}$`)),
    ]);
    const [, gatewayTaskId] = /\/(gt_[^/]+)\//.exec(s.sim.callbacks[0]!.url)!;
    expect(await s.store.getTask(taskId)).toMatchObject({ gatewayTaskId, state: 'success' });
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

  it("verifies the provider's signature when the key has an HMAC key", async () => {
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
    const fake = {
      code: 200,
      msg: 'ok',
      data: {
        taskId,
        model: 'z-image',
        state: 'success',
        param: '',
        resultJson: '{"resultUrls":["http://x/y.png"]}',
        failCode: null,
        failMsg: null,
        costTime: 1,
        completeTime: Date.now(),
        createTime: Date.now() - 1000,
      },
    };
    const { gatewayTaskId } = (await s.store.getTask(taskId))!;
    expect((await raw(`${s.url}/callbacks/liangxin/not-a-token`, { body: fake })).status).toBe(404);
    expect((await raw(`${s.url}/callbacks/liangxin/${gatewayTaskId}/not-a-token`, { body: fake })).status).toBe(404);
    expect((await s.store.getTask(taskId))!.state).toBe('waiting');
  });

  const storedTask = (taskId: string, tokenHash: string, now: number, gatewayTaskId: string | null = `gt_${taskId}`) => ({
    taskId,
    gatewayTaskId,
    tenantId: 'acme',
    upstreamKeyId: 'key-a',
    model: 'z-image',
    callBackUrl: null,
    state: 'waiting' as const,
    record: null,
    param: '{}',
    createdAt: now - 1000,
    updatedAt: 0,
    finalAt: null,
    slotId: `slot-${taskId}`,
    estimatedCostMicros: 10_000,
    actualCostMicros: null,
    callbackTokenHash: tokenHash,
    nextCheckAt: now + 60_000,
    checks: 0,
    // A row confirmed before migration 0009: keyed by the provider's id, which it also records.
    providerTaskId: taskId,
  });
  const finalRecord = (taskId: string, now: number) => successRecord({ taskId, now, resultUrls: ['http://x/y.png'] });
  const callback = (s: Stack, path: string, taskId: string, now: number) =>
    raw(`${s.url}/callbacks/liangxin/${path}`, { body: { code: 200, msg: 'success', data: finalRecord(taskId, now) } });

  it('answers an unknown task and a wrong token alike, at once, and lets a token serve its own task only', async () => {
    const s = await start({ simulator: { timing: 'realistic' } });
    const [mine, other] = [newCallbackToken(), newCallbackToken()];
    const now = Date.now();
    await s.store.insertTask(storedTask('task-mine', mine.hash, now));
    await s.store.insertTask(storedTask('task-other', other.hash, now));
    const unknownTask = await callback(s, `gt_nobody/${other.token}`, 'task-nobody', now);
    const wrongToken = await callback(s, `gt_task-other/${mine.token}`, 'task-other', now);
    const otherNamed = await callback(s, `gt_task-mine/${mine.token}`, 'task-other', now); // my URL, naming another task
    const headers = (h: Headers) => [...h.entries()].filter(([k]) => !['x-request-id', 'date'].includes(k));
    for (const refused of [wrongToken, otherNamed]) {
      expect(refused).toMatchObject({ status: 404, body: { code: 404, msg: 'Unknown callback' } });
      expect(refused.text).toBe(unknownTask.text);
      expect(headers(refused.headers)).toEqual(headers(unknownTask.headers));
    }
    expect(await s.store.getTask('task-other')).toMatchObject({ state: 'waiting' });
    expect(await s.store.getTask('task-mine')).toMatchObject({ state: 'waiting' });

    // Nothing waits for an unknown task to appear (it is stored before the provider hears of
    // it): both refusals settle within a few turns of the event loop, with no timer to run.
    const receive = createCallbackReceiver(s.gateway.context);
    const refusal = (gatewayTaskId: string, token: string) =>
      receive({ target: { gatewayTaskId, token }, payload: { code: 200, msg: 'success', data: finalRecord('task-other', now) }, headers: {}, locals: {} });
    for (const [gatewayTaskId, token] of [
      ['gt_nobody', other.token],
      ['gt_task-other', mine.token],
    ] as const) {
      const pending = refusal(gatewayTaskId, token);
      expect(await settlesWithinTurns(pending, 50)).toBe(true);
      await expect(pending).rejects.toMatchObject({ code: 404, reason: 'callback_unknown' });
    }

    expect((await callback(s, `gt_task-other/${other.token}`, 'task-other', now)).status).toBe(200);
    expect(await s.store.getTask('task-other')).toMatchObject({ state: 'success' });
  });

  it('accepts callbacks at the URLs given before tasks were recorded first (token only)', async () => {
    const s = await start({ simulator: { timing: 'realistic' } });
    const [old, other] = [newCallbackToken(), newCallbackToken()];
    const now = Date.now();
    await s.store.insertTask(storedTask('task-old', old.hash, now, null));
    await s.store.insertTask(storedTask('task-new', other.hash, now));
    expect((await callback(s, other.token, 'task-old', now)).status).toBe(404); // not its token
    expect((await callback(s, old.token, 'task-old', now)).status).toBe(200);
    expect(await s.store.getTask('task-old')).toMatchObject({ state: 'success', finalAt: now, nextCheckAt: null });
  });

  // How many callbacks the provider sends for three tasks, per quirk: waited for before checking.
  const providerCallbacks: Record<string, number> = { 'callback=lost': 0, 'callback=late': 3, 'callback=duplicate': 6, 'callback=out-of-order': 6 };
  for (const quirk of Object.keys(providerCallbacks)) {
    it(`delivers every final state exactly once when the provider's callback is ${quirk.split('=')[1]}`, async () => {
      const s = await start({ simulator: { accounts: [{ apiKey: 'sk-up-a', quirks: [quirk] }], timing: { lateCallbackMs: 600 } } });
      const ids = [await createWithCallback(s), await createWithCallback(s), await createWithCallback(s)];
      await until('three tenant callbacks', () => receiver!.requests.length >= 3);
      await until('every provider callback answered', () => s.sim.callbacks.length >= providerCallbacks[quirk]!);
      // A final state and its delivery are stored together, so once every provider callback was
      // answered, a (wrong) second delivery would be a second row: each task has one, delivered.
      for (const taskId of ids) {
        const rows = await until(`the delivery of ${taskId}`, async () => {
          const found = (await s.admin('GET', `/deliveries?taskId=${taskId}`)).body.data as Array<{ state: string }>;
          return found.length > 0 && found.every((d) => d.state === 'delivered') ? found : undefined;
        });
        expect(rows).toHaveLength(1);
      }
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

describe('durable delivery on both dialects: whole-millisecond retry times', () => {
  // The retry time is jittered (a fraction of a millisecond before rounding): PostgreSQL's bigint
  // refused it, so the failed attempt was never recorded and the delivery sat until its lease
  // (60 s) ran out, with attempts stuck at 0; SQLite stored the fraction. Here every retry is
  // 100 ms and the lease 60 s: the delivery can only reach `failed` within the ceiling if each
  // attempt is recorded.
  const stores = {
    SQLite: async () => 'sqlite::memory:',
    PostgreSQL: async () => {
      postgres = await freshPostgres();
      return postgres.url;
    },
  };
  for (const [dialect, storeUrl] of Object.entries(stores)) {
    it(`${dialect}: records every failed attempt with an integer next time, and gives up after the schedule`, async () => {
      const s = await start({ receiver: (_req, res) => json(res, 503, { error: 'down' }), config: { store: await storeUrl() } });
      const taskId = await createWithCallback(s);
      const [failed] = await until('the last attempt', async () => {
        const rows = (await s.admin('GET', `/deliveries?taskId=${taskId}`)).body.data;
        return rows[0]?.state === 'failed' ? rows : undefined;
      });
      expect(failed).toMatchObject({ attempts: 4, lastStatus: 503, leaseOwner: null });
      expect(receiver!.requests).toHaveLength(4);
      // The last retry time written (a failed outcome leaves it): whole milliseconds.
      expect(Number.isSafeInteger(failed.nextAttemptAt)).toBe(true);
      expect(s.logs.filter((l) => l.msg === 'outbox: attempt failed unexpectedly')).toEqual([]);
    });

    it(`${dialect}: a receiver's absurd Retry-After waits the schedule's longest step, not for ever`, async () => {
      const s = await start({ receiver: (_req, res) => json(res, 503, {}, { 'retry-after': '99999999999999999999' }), config: { store: await storeUrl() } });
      const taskId = await createWithCallback(s);
      const [failed] = await until('the last attempt', async () => {
        const rows = (await s.admin('GET', `/deliveries?taskId=${taskId}`)).body.data;
        return rows[0]?.state === 'failed' ? rows : undefined;
      });
      expect(failed).toMatchObject({ attempts: 4, lastStatus: 503 });
      expect(Number.isSafeInteger(failed.nextAttemptAt)).toBe(true);
    });
  }
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
  ])('refuses %s with 400 naming the field', async (url, reason) => {
    const s = await start({ config: { callbacks: { allowHttp: true, allowHosts: [] } } });
    const answer = await raw(`${s.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: body(url) });
    expect(answer.status).toBe(400);
    expect(answer.body.data.errors[0].path).toBe('callBackUrl');
    expect(answer.body.msg).toMatch(reason);
    expect(s.sim.counters().createTask).toBe(0);
  });

  it('refuses a callBackUrl from a tenant without a webhookSecret', async () => {
    const s = await start({ config: { tenants: [{ id: 'acme', apiKeys: [ACME_KEY] }] } });
    const answer = await raw(`${s.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: body(`${receiver!.url}/hook`) });
    expect(answer).toMatchObject({ status: 400, body: { data: { errors: [{ path: 'callBackUrl' }] } } });
  });
});
