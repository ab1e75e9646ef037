// `npx tsx bench/results-events.ts [--listeners N] [--files N] [--mb N] [--tasks N]`: the figures of
// result copies and live events (issue 18), apart from `npm run bench` (whose table and JSON other
// work changes at the same time). Everything runs in this one process, the load included: read the
// figures as what one Node process does on this machine, not as a gateway's ceiling.
//   copy MB/s        the downloader (SSRF guard, size and type checks) + the directory store, N files of M MB
//   success→durable  through a gateway with copies on: provider callback stored → copy settled (event log times)
//   SSE              N listeners of one tenant: events delivered per second, and RSS with them connected
import { request as httpRequest, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createSimulator } from '../mock/simulator/index.js';
import { createDirectoryBlobStore } from '../src/blobs/index.js';
import { parseConfig } from '../src/config/index.js';
import { createCallbackUrlGuard, createGuardedDispatcher } from '../src/gateway/callbacks/ssrf.js';
import { createGateway } from '../src/gateway/index.js';
import { createLogger } from '../src/gateway/ops/logging.js';
import { createDownloader } from '../src/gateway/results/download.js';
import { listenGateway } from '../src/gateway/server.js';
import { openStore } from '../src/store/index.js';

const { values } = parseArgs({
  options: {
    listeners: { type: 'string', default: '1000' },
    files: { type: 'string', default: '20' },
    mb: { type: 'string', default: '8' },
    tasks: { type: 'string', default: '50' },
  },
});
const LISTENERS = Number(values.listeners);
const FILES = Number(values.files);
const MB = Number(values.mb);
const TASKS = Number(values.tasks);
const KEY = 'lxg_bench_acme_0123456789abcdef';
const dir = await mkdtemp(join(tmpdir(), 'lxg-bench-results-'));
const mib = (bytes: number) => bytes / 1024 / 1024;

async function copyThroughput(): Promise<{ mbPerSecond: number; files: number; mbEach: number }> {
  const body = Buffer.alloc(MB * 1024 * 1024, 7);
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/f.png`;
  const guard = createCallbackUrlGuard({ allowHttp: true, allowHosts: ['127.0.0.1'] });
  const dispatcher = createGuardedDispatcher(guard);
  const download = createDownloader({ guard, dispatcher, maxBytes: body.length * 2, timeoutMs: 120_000, tmpDir: join(dir, 'tmp') });
  const blobs = createDirectoryBlobStore(join(dir, 'copy-bench'));
  const started = performance.now();
  for (let i = 0; i < FILES; i++) {
    const file = await download(url, 'image');
    await blobs.putFile(`bench/${i}.png`, file.path, { contentType: file.contentType, bytes: file.bytes });
    await rm(file.path, { force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.close();
  server.close();
  return { mbPerSecond: (FILES * MB) / seconds, files: FILES, mbEach: MB };
}

const quiet = () => createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

async function gatewayFigures() {
  const sim = await createSimulator({ accounts: [{ apiKey: 'sk-up-a' }], createPer10s: 1_000_000, recordInfoPerSecond: 1_000_000 });
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    store: `sqlite:${join(dir, 'gateway.db')}`,
    upstream: { baseUrl: sim.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1_000_000, recordInfoPerSecond: 1_000_000 }] },
    tenants: [{ id: 'acme', apiKeys: [KEY] }],
    results: { enabled: true, allowHttp: true, allowHosts: ['127.0.0.1'], pollIntervalMs: 50 },
    events: { heartbeatMs: 15_000 },
    log: { level: 'silent' },
  });
  const store = await openStore(config.store);
  const gateway = await createGateway(config, { store, logger: quiet(), defaultMetrics: false });
  const server = await listenGateway(gateway, { host: '127.0.0.1', port: 0 });
  const create = () =>
    fetch(`${server.url}/api/v1/jobs/createTask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } }),
    }).then((r) => r.json());

  // Success → durable: the event log has the success (copy pending) and the copy's settled event.
  for (let i = 0; i < TASKS; i++) await create();
  const waitFor = async (test: () => Promise<boolean>) => {
    while (!(await test())) await new Promise((r) => setTimeout(r, 50));
  };
  await waitFor(async () => (await store.copyBytesByTenant())[0]?.files === TASKS);
  const log = await store.eventsAfter('acme', 0, 100_000);
  const gaps: number[] = [];
  for (const taskId of new Set(log.map((e) => e.taskId))) {
    const events = log.filter((e) => e.taskId === taskId && e.state === 'success');
    const pending = events.find((e) => JSON.parse(e.record).resultCopy?.state === 'pending');
    const copied = events.find((e) => JSON.parse(e.record).resultCopy?.state === 'copied');
    if (pending && copied) gaps.push(copied.createdAt - pending.createdAt);
  }
  gaps.sort((a, b) => a - b);
  const successToDurable = { tasks: gaps.length, p50Ms: gaps[Math.floor(gaps.length / 2)] ?? null, p95Ms: gaps[Math.floor(gaps.length * 0.95)] ?? null };

  // SSE: LISTENERS streams of the tenant; then TASKS more tasks, each a few events, to all of them.
  const rssBefore = process.memoryUsage().rss;
  let delivered = 0;
  const streams: Array<ReturnType<typeof httpRequest>> = [];
  const { port } = new URL(server.url);
  await Promise.all(
    Array.from(
      { length: LISTENERS },
      () =>
        new Promise<void>((resolve) => {
          const req = httpRequest(
            { host: '127.0.0.1', port, path: '/api/v1/jobs/events', headers: { authorization: `Bearer ${KEY}` }, agent: false },
            (res) => {
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                delivered += chunk.split('\nevent: task\n').length - 1;
              });
              resolve();
            },
          );
          req.end();
          streams.push(req);
        }),
    ),
  );
  const rssWithListeners = process.memoryUsage().rss;
  const before = await store.lastEventSeq('acme');
  const started = performance.now();
  for (let i = 0; i < TASKS; i++) await create();
  await waitFor(async () => (await store.copyBytesByTenant())[0]?.files === TASKS * 2);
  const written = (await store.lastEventSeq('acme')) - before;
  await waitFor(async () => delivered >= written * LISTENERS);
  const seconds = (performance.now() - started) / 1000;
  const sse = {
    listeners: LISTENERS,
    eventsWritten: written,
    delivered,
    eventsPerSecond: Math.round(delivered / seconds),
    rssBeforeMiB: Math.round(mib(rssBefore)),
    rssWithListenersMiB: Math.round(mib(rssWithListeners)),
    perListenerKiB: Math.round((rssWithListeners - rssBefore) / LISTENERS / 1024),
  };

  for (const req of streams) req.destroy();
  await server.close({ graceMs: 100 });
  await store.close();
  await sim.close();
  return { successToDurable, sse };
}

try {
  const copy = await copyThroughput();
  const { successToDurable, sse } = await gatewayFigures();
  const figures = { copy, successToDurable, sse };
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
