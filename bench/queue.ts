// The admission queue's figures (issue 16), in one process on an SQLite file, the gateway and
// the simulator sharing a manual clock (so the pacing figures are exact, whatever the machine):
//   dispatch efficiency: provider createTask per 10 s under a backlog / the keys' combined allowance
//   fairness error: |measured share − weight share| for weights 3:1 over a backlog
//   time in queue p99: a light tenant (one task now and then) beside a heavy one (a backlog)
//   accept latency p50/p99 with N tasks already queued (wall clock: this one is the machine's)
//
//   npx tsx bench/queue.ts [--queued 100000]
// Not part of `npm run bench` yet (see the README): its own table, on stdout.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSimulator } from '../mock/simulator/index.js';
import { parseConfig } from '../src/config/index.js';
import { createGateway } from '../src/gateway/index.js';
import { createLogger } from '../src/gateway/ops/logging.js';
import { listenGateway } from '../src/gateway/server.js';
import { newGatewayTaskId } from '../src/gateway/tasks/ids.js';
import { openStore } from '../src/store/index.js';

const HEAVY = 'lxg_bench_heavy_0123456789abcdef';
const LIGHT = 'lxg_bench_light_0123456789abcdef';
const body = JSON.stringify({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } });
const queuedArg = process.argv.indexOf('--queued');
const QUEUED = queuedArg > 0 ? Number(process.argv[queuedArg + 1]) : 100_000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function rig(weights: { heavy: number; light: number }) {
  let now = 1_780_000_000_000;
  const clock = { now: () => now };
  const sim = await createSimulator({ now: clock.now, createPer10s: 20, accounts: [{ apiKey: 'sk-a' }, { apiKey: 'sk-b' }] });
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    store: `sqlite:${join(mkdtempSync(join(tmpdir(), 'lxg-bench-queue-')), 'gateway.db')}`,
    upstream: {
      baseUrl: sim.url,
      keys: [
        { id: 'key-a', apiKey: 'sk-a' },
        { id: 'key-b', apiKey: 'sk-b' },
      ],
    },
    queue: { admission: 'queue' },
    tenants: [
      { id: 'heavy', apiKeys: [HEAVY], queue: { weight: weights.heavy } },
      { id: 'light', apiKeys: [LIGHT], queue: { weight: weights.light } },
    ],
    log: { level: 'silent' },
  });
  const store = await openStore(config.store);
  const gateway = await createGateway(config, { store, clock, defaultMetrics: false, logger: createLogger({ level: 'silent' }) });
  const server = await listenGateway(gateway, { host: '127.0.0.1', port: 0 });
  const create = async (key: string) => {
    const response = await fetch(`${server.url}/api/v1/jobs/createTask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });
    return ((await response.json()) as { data: { taskId: string } }).data.taskId;
  };
  const step = async (ms: number) => {
    now += ms;
    await gateway.dispatcher!.idle();
  };
  return {
    sim,
    store,
    create,
    step,
    clock,
    async many(key: string, n: number) {
      const ids: string[] = [];
      for (let i = 0; i < n; i += 50) ids.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => create(key)))));
      return ids;
    },
    async close() {
      await server.close({ graceMs: 100 });
      await store.close();
      await sim.close();
    },
    server,
  };
}

async function efficiencyAndWaits() {
  const r = await rig({ heavy: 1, light: 1 });
  await r.many(HEAVY, 800);
  const light: string[] = [];
  const start = r.clock.now();
  for (let t = 0; t < 400; t++) {
    if (t % 10 === 0) light.push(await r.create(LIGHT));
    await r.step(250);
  }
  // Steady state: the 10 s windows after the first (the first is the burst's own).
  const times = r.sim
    .tasks()
    .map((t) => t.createdAt)
    .filter((t) => t >= start + 10_000 && t < start + 90_000);
  const efficiency = times.length / 8 / 40;
  const waits = async (ids: string[]) => {
    const sentAt = new Map(r.sim.tasks().map((t) => [t.taskId, t.createdAt]));
    const rows = await Promise.all(ids.map((id) => r.store.getTask(id)));
    return rows.filter((row) => row?.providerTaskId).map((row) => sentAt.get(row!.providerTaskId!)! - row!.queuedAt!);
  };
  const lightWaits = await waits(light);
  await r.close();
  return { efficiency, lightP99: percentile(lightWaits, 99) };
}

async function fairness() {
  const r = await rig({ heavy: 3, light: 1 });
  const heavy = new Set(await r.many(HEAVY, 400));
  await r.many(LIGHT, 400);
  const start = r.clock.now();
  while (r.sim.tasks().length < 440) await r.step(250);
  const sentAt = new Map(r.sim.tasks().map((t) => [t.taskId, t.createdAt]));
  let h = 0;
  for (const id of [...heavy]) {
    const row = await r.store.getTask(id);
    if (row?.providerTaskId && sentAt.get(row.providerTaskId)! > start) h++;
  }
  const all = r.sim.tasks().filter((t) => t.createdAt > start).length;
  await r.close();
  return Math.abs(h / all - 0.75);
}

async function acceptLatency() {
  const r = await rig({ heavy: 1, light: 1 });
  // N queued rows written straight to the store (the gateway's own insert, its own ids).
  const t0 = r.clock.now();
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < QUEUED; i++) {
    const id = newGatewayTaskId(t0);
    writes.push(
      r.store.insertTask({
        taskId: id,
        gatewayTaskId: id,
        tenantId: 'heavy',
        upstreamKeyId: '',
        model: 'z-image',
        callBackUrl: null,
        state: 'queued',
        record: null,
        param: body,
        upstreamBody: body,
        createdAt: t0,
        updatedAt: 0,
        finalAt: null,
        slotId: null,
        estimatedCostMicros: 0,
        actualCostMicros: null,
        callbackTokenHash: null,
        nextCheckAt: t0 + 3_600_000,
        checks: 0,
        queuedAt: t0,
        priority: 0,
        deadlineAt: null,
      }),
    );
    if (writes.length === 1000) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  const latencies: number[] = [];
  for (let i = 0; i < 500; i++) {
    const started = performance.now();
    await r.create(i % 2 ? HEAVY : LIGHT);
    latencies.push(performance.now() - started);
  }
  await r.close();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const { efficiency, lightP99 } = await efficiencyAndWaits();
const fairnessError = await fairness();
const accept = await acceptLatency();
console.log('admission queue (SQLite, one process, manual clock for pacing figures)');
console.log(`  dispatch efficiency under a backlog   ${efficiency.toFixed(3)}   (target >= 0.98, never > 1.0)`);
console.log(`  fairness error, weights 3:1           ${(fairnessError * 100).toFixed(2)} points of share`);
console.log(`  time in queue p99, light beside heavy ${(lightP99 / 1000).toFixed(2)} s (clock time; the heavy backlog drains at 4/s)`);
console.log(`  accept latency with ${QUEUED} queued   p50 ${accept.p50.toFixed(2)} ms, p99 ${accept.p99.toFixed(2)} ms (wall clock)`);
