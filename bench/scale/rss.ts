// The gateway's resident memory after many createTask: a fresh gateway child (its RSS is its
// own, read from /proc), idle RSS at start, then N tasks created through it at saturation, then
// RSS again once it is idle (and the peak). Then, for diagnosis only, the JS heap after a full
// GC (the child runs with --expose-gc, which changes nothing until gc() is called): a heap that
// grows with the tasks is memory kept per task; RSS well above it is garbage and allocator slack.
import { rawRequest, runLoad } from '../load.js';
import { memoryOf } from '../processes/spawn.js';
import { startGatewayChild } from '../scenarios/gateway-embedded.js';
import type { BenchEnv } from '../scenarios/types.js';
import { CREATE_BODY, TENANT_KEY } from '../scenarios/workload.js';

export interface RssFigure {
  tasks: number;
  seconds: number;
  startMb: number;
  rssMb: number;
  peakMb: number;
  /** JS heap (and external memory) after a full GC, at start and after the tasks. */
  heapStartMb: number;
  heapAfterMb: number;
  externalAfterMb: number;
  errors: number;
}

export async function measureRss(env: BenchEnv): Promise<RssFigure> {
  const { child } = await startGatewayChild(env, 'gateway-rss', { nodeArgs: ['--expose-gc'] });
  try {
    const start = memoryOf(child.pid);
    const heapStart = await child.heap();
    const raw = rawRequest('POST', child.url, '/api/v1/jobs/createTask', { authorization: `Bearer ${TENANT_KEY}` }, CREATE_BODY);
    const started = performance.now();
    const result = await runLoad({ url: child.url, connections: 32, total: env.settings.rssTasks, request: () => raw });
    const seconds = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = memoryOf(child.pid);
    const heapAfter = await child.heap();
    return {
      tasks: result.ok,
      seconds,
      startMb: start.rssMb,
      rssMb: after.rssMb,
      peakMb: after.peakMb,
      heapStartMb: heapStart.heapUsedMb,
      heapAfterMb: heapAfter.heapUsedMb,
      externalAfterMb: heapAfter.externalMb,
      errors: result.errors,
    };
  } finally {
    await child.stop();
  }
}
