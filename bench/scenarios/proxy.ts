// The floor: a bare pass-through proxy (bench/processes/proxy.ts) in front of the simulator.
import { startChild } from '../processes/spawn.js';
import { childTarget, type Scenario } from './types.js';
import { UPSTREAM_KEY } from './workload.js';

export const bareProxy: Scenario = {
  id: 'proxy',
  label: 'bare proxy',
  async start(env) {
    const child = await startChild('bare proxy', 'proxy', { env: { BENCH_UPSTREAM_URL: env.upstreamUrl } });
    return childTarget(child, env, { authorization: `Bearer ${UPSTREAM_KEY}` }, { notes: ['node:http + undici Pool, no parsing'] });
  },
};
