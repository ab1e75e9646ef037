// Tenants polling many running tasks through one provider key: N tasks generating through the
// run, C clients each polling its share every 250 ms, a simulator with the provider's real
// recordInfo limit (10 per second per key). What users feel: the share of polls answered as
// unknown ("recordInfo is null", or anything without the task's record), poll p99; what the
// provider sees: upstream reads per second and the share it refused 429; and the gateway's CPU
// per poll. The figures: ~80% unknown and 10-34% refused before; 0 and ≤ 1% the target.
import { Pool } from 'undici';
import { cpuTimeUs } from '../measure.js';
import { percentile } from '../load.js';
import { startChild } from '../processes/spawn.js';
import { gatewayConfig, startGatewayChild } from '../scenarios/gateway-embedded.js';
import type { BenchEnv } from '../scenarios/types.js';
import { NO_LIMIT, OPEN_TASK_BODY, TENANT_KEY, UPSTREAM_KEY } from '../scenarios/workload.js';

export interface PollingFigure {
  tasks: number;
  clients: number;
  seconds: number;
  polls: number;
  /** Polls not answered with the task's record. */
  unknownShare: number;
  pollP50Ms: number;
  pollP99Ms: number;
  upstreamReadsPerSecond: number;
  /** Of the gateway's upstream reads, the share the provider refused 429. */
  refusedShare: number;
  cpuUsPerPoll: number;
}

const POLL_EVERY_MS = 250;
const PROVIDER_READS_PER_SECOND = 10;

export async function measurePolling(env: BenchEnv): Promise<PollingFigure> {
  const quick = env.settings.mode === 'quick';
  const [tasks, clients, seconds] = quick ? [200, 40, 4] : [1000, 200, 30];
  const sim = await startChild('simulator (provider limits)', 'simulator', {
    env: { BENCH_SIMULATOR_OPTIONS: JSON.stringify({ recordInfoPerSecond: PROVIDER_READS_PER_SECOND }) },
  });
  const keys = [{ id: 'polled-key', apiKey: UPSTREAM_KEY, createPer10s: NO_LIMIT, recordInfoPerSecond: PROVIDER_READS_PER_SECOND }];
  const { child } = await startGatewayChild({ ...env, upstreamUrl: sim.url }, 'gateway-polling', {
    config: gatewayConfig({ ...env, upstreamUrl: sim.url }, `sqlite:${env.tmpDir}/polling.db`, keys),
  });
  const pool = new Pool(child.url, { connections: clients });
  const headers = { authorization: `Bearer ${TENANT_KEY}` };
  const counters = async () => (await (await fetch(`${sim.url}/_simulator/counters`)).json()) as { recordInfo: number; recordInfo429: number };
  try {
    const ids: string[] = [];
    for (let i = 0; i < tasks; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, tasks - i) }, async () => {
          const { body } = await pool.request({
            method: 'POST',
            path: '/api/v1/jobs/createTask',
            headers: { ...headers, 'content-type': 'application/json' },
            body: OPEN_TASK_BODY,
          });
          return ((await body.json()) as { data: { taskId: string } }).data.taskId;
        }),
      );
      ids.push(...batch);
    }
    const before = await counters();
    const cpuBefore = cpuTimeUs(child.pid);
    const latencies: number[] = [];
    let unknown = 0;
    const startedAt = performance.now();
    const endAt = startedAt + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const mine = ids.filter((_, i) => i % clients === c);
        for (let n = 0; performance.now() < endAt; n++) {
          const taskId = mine[n % mine.length]!;
          const sent = performance.now();
          const { body } = await pool.request({ method: 'GET', path: `/api/v1/jobs/recordInfo?taskId=${taskId}`, headers });
          const answer = (await body.json()) as { code: number; data?: { taskId?: string; state?: string } | null };
          latencies.push(performance.now() - sent);
          if (answer.code !== 200 || answer.data?.taskId !== taskId || !answer.data.state) unknown++;
          const next = startedAt + (n + 1) * POLL_EVERY_MS + (c * POLL_EVERY_MS) / clients;
          const wait = next - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }),
    );
    const elapsed = (performance.now() - startedAt) / 1000;
    const cpuUs = cpuTimeUs(child.pid) - cpuBefore;
    const after = await counters();
    const reads = after.recordInfo - before.recordInfo;
    const sorted = Float64Array.from(latencies).sort();
    return {
      tasks,
      clients,
      seconds: elapsed,
      polls: latencies.length,
      unknownShare: unknown / Math.max(1, latencies.length),
      pollP50Ms: percentile(sorted, 0.5),
      pollP99Ms: percentile(sorted, 0.99),
      upstreamReadsPerSecond: reads / elapsed,
      refusedShare: (after.recordInfo429 - before.recordInfo429) / Math.max(1, reads),
      cpuUsPerPoll: cpuUs / Math.max(1, latencies.length),
    };
  } finally {
    await pool.close();
    await child.stop();
    await sim.stop();
  }
}
