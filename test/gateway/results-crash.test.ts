// kill -9 while a result copy is being downloaded: the copy is leased, so the instance that takes
// it over once the lease has run out (here a second gateway process on the same store) makes it,
// and the tenant's record ends up naming the durable copy. Nothing is copied twice into the record.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/index.js';
import { download, kindOf } from '../helpers/files.js';
import { spawnGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { SEND_AT_ONCE } from '../helpers/gateway-stack.js';
import { json, startScriptedServer, type RecordedRequest, type ScriptedServer } from '../helpers/scripted-server.js';
import { pollUntil } from '../helpers/wait.js';
import { successRecord } from '../fixtures/records.js';

const KEY = 'lxg_crash_acme_0123456789abcdef';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]);

let dir: string;
let provider: ScriptedServer;
let files: ScriptedServer;
const gateways: GatewayProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lxg-copy-crash-'));
  provider = await startScriptedServer((_req, res) => json(res, 200, { code: 200, msg: 'success', data: { taskId: 'task-1' } }));
  // The first download is held for ever (the instance doing it gets killed); later ones are answered.
  files = await startScriptedServer((_req, res, i) => {
    if (i > 0) res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
  });
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.kill('SIGKILL')));
  await provider?.close();
  await files?.close();
  await rm(dir, { recursive: true, force: true });
});

function config(): ConfigInput {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    store: `sqlite:${join(dir, 'gateway.db')}`,
    upstream: { baseUrl: provider.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a' }] },
    tenants: [{ id: 'acme', apiKeys: [KEY] }],
    log: { level: 'warn' },
    results: { enabled: true, allowHttp: true, allowHosts: ['127.0.0.1'], leaseMs: 1500, pollIntervalMs: 100 },
    // The provider has the task once createTask answers (sent at once), so its callback can follow.
    queue: SEND_AT_ONCE,
  };
}

async function start(): Promise<GatewayProcess> {
  const gateway = await spawnGateway(config(), { timeoutMs: 60_000 });
  gateways.push(gateway);
  return gateway;
}

async function callBack(gateway: GatewayProcess, request: RecordedRequest) {
  const given = new URL((JSON.parse(request.body) as { callBackUrl: string }).callBackUrl);
  const now = Date.now();
  const data = successRecord({ taskId: 'task-1', now, param: request.body, resultUrls: [`${files.url}/r/0.png`], creditsConsumed: 2 });
  const response = await fetch(`${gateway.url}${given.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: 200, msg: 'success', data }),
  });
  expect(response.status).toBe(200);
}

/** The task as its tenant reads it, by the gateway's id (the one createTask answered). */
let taskId = '';
const read = async (gateway: GatewayProcess) =>
  (await (await fetch(`${gateway.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
    data: { state: string; resultJson: string; resultCopy?: { state: string } };
  };

describe('kill -9 during a result copy', () => {
  it('loses no copy: another instance takes the lease over and makes it', async () => {
    const doomed = await start();
    const created = await fetch(`${doomed.url}/api/v1/jobs/createTask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } }),
    });
    expect(created.status).toBe(200);
    taskId = ((await created.json()) as { data: { taskId: string } }).data.taskId;
    await callBack(doomed, provider.requests[0]!);
    await pollUntil('the first download to start', () => files.requests.length > 0);
    expect((await read(doomed)).data.resultCopy?.state).toBe('pending');
    await doomed.kill('SIGKILL');

    const next = await start();
    const shown = await pollUntil('the copy, made by the second instance', async () => {
      const record = (await read(next)).data;
      return record.resultCopy?.state === 'copied' ? record : undefined;
    });
    expect(shown.state).toBe('success');
    const { resultUrls, originalResultUrls } = JSON.parse(shown.resultJson) as { resultUrls: string[]; originalResultUrls: string[] };
    expect(originalResultUrls).toEqual([`${files.url}/r/0.png`]);
    const copy = await download(resultUrls[0]!);
    expect(copy.status).toBe(200);
    expect(kindOf(copy.bytes)).toBe('png');
    expect(files.requests).toHaveLength(2); // the held one, and the one that made the copy
  }, 180_000);
});
