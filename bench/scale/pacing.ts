// Paced throughput: the real key pool with N provider keys at the provider's default pace (20
// createTask per 10 s each), createTask fired at it as fast as a few connections go, and the
// simulator counting what reached it. Must be N × 20 per 10 s window, not more, not less.
// Counting needs no speed, so these gateways and simulators run in the bench process, all N at
// once. Windows are told apart by the simulator's creation times: each key's 20 go out at once,
// and come back exactly 10 s after they went, so the tasks fall into bursts 10 s apart.
import { createSimulator } from '../../mock/simulator/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createGateway } from '../../src/gateway/index.js';
import { createLogger } from '../../src/gateway/ops/logging.js';
import { listenGateway } from '../../src/gateway/server.js';
import { openStore } from '../../src/store/index.js';
import { rawRequest, runLoad } from '../load.js';
import { CREATE_BODY, NO_LIMIT, SEND_AT_ONCE, SIMULATOR_OPTIONS, TENANT_KEY } from '../scenarios/workload.js';
import type { Settings } from '../settings.js';

const PROVIDER_PACE = 20; // per key per 10 s: the provider's, the gateway's default
const WINDOW_MS = 10_000;

export interface PacedFigure {
  keys: number;
  fireSeconds: number;
  /** createTask calls the simulator received, per 10 s window from the first. */
  perWindow: number[];
  accepted: number;
  expected: number;
  /** Refusals the tenant got (429 paced), proof that it kept asking. */
  refused: number;
}

async function pacedRun(keys: number, fireMs: number): Promise<PacedFigure> {
  const apiKeys = Array.from({ length: keys }, (_, i) => `sk-bench-paced-${keys}-${i}`);
  const sim = await createSimulator({ ...SIMULATOR_OPTIONS, accounts: apiKeys.map((apiKey) => ({ apiKey, credits: 1e15 })), createPer10s: NO_LIMIT });
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    store: 'sqlite::memory:',
    upstream: { baseUrl: sim.url, keys: apiKeys.map((apiKey, i) => ({ id: `paced-${i}`, apiKey })) }, // default pace
    tenants: [{ id: 'bench', apiKeys: [TENANT_KEY] }],
    log: { level: 'silent' },
    queue: SEND_AT_ONCE, // the pace seen refusing (429 paced) is the send-at-once path's
  });
  const store = await openStore(config.store);
  const gateway = await createGateway(config, { store, logger: createLogger({ level: 'silent' }), defaultMetrics: false });
  const server = await listenGateway(gateway, config.listen);
  try {
    const raw = rawRequest('POST', server.url, '/api/v1/jobs/createTask', { authorization: `Bearer ${TENANT_KEY}` }, CREATE_BODY);
    // At least one call past the allowance, so the pace is seen refusing, however slow the machine.
    const allowance = keys * PROVIDER_PACE * Math.ceil(fireMs / WINDOW_MS);
    const result = await runLoad({ url: server.url, connections: 4, durationMs: fireMs, request: () => raw, minAnswers: allowance + 1 });
    const firedMs = Math.max(fireMs, result.elapsedMs);
    const created = sim.tasks().map((t) => t.createdAt);
    const first = Math.min(...created);
    // Windows the firing covered; a burst past them (there should be none) still shows.
    const perWindow = Array.from({ length: Math.ceil(firedMs / WINDOW_MS) }, () => 0);
    for (const at of created) {
      const window = Math.round((at - first) / WINDOW_MS);
      while (perWindow.length <= window) perWindow.push(0);
      perWindow[window]! += 1;
    }
    return {
      keys,
      fireSeconds: Math.round(firedMs / 100) / 10,
      perWindow,
      accepted: sim.counters().createTask,
      expected: keys * PROVIDER_PACE * Math.ceil(firedMs / WINDOW_MS),
      refused: result.errorKinds['HTTP 429'] ?? 0,
    };
  } finally {
    await server.close({ graceMs: 100 });
    await store.close();
    await sim.close();
  }
}

export function measurePacing(settings: Settings): Promise<PacedFigure[]> {
  return Promise.all(settings.pacedKeys.map((keys) => pacedRun(keys, settings.pacedFireMs)));
}
