// The gateway on the embedded store: an SQLite file in a temporary directory, tenant key auth,
// validation against the spec, the key pool and task records all on. The provider key's pace is
// set out of reach so pacing never refuses during the load (the paced figure measures pacing).
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config/index.js';
import { startChild } from '../processes/spawn.js';
import { childTarget, type BenchEnv, type Scenario } from './types.js';
import { NO_LIMIT, SEND_AT_ONCE, TENANT_KEY, UPSTREAM_KEY } from './workload.js';

/** The bench gateway's configuration on the store `store` names (a store URL). */
export function gatewayConfig(
  env: BenchEnv,
  store: string,
  upstreamKeys = [{ id: 'bench-key', apiKey: UPSTREAM_KEY, createPer10s: NO_LIMIT, recordInfoPerSecond: NO_LIMIT }],
): ConfigInput {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    store,
    upstream: { baseUrl: env.upstreamUrl, keys: upstreamKeys },
    tenants: [{ id: 'bench', apiKeys: [TENANT_KEY] }],
    log: { level: env.settings.logLevel },
    queue: SEND_AT_ONCE,
  };
}

/**
 * The V8 heap settings the README recommends for running the gateway (NODE_OPTIONS), so the bench
 * measures the gateway as it is deployed. Measured (100,000 createTask): RSS 129 → 242 MB without
 * them, 101 → 134 MB with, the same throughput. Old space otherwise grows to 4× the live heap
 * before a full GC on a machine with this much RAM (V8 sizes its growth factor from the heap
 * limit, itself from the RAM), and each young-generation semi-space to 16 MB.
 */
export const GATEWAY_NODE_FLAGS = ['--max-old-space-size=1024', '--max-semi-space-size=4'];

/** Starts a gateway child on a fresh SQLite file (profiled when the bench runs with --profile). */
export async function startGatewayChild(
  env: BenchEnv,
  name: string,
  options: { config?: ConfigInput; nodeArgs?: string[]; childEnv?: Record<string, string> } = {},
) {
  const sqlitePath = join(env.tmpDir, `${name}.db`);
  const profile = env.settings.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${env.settings.profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const nodeArgs = [...GATEWAY_NODE_FLAGS, ...profile, ...(options.nodeArgs ?? [])];
  const child = await startChild(`gateway (${name})`, 'gateway', {
    env: { BENCH_GATEWAY_CONFIG: JSON.stringify(options.config ?? gatewayConfig(env, `sqlite:${sqlitePath}`)), ...options.childEnv },
    nodeArgs,
  });
  return { child, sqlitePath };
}

export const gatewayEmbedded: Scenario = {
  id: 'gateway-embedded',
  label: 'gateway (embedded)',
  async start(env) {
    const { child, sqlitePath } = await startGatewayChild(env, 'gateway-embedded');
    const notes = [`SQLite file store, log level ${env.settings.logLevel} (to /dev/null)`];
    return childTarget(child, env, { authorization: `Bearer ${TENANT_KEY}` }, { notes, sqlitePath });
  },
};
