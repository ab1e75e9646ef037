// kill -9 between the provider starting a task and the gateway recording its answer (issue 13,
// item 5: 49 of 139 such tasks were lost in one test). A scripted provider takes every createTask
// and holds its answer; the gateway process is killed with SIGKILL while the provider has them;
// another gateway process starts on the same store. The tasks are still there: they hold the
// tenant's in-flight slots, and the provider's callbacks (at the URLs it was given) find and
// confirm each one, so tenants, usage and budgets see them all.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/index.js';
import { spawnGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { SEND_AT_ONCE } from '../helpers/gateway-stack.js';
import { json, startScriptedServer, type RecordedRequest, type ScriptedServer } from '../helpers/scripted-server.js';
import { successRecord } from '../fixtures/records.js';

const TASKS = 12;
const ADMIN = 'crash-test-admin-token-0123456789';
const KEY = 'lxg_crash_acme_0123456789abcdef';
const zImage = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let provider: ScriptedServer;
const gateways: GatewayProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lxg-crash-'));
  // The first TASKS createTask are held (the provider "has" them); any later one is answered.
  provider = await startScriptedServer((_req, res, i) => {
    if (i >= TASKS) json(res, 200, { code: 200, msg: 'success', data: { taskId: `task-after-${i}` } });
  });
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.kill('SIGKILL')));
  await provider?.close();
  await rm(dir, { recursive: true, force: true });
});

function config(): ConfigInput {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    store: `sqlite:${join(dir, 'gateway.db')}`,
    upstream: { baseUrl: provider.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1000 }], timeoutMs: 120_000 },
    tenants: [{ id: 'acme', apiKeys: [KEY], quotas: { maxInFlight: TASKS } }],
    admin: { token: ADMIN },
    log: { level: 'warn' },
    // Killed while createTask is at the provider, before the tenant is answered: the send-at-once path.
    queue: SEND_AT_ONCE,
  };
}

async function start(): Promise<GatewayProcess> {
  const gateway = await spawnGateway(config(), { timeoutMs: 60_000 });
  gateways.push(gateway);
  return gateway;
}

async function post(gateway: GatewayProcess) {
  const response = await fetch(`${gateway.url}/api/v1/jobs/createTask`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(zImage),
  });
  return { status: response.status, body: (await response.json()) as { code: number; data: any } };
}

/** The provider's callback for the createTask `request`, sent where the gateway now listens. */
async function callBack(gateway: GatewayProcess, request: RecordedRequest, taskId: string) {
  const given = new URL((JSON.parse(request.body) as { callBackUrl: string }).callBackUrl);
  const now = Date.now();
  const data = successRecord({ taskId, now, param: request.body, creditsConsumed: 2 });
  const response = await fetch(`${gateway.url}${given.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: 200, msg: 'success', data }),
  });
  return response.status;
}

async function usage(gateway: GatewayProcess) {
  const response = await fetch(`${gateway.url}/admin/v1/usage?groupBy=model`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return ((await response.json()) as { data: Array<{ tasks: number; succeeded: number; open: number }> }).data;
}

describe('kill -9 while the provider holds the tasks', () => {
  it("loses none: each is found by the provider's callback, and counted all along", async () => {
    const doomed = await start();
    const answers = Array.from({ length: TASKS }, () => post(doomed).catch(() => 'connection lost' as const));
    for (let i = 0; i < 2400 && provider.requests.length < TASKS; i++) await sleep(25);
    expect(provider.requests).toHaveLength(TASKS);
    await doomed.kill('SIGKILL');
    expect(await Promise.all(answers)).toEqual(Array(TASKS).fill('connection lost')); // no tenant learnt a task id

    const next = await start();
    // Across the restart the tasks in doubt still hold the tenant's in-flight slots, and show in usage.
    expect(await post(next)).toMatchObject({ status: 429, body: { data: { limit: 'maxInFlight' } } });
    expect(await usage(next)).toMatchObject([{ tasks: TASKS, open: TASKS, succeeded: 0 }]);

    const statuses = await Promise.all(provider.requests.map((request, i) => callBack(next, request, `task-${i}`)));
    expect(statuses).toEqual(Array(TASKS).fill(200));
    expect(await usage(next)).toMatchObject([{ tasks: TASKS, open: 0, succeeded: TASKS }]);
    // The task is the gateway's (the id in the callback URL it gave); the provider's id is beside it.
    const gatewayTaskId = new URL((JSON.parse(provider.requests[3]!.body) as { callBackUrl: string }).callBackUrl).pathname.split('/')[3];
    const read = await fetch(`${next.url}/api/v1/jobs/recordInfo?taskId=${gatewayTaskId}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(await read.json()).toMatchObject({ code: 200, data: { taskId: gatewayTaskId, providerTaskId: 'task-3', state: 'success' } });
    expect(await post(next)).toMatchObject({ status: 200, body: { data: { taskId: expect.stringMatching(/^gt_/) } } }); // the slots are free
  }, 180_000);
});
