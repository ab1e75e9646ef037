// A real gateway on a free port in front of a real simulator, for gateway tests. Each test gets
// its own pair (and its own in-memory store), so nothing leaks between tests.
import { Writable } from 'node:stream';
import { createSimulator, type RunningSimulator, type SimulatorOptions } from '../../mock/simulator/index.js';
import { createLiangxinClient } from '../../src/client/index.js';
import { parseConfig, type ConfigInput } from '../../src/config/index.js';
import type { Clock } from '../../src/gateway/context.js';
import { createGateway, type Gateway, type GatewayDeps } from '../../src/gateway/index.js';
import { createLogger } from '../../src/gateway/ops/logging.js';
import { listenGateway, type RunningGateway } from '../../src/gateway/server.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import type { BlobStore } from '../../src/blobs/types.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const ACME_KEY = 'lxg_test_acme_0123456789abcdef';
export const GLOBEX_KEY = 'lxg_test_globex_0123456789abcdef';
export const ACME_WEBHOOK_SECRET = 'whsec_dGVzdC1hY21lLXdlYmhvb2stc2VjcmV0LTAxMjM0NQ==';

/**
 * Tests have no network: every name resolves to a documentation-free public address, so the
 * SSRF guard treats fixtures' example hosts as public (the guard's own tests cover the rest).
 */
export const publicResolver = async (hostname: string) =>
  hostname === 'localhost' ? [{ address: '127.0.0.1', family: 4 as const }] : [{ address: '93.184.216.34', family: 4 as const }];

/**
 * `queue` for the gateways the helpers build, unless a test passes its own: sent at once
 * (admission reject), not queued (the default). Most gateway tests check what happens when a task
 * is sent at once (pacing, failover, records, quotas, results); the queue has its own tests
 * (queue*.test.ts), and the default's is there too.
 */
export const SEND_AT_ONCE = { admission: 'reject' } as const;

export interface Stack {
  sim: RunningSimulator;
  gateway: Gateway;
  server: RunningGateway;
  store: Store;
  url: string;
  /** Every log line the gateway wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  rawLogs: string[];
  client(key?: string): ReturnType<typeof createLiangxinClient>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: { code: number; msg: string; data: any } }>;
  close(): Promise<void>;
}

export interface StackOptions {
  simulator?: SimulatorOptions;
  /** Replaces parts of the default config (upstream.baseUrl is filled in). */
  config?: (simUrl: string) => Partial<ConfigInput>;
  /** Point the gateway somewhere other than the simulator. */
  upstreamUrl?: string;
  /** The gateway's clock (test/helpers/wait.ts manualClock), for time-based rules tested without waiting. */
  clock?: Clock;
  /** More of the gateway's dependencies (e.g. dashboardAssets). */
  deps?: Partial<GatewayDeps>;
  /** The result copies' blob store (an S3 one with test credentials); built from the config when absent. */
  blobs?: BlobStore;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sim = await createSimulator({ accounts: [{ apiKey: 'sk-up-a' }, { apiKey: 'sk-up-b' }], ...options.simulator });
  const base: ConfigInput = {
    listen: { host: '127.0.0.1', port: 0 },
    store: 'sqlite::memory:',
    upstream: { baseUrl: options.upstreamUrl ?? sim.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a' }] },
    tenants: [
      { id: 'acme', apiKeys: [ACME_KEY], webhookSecret: ACME_WEBHOOK_SECRET },
      { id: 'globex', apiKeys: [GLOBEX_KEY], models: ['z-image'] },
    ],
    admin: { token: ADMIN_TOKEN },
    log: { level: 'info' },
    queue: SEND_AT_ONCE,
  };
  const config = parseConfig({ ...base, ...options.config?.(sim.url) });
  const store = await openStore(config.store);
  const rawLogs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      rawLogs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  const gateway = await createGateway(config, {
    store,
    logger,
    defaultMetrics: false,
    resolver: publicResolver,
    clock: options.clock,
    blobs: options.blobs,
    ...options.deps,
  });
  const server = await listenGateway(gateway, { host: '127.0.0.1', port: 0 });

  return {
    sim,
    gateway,
    server,
    store,
    url: server.url,
    rawLogs,
    get logs() {
      return rawLogs.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    client: (key = ACME_KEY) => createLiangxinClient({ baseUrl: server.url, apiKey: key }),
    async admin(method, path, body) {
      const response = await fetch(`${server.url}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { code: number; msg: string; data: any } };
    },
    async close() {
      await server.close({ graceMs: 100 });
      await store.close();
      await sim.close();
    },
  };
}

/** A raw request to the gateway, for checking statuses and headers exactly. */
export async function raw(url: string, init: { method?: string; key?: string; body?: unknown; rawBody?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined && init.rawBody === undefined ? 'GET' : 'POST'),
    headers,
    body: init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as { code: number; msg: string; data: any; [key: string]: any } };
}
