// What every scenario is loaded with, and the tasks it needs in place before measuring: final
// tasks (z-image, final the moment they are created) and non-final ones (kling-v3-pro, generating
// for a week), created and read once through the scenario's own URL. Reading a final task once
// through the gateway is what makes the gateway store it as final.
import type { SimulatorOptions } from '../../mock/simulator/index.js';

export const UPSTREAM_KEY = 'sk-bench-upstream-0123456789';
export const TENANT_KEY = 'lxg_bench_tenant_0123456789abcdef';

/** Out of reach: the simulator must never be what refuses or slows a run. */
export const NO_LIMIT = 1_000_000_000;

/**
 * `queue` for the bench's gateways: sent at once (admission reject), not queued (the default), so
 * the figures measure the send-at-once path side by side with a proxy and stay comparable with
 * earlier runs. The queue's own figures are bench/scale/queue.ts's, which sets admission itself.
 */
export const SEND_AT_ONCE = { admission: 'reject' } as const;

export const SIMULATOR_OPTIONS: SimulatorOptions = {
  accounts: [{ apiKey: UPSTREAM_KEY, credits: 1e15 }],
  timing: { visibleAfterMs: 0, waitingMs: 0, queuingMs: 0, generatingMs: 0, videoGeneratingMs: 7 * 24 * 3_600_000, lateCallbackMs: 0 },
  createPer10s: NO_LIMIT,
  recordInfoPerSecond: NO_LIMIT,
};

/**
 * A typical image request, validated by both the gateway and the simulator. Its task ends at
 * once, so through the gateway it brings the provider's callback within a millisecond: the
 * gateway records the end and settles the quota, and the simulator (on the same cores) spends
 * more on sending the callback than on answering the createTask.
 */
export const CREATE_BODY = JSON.stringify({ model: 'z-image', input: { prompt: 'A lighthouse at dawn, volumetric light, 35 mm', aspect_ratio: '16:9' } });
/** A video request whose task keeps generating for the whole run: a createTask and nothing after it. */
export const OPEN_TASK_BODY = JSON.stringify({ model: 'kling-v3-pro', input: { prompt: 'A fox walking through snow', duration: 5 } });
const PENDING_BODY = OPEN_TASK_BODY;

export interface PreparedTasks {
  final: string[];
  pending: string[];
}

interface Envelope {
  code: number;
  msg: string;
  data: { taskId?: string; state?: string } | null;
}

async function call(url: string, headers: Record<string, string>, path: string, body?: string): Promise<Envelope> {
  const response = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body,
  });
  const envelope = (await response.json()) as Envelope;
  if (envelope.code !== 200) throw new Error(`bench: ${path} at ${url} answered ${response.status} ${envelope.code} ${envelope.msg}`);
  return envelope;
}

/** Runs `fn` over 0..n-1 with at most `width` at a time. */
async function inParallel<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++;
        results[i] = await fn(i);
      }
    }),
  );
  return results;
}

const createOne = async (url: string, headers: Record<string, string>, body: string) =>
  (await call(url, headers, '/api/v1/jobs/createTask', body)).data!.taskId!;
const stateOf = async (url: string, headers: Record<string, string>, taskId: string) =>
  (await call(url, headers, `/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`)).data!.state!;

export async function prepareTasks(url: string, headers: Record<string, string>, count: number): Promise<PreparedTasks> {
  const final = await inParallel(count, 8, () => createOne(url, headers, CREATE_BODY));
  const pending = await inParallel(count, 8, () => createOne(url, headers, PENDING_BODY));
  await inParallel(count, 8, async (i) => {
    const state = await stateOf(url, headers, final[i]!);
    if (state !== 'success') throw new Error(`bench: task ${final[i]} should be final, is ${state}`);
  });
  const probe = await stateOf(url, headers, pending[0]!);
  if (probe === 'success' || probe === 'fail') throw new Error(`bench: task ${pending[0]} should still run, is ${probe}`);
  return { final, pending };
}
