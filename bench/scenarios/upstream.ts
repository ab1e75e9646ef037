// The upstream alone: the simulator answering directly. Every added latency is measured against
// this scenario's percentiles in the same round.
import type { Scenario } from './types.js';
import { prepareTasks, UPSTREAM_KEY } from './workload.js';

export const upstreamAlone: Scenario = {
  id: 'upstream',
  label: 'upstream alone',
  async start(env) {
    const headers = { authorization: `Bearer ${UPSTREAM_KEY}` };
    return {
      url: env.upstreamUrl,
      headers,
      tasks: await prepareTasks(env.upstreamUrl, headers, env.settings.tasksPerKind),
      pid: env.upstreamPid,
      notes: ['the simulator, limits out of reach'],
      close: async () => {}, // the shared simulator is closed by run.ts
    };
  },
};
