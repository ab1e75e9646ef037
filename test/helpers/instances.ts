// Gateways as separate instances would run them, in this process: each its own store connection
// on one SQLite file (the shared state), in front of one simulator. For what must hold across a
// restart (open, close, open again on the same file) or across two instances at once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulator, type RunningSimulator, type SimulatorOptions } from '../../mock/simulator/index.js';
import { parseConfig, type ConfigInput } from '../../src/config/index.js';
import type { Clock } from '../../src/gateway/context.js';
import { createGateway, type Gateway, type GatewayDeps } from '../../src/gateway/index.js';
import { createLogger } from '../../src/gateway/ops/logging.js';
import { listenGateway } from '../../src/gateway/server.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { ACME_KEY, ACME_WEBHOOK_SECRET, ADMIN_TOKEN, GLOBEX_KEY, publicResolver, SEND_AT_ONCE } from './gateway-stack.js';

export interface Instance {
  url: string;
  gateway: Gateway;
  store: Store;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: { code: number; msg: string; data: any } }>;
  close(): Promise<void>;
}

export interface Instances {
  sim: RunningSimulator;
  /** The config every instance starts with (the simulator's URL and the shared file filled in). */
  config(overrides?: Partial<ConfigInput>): ConfigInput;
  start(overrides?: Partial<ConfigInput>, clock?: Clock, deps?: Partial<GatewayDeps>): Promise<Instance>;
  /** The shared folder (the store file lives there; tests may write config files to it). */
  dir: string;
  close(): Promise<void>;
}

export async function startInstances(options: { simulator?: SimulatorOptions } = {}): Promise<Instances> {
  const sim = await createSimulator({ accounts: [{ apiKey: 'sk-up-a' }, { apiKey: 'sk-up-b' }], ...options.simulator });
  const dir = await mkdtemp(join(tmpdir(), 'lxg-instances-'));
  const running = new Set<Instance>();
  const config = (overrides: Partial<ConfigInput> = {}): ConfigInput => ({
    listen: { host: '127.0.0.1', port: 0 },
    store: `sqlite:${join(dir, 'gateway.db')}`,
    upstream: { baseUrl: sim.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a' }], keySyncMs: 50 },
    tenants: [
      { id: 'acme', apiKeys: [ACME_KEY], webhookSecret: ACME_WEBHOOK_SECRET },
      { id: 'globex', apiKeys: [GLOBEX_KEY], models: ['z-image'] },
    ],
    admin: { token: ADMIN_TOKEN },
    callbacks: { allowHttp: true, allowHosts: ['127.0.0.1'], retryScheduleMs: [100, 100, 100], pollIntervalMs: 50 },
    log: { level: 'silent' },
    queue: SEND_AT_ONCE,
    ...overrides,
  });
  return {
    sim,
    dir,
    config,
    async start(overrides = {}, clock, deps = {}) {
      const parsed = parseConfig(config(overrides));
      const store = await openStore(parsed.store);
      const gateway = await createGateway(parsed, {
        store,
        logger: createLogger({ level: 'silent' }),
        defaultMetrics: false,
        resolver: publicResolver,
        clock,
        ...deps,
      });
      const server = await listenGateway(gateway, { host: '127.0.0.1', port: 0 });
      const instance: Instance = {
        url: server.url,
        gateway,
        store,
        async admin(method, path, body) {
          const response = await fetch(`${server.url}/admin/v1${path}`, {
            // fetch upper-cases GET, POST, DELETE… but not PATCH.
            method: method.toUpperCase(),
            headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return { status: response.status, body: (await response.json()) as { code: number; msg: string; data: any } };
        },
        async close() {
          running.delete(instance);
          await server.close({ graceMs: 100 });
          await store.close();
        },
      };
      running.add(instance);
      return instance;
    },
    async close() {
      for (const instance of [...running]) await instance.close();
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
