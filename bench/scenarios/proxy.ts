// The floor: a bare pass-through proxy (bench/processes/proxy.ts) in front of the simulator.
import { startChild } from '../processes/spawn.js';
import type { Scenario } from './types.js';
import { prepareTasks, UPSTREAM_KEY } from './workload.js';

export const bareProxy: Scenario = {
  id: 'proxy',
  label: 'bare proxy',
  async start(env) {
    const child = await startChild('bare proxy', 'proxy', { env: { BENCH_UPSTREAM_URL: env.upstreamUrl } });
    const headers = { authorization: `Bearer ${UPSTREAM_KEY}` };
    try {
      return {
        url: child.url,
        headers,
        tasks: await prepareTasks(child.url, headers, env.settings.tasksPerKind),
        pid: child.pid,
        notes: ['node:http + undici Pool, no parsing'],
        close: () => child.stop(),
      };
    } catch (error) {
      await child.stop();
      throw error;
    }
  },
};
