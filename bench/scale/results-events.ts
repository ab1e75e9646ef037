// Result copies and live events (issue 18), in the bench process, the load included: read them as
// what one Node process does on this machine beside its own clients, not as a gateway's ceiling.
//   copy MB/s        the downloader (SSRF guard, size and type checks) into the directory store,
//                    N files of M MB from a local server
//   success→durable  through a gateway with copies on: from the stored success (its event with the
//                    copy pending) to the copy's settled event, p50/p95 (the event log's times)
//   SSE              N listeners of one tenant: events delivered per second while N more tasks
//                    run, and the bench process's RSS before and with them connected
import { createServer, request as httpRequest, type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createSimulator } from '../../mock/simulator/index.js';
import { createDirectoryBlobStore } from '../../src/blobs/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createCallbackUrlGuard, createGuardedDispatcher } from '../../src/gateway/callbacks/ssrf.js';
import { createGateway } from '../../src/gateway/index.js';
import { createLogger } from '../../src/gateway/ops/logging.js';
import { createDownloader } from '../../src/gateway/results/download.js';
import { listenGateway } from '../../src/gateway/server.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { percentile } from '../load.js';
import { memoryOf } from '../processes/spawn.js';
import type { BenchEnv } from '../scenarios/types.js';
import { CREATE_BODY, NO_LIMIT, SEND_AT_ONCE, TENANT_KEY } from '../scenarios/workload.js';

export interface ResultsEventsFigure {
  copy: { files: number; mbEach: number; mbPerSecond: number };
  successToDurable: { tasks: number; p50Ms: number; p95Ms: number };
  sse: {
    listeners: number;
    /** Events the tenant's log gained while the tasks ran; each listener should get every one. */
    eventsWritten: number;
    delivered: number;
    eventsPerSecond: number;
    rssBeforeMb: number;
    rssWithListenersMb: number;
  };
}

const MB = 1024 * 1024;
/** A hang guard, not a measure: what is waited for comes in seconds on a busy machine. */
const GIVE_UP_MS = 300_000;

async function waitFor(what: string, test: () => boolean | Promise<boolean>): Promise<void> {
  const giveUpAt = Date.now() + GIVE_UP_MS;
  while (!(await test())) {
    if (Date.now() > giveUpAt) throw new Error(`bench: gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function copyThroughput(env: BenchEnv): Promise<ResultsEventsFigure['copy']> {
  const { copyFiles: files, copyMb: mbEach } = env.settings.results;
  const dir = await mkdtemp(join(env.tmpDir, 'copies-'));
  const body = Buffer.alloc(mbEach * MB, 7);
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/f.png`;
  const guard = createCallbackUrlGuard({ allowHttp: true, allowHosts: ['127.0.0.1'] });
  const dispatcher = createGuardedDispatcher(guard);
  try {
    const download = createDownloader({ guard, dispatcher, maxBytes: body.length * 2, timeoutMs: 120_000, tmpDir: join(dir, 'tmp') });
    const blobs = createDirectoryBlobStore(join(dir, 'blobs'));
    const started = performance.now();
    for (let i = 0; i < files; i++) {
      const file = await download(url, 'image');
      await blobs.putFile(`bench/${i}.png`, file.path, { contentType: file.contentType, bytes: file.bytes });
      await rm(file.path, { force: true });
    }
    return { files, mbEach, mbPerSecond: (files * mbEach) / ((performance.now() - started) / 1000) };
  } finally {
    await dispatcher.close();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

/** A gateway with result copies on, its provider (the simulator) without limits, in this process. */
async function startResultsGateway(env: BenchEnv) {
  const apiKey = 'sk-bench-results';
  const sim = await createSimulator({ accounts: [{ apiKey, credits: 1e15 }], createPer10s: NO_LIMIT, recordInfoPerSecond: NO_LIMIT });
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    store: `sqlite:${join(env.tmpDir, 'results-events.db')}`,
    upstream: { baseUrl: sim.url, keys: [{ id: 'key-a', apiKey, createPer10s: NO_LIMIT, recordInfoPerSecond: NO_LIMIT }] },
    tenants: [{ id: 'bench', apiKeys: [TENANT_KEY] }],
    results: { enabled: true, allowHttp: true, allowHosts: ['127.0.0.1'], pollIntervalMs: 50 },
    events: { heartbeatMs: 15_000 },
    log: { level: 'silent' },
    queue: SEND_AT_ONCE,
  });
  const store = await openStore(config.store);
  const gateway = await createGateway(config, { store, logger: createLogger({ level: 'silent' }), defaultMetrics: false });
  const server = await listenGateway(gateway, { host: '127.0.0.1', port: 0 });
  const headers = { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' };
  return {
    store,
    url: server.url,
    /** Runs n tasks (final at once in the simulator) and waits until all their copies are stored. */
    async run(n: number) {
      const copied = (await store.copyBytesByTenant())[0]?.files ?? 0;
      for (let i = 0; i < n; i++) await fetch(`${server.url}/api/v1/jobs/createTask`, { method: 'POST', headers, body: CREATE_BODY }).then((r) => r.json());
      await waitFor(`${n} result copies`, async () => (await store.copyBytesByTenant())[0]?.files === copied + n);
    },
    async close() {
      await server.close({ graceMs: 100 });
      await store.close();
      await sim.close();
    },
  };
}

/** From each task's success event with its copy pending to the one with its copy settled. */
async function successToDurable(store: Store): Promise<ResultsEventsFigure['successToDurable']> {
  const log = await store.eventsAfter('bench', 0, 100_000);
  const copyState = (record: string) => (JSON.parse(record) as { resultCopy?: { state?: string } }).resultCopy?.state;
  const gaps: number[] = [];
  for (const taskId of new Set(log.map((e) => e.taskId))) {
    const successes = log.filter((e) => e.taskId === taskId && e.state === 'success');
    const pending = successes.find((e) => copyState(e.record) === 'pending');
    const copied = successes.find((e) => copyState(e.record) === 'copied');
    if (pending && copied) gaps.push(copied.createdAt - pending.createdAt);
  }
  const sorted = Float64Array.from(gaps).sort();
  return { tasks: gaps.length, p50Ms: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95) };
}

/** One SSE stream of the tenant; counts the task events it receives, frames split across chunks included. */
function listen(url: string, onEvent: () => void): Promise<ClientRequest> {
  const marker = '\nevent: task\n';
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/api/v1/jobs/events', headers: { authorization: `Bearer ${TENANT_KEY}` }, agent: false },
      (res) => {
        res.setEncoding('utf8');
        let carry = '';
        res.on('data', (chunk: string) => {
          const text = carry + chunk;
          for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + marker.length)) onEvent();
          carry = text.slice(-(marker.length - 1));
        });
        resolve(req);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function sseFanOut(env: BenchEnv, gateway: Awaited<ReturnType<typeof startResultsGateway>>): Promise<ResultsEventsFigure['sse']> {
  const { sseListeners: listeners, tasks } = env.settings.results;
  const rssBeforeMb = memoryOf(process.pid).rssMb;
  let delivered = 0;
  const streams: ClientRequest[] = [];
  try {
    for (let i = 0; i < listeners; i += 100) {
      streams.push(...(await Promise.all(Array.from({ length: Math.min(100, listeners - i) }, () => listen(gateway.url, () => delivered++)))));
    }
    const rssWithListenersMb = memoryOf(process.pid).rssMb;
    const before = await gateway.store.lastEventSeq('bench');
    const started = performance.now();
    await gateway.run(tasks);
    const eventsWritten = (await gateway.store.lastEventSeq('bench')) - before;
    await waitFor('every event at every listener', () => delivered >= eventsWritten * listeners);
    const seconds = (performance.now() - started) / 1000;
    return { listeners, eventsWritten, delivered, eventsPerSecond: delivered / seconds, rssBeforeMb, rssWithListenersMb };
  } finally {
    for (const req of streams) req.destroy();
  }
}

export async function measureResultsEvents(env: BenchEnv): Promise<ResultsEventsFigure> {
  const copy = await copyThroughput(env);
  const gateway = await startResultsGateway(env);
  try {
    await gateway.run(env.settings.results.tasks);
    const durable = await successToDurable(gateway.store);
    return { copy, successToDurable: durable, sse: await sseFanOut(env, gateway) };
  } finally {
    await gateway.close();
  }
}
