// The admission queue's figures (issue 16), in the bench process on an SQLite file, the gateway
// and the simulator sharing a manual clock, so the pacing figures are exact whatever the machine:
//   dispatch efficiency: provider createTask per 10 s under a backlog / the keys' combined
//     allowance, over the steady windows (the mean, and the highest window: never above 1.0)
//   fairness: the dispatch ratio of two tenants weighted 3:1 over a backlog of both
//   time in queue p99: a light tenant (one task every 2.5 s) beside a heavy one's backlog (clock time)
//   accept latency p50/p99 with N tasks already queued (wall clock: this one is the machine's)
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { createSimulator } from '../../mock/simulator/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createGateway } from '../../src/gateway/index.js';
import { createLogger } from '../../src/gateway/ops/logging.js';
import { listenGateway } from '../../src/gateway/server.js';
import { newGatewayTaskId } from '../../src/gateway/tasks/ids.js';
import { openStore } from '../../src/store/index.js';
import type { NewTask } from '../../src/store/types.js';
import { percentile } from '../load.js';
import type { BenchEnv } from '../scenarios/types.js';
import { CREATE_BODY } from '../scenarios/workload.js';

export interface QueueFigure {
  efficiency: {
    /** Steady 10 s windows measured (the first, the burst of a fresh allowance, is left out). */
    windows: number;
    /** The keys' combined allowance per 10 s window. */
    allowance: number;
    perWindow: number[];
    /** Mean over the windows of createTask sent / allowance. */
    mean: number;
    /** The highest window's createTask sent / allowance. */
    peak: number;
  };
  fairness: { weights: [number, number]; dispatched: number; heavy: number; light: number; ratio: number; error: number };
  lightWait: { tasks: number; p99Ms: number };
  accept: { queued: number; samples: number; p50Ms: number; p99Ms: number };
}

const HEAVY = 'lxg_bench_heavy_0123456789abcdef';
const LIGHT = 'lxg_bench_light_0123456789abcdef';
const KEYS = ['sk-bench-queue-a', 'sk-bench-queue-b'];
const PER_KEY = 20; // createTask per key per 10 s: the provider's pace, the gateway's default
const ALLOWANCE = KEYS.length * PER_KEY;
const WINDOW_MS = 10_000;
/** The clock's step: one unit's spacing across the keys (10 s / 40), so each send is seen at its time. */
const STEP_MS = 250;
const LIGHT_EVERY = 10; // steps: a light task every 2.5 s
const sorted = (values: number[]) => Float64Array.from(values).sort();

function rigConfig(env: BenchEnv, name: string, upstreamUrl: string, weights: { heavy: number; light: number }) {
  return parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    store: `sqlite:${join(mkdtempSync(join(env.tmpDir, `queue-${name}-`)), 'gateway.db')}`,
    upstream: { baseUrl: upstreamUrl, keys: KEYS.map((apiKey, i) => ({ id: `key-${i}`, apiKey })) },
    queue: { admission: 'queue' },
    tenants: [
      { id: 'heavy', apiKeys: [HEAVY], queue: { weight: weights.heavy } },
      { id: 'light', apiKeys: [LIGHT], queue: { weight: weights.light } },
    ],
    log: { level: 'silent' },
  });
}

/** A createTask answered 200 (queued): its gateway task id. */
async function createTask(url: string, key: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/jobs/createTask`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: CREATE_BODY,
  });
  const envelope = (await response.json()) as { code: number; msg: string; data: { taskId: string } | null };
  if (envelope.code !== 200) throw new Error(`bench: queue createTask answered ${envelope.code} ${envelope.msg}`);
  return envelope.data!.taskId;
}

/** A gateway (queue admission, two tenants) and its simulator on one manual clock, in this process. */
async function rig(env: BenchEnv, name: string, weights: { heavy: number; light: number }) {
  let now = 1_780_000_000_000;
  const clock = { now: () => now };
  const sim = await createSimulator({ now: clock.now, createPer10s: PER_KEY, accounts: KEYS.map((apiKey) => ({ apiKey })) });
  const config = rigConfig(env, name, sim.url, weights);
  const store = await openStore(config.store);
  const gateway = await createGateway(config, { store, clock, defaultMetrics: false, logger: createLogger({ level: 'silent' }) });
  const server = await listenGateway(gateway, { host: '127.0.0.1', port: 0 });
  const create = (key: string) => createTask(server.url, key);
  return {
    sim,
    store,
    create,
    now: clock.now,
    async step() {
      now += STEP_MS;
      await gateway.dispatcher!.idle();
    },
    async many(key: string, n: number) {
      const ids: string[] = [];
      for (let i = 0; i < n; i += 50) ids.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => create(key)))));
      return ids;
    },
    /** Tasks the gateway sent: when the simulator received each, and when it was queued. */
    async sent(ids: Iterable<string>) {
      const received = new Map(sim.tasks().map((t) => [t.taskId, t.createdAt]));
      const sent: Array<{ sentAt: number; queuedAt: number }> = [];
      for (const id of ids) {
        const row = await store.getTask(id);
        const sentAt = row?.providerTaskId ? received.get(row.providerTaskId) : undefined;
        if (typeof row?.queuedAt === 'number' && sentAt !== undefined) sent.push({ sentAt, queuedAt: row.queuedAt });
      }
      return sent;
    },
    async close() {
      await server.close({ graceMs: 100 });
      await store.close();
      await sim.close();
    },
  };
}

/** Equal weights, a heavy backlog that outlasts the run, a light task now and then beside it. */
async function efficiencyAndWaits(env: BenchEnv) {
  const windows = env.settings.queue.steadyWindows;
  const r = await rig(env, 'efficiency', { heavy: 1, light: 1 });
  try {
    await r.many(HEAVY, ALLOWANCE * (windows + 3));
    const light: string[] = [];
    const start = r.now();
    for (let t = 0; t < ((windows + 2) * WINDOW_MS) / STEP_MS; t++) {
      if (t % LIGHT_EVERY === 0) light.push(await r.create(LIGHT));
      await r.step();
    }
    const perWindow = Array.from({ length: windows }, () => 0);
    for (const { createdAt } of r.sim.tasks()) {
      const window = Math.floor((createdAt - start - WINDOW_MS) / WINDOW_MS);
      if (window >= 0 && window < windows) perWindow[window]! += 1;
    }
    const efficiency = {
      windows,
      allowance: ALLOWANCE,
      perWindow,
      mean: perWindow.reduce((a, b) => a + b, 0) / windows / ALLOWANCE,
      peak: Math.max(...perWindow) / ALLOWANCE,
    };
    const waits = (await r.sent(light)).map((t) => t.sentAt - t.queuedAt);
    return { efficiency, lightWait: { tasks: waits.length, p99Ms: percentile(sorted(waits), 0.99) } };
  } finally {
    await r.close();
  }
}

/** Weights 3:1, both with a backlog; counted over what is sent after the first window's burst. */
async function fairness(env: BenchEnv): Promise<QueueFigure['fairness']> {
  const n = env.settings.queue.fairnessTasks;
  const weights: [number, number] = [3, 1];
  const r = await rig(env, 'fairness', { heavy: weights[0], light: weights[1] });
  try {
    const heavyIds = await r.many(HEAVY, n);
    const lightIds = await r.many(LIGHT, n);
    const start = r.now();
    while (r.sim.tasks().filter((t) => t.createdAt > start).length < n) await r.step();
    // The burst of the first window went out at `start` (the clock stood still while queueing).
    const sentAfter = async (ids: string[]) => (await r.sent(ids)).filter((t) => t.sentAt > start).length;
    const heavy = await sentAfter(heavyIds);
    const light = await sentAfter(lightIds);
    const ratio = heavy / light;
    return { weights, dispatched: heavy + light, heavy, light, ratio, error: Math.abs(ratio / (weights[0] / weights[1]) - 1) };
  } finally {
    await r.close();
  }
}

/** A queued row as the gateway writes it, straight to the store (its own insert, its own ids). */
function queuedRow(at: number): NewTask {
  const id = newGatewayTaskId(at);
  return {
    taskId: id,
    gatewayTaskId: id,
    tenantId: 'heavy',
    upstreamKeyId: '',
    model: 'z-image',
    callBackUrl: null,
    state: 'queued',
    record: null,
    param: CREATE_BODY,
    upstreamBody: CREATE_BODY,
    createdAt: at,
    updatedAt: 0,
    finalAt: null,
    slotId: null,
    estimatedCostMicros: 0,
    actualCostMicros: null,
    callbackTokenHash: null,
    nextCheckAt: at + 3_600_000,
    checks: 0,
    queuedAt: at,
    priority: 0,
    deadlineAt: null,
  };
}

/** createTask answered (queued) with N tasks already waiting; one connection, tenants alternating. */
async function acceptLatency(env: BenchEnv): Promise<QueueFigure['accept']> {
  const { queuedForAccept: queued, acceptSamples: samples } = env.settings.queue;
  const r = await rig(env, 'accept', { heavy: 1, light: 1 });
  try {
    for (let i = 0; i < queued; i += 1000) {
      await Promise.all(Array.from({ length: Math.min(1000, queued - i) }, () => r.store.insertTask(queuedRow(r.now()))));
    }
    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      await r.create(i % 2 ? HEAVY : LIGHT);
      latencies.push(performance.now() - started);
    }
    const ordered = sorted(latencies);
    return { queued, samples, p50Ms: percentile(ordered, 0.5), p99Ms: percentile(ordered, 0.99) };
  } finally {
    await r.close();
  }
}

/** One after the other: each rig has the process to itself. */
export async function measureQueue(env: BenchEnv): Promise<QueueFigure> {
  const { efficiency, lightWait } = await efficiencyAndWaits(env);
  return { efficiency, fairness: await fairness(env), lightWait, accept: await acceptLatency(env) };
}
