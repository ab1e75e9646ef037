// A gateway built but not served, for the routes that run on Express (admin, ops): supertest
// drives `gateway.app` directly, so these tests need no simulator, no listenGateway and no free
// port of their own (supertest binds the app to an OS-chosen port 0 per request). Same tenants and
// tokens as the socket stack (gateway-stack.ts), so a test reads the same either way.
import request from 'supertest';
import { parseConfig, type ConfigInput } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { createLogger } from '../../src/gateway/ops/logging.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { ACME_KEY, ACME_WEBHOOK_SECRET, ADMIN_TOKEN, GLOBEX_KEY, publicResolver } from './gateway-stack.js';

export interface GatewayApp {
  gateway: Gateway;
  store: Store;
  /** supertest on the Express app: `app.http.get('/healthz')`. */
  http: ReturnType<typeof request>;
  /** An admin call with the admin token: `admin('post', '/tenants').send({...})`. */
  admin(method: 'get' | 'post' | 'patch' | 'delete', path: string): request.Test;
  close(): Promise<void>;
}

/** No request leaves: the admin and ops routes never call upstream, and the workers are off. */
const NOWHERE = 'http://127.0.0.1:9';

export async function buildGatewayApp(overrides: Partial<ConfigInput> = {}): Promise<GatewayApp> {
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    store: 'sqlite::memory:',
    upstream: { baseUrl: NOWHERE, keys: [{ id: 'key-a', apiKey: 'sk-up-a' }] },
    tenants: [
      { id: 'acme', apiKeys: [ACME_KEY], webhookSecret: ACME_WEBHOOK_SECRET },
      { id: 'globex', apiKeys: [GLOBEX_KEY], models: ['z-image'] },
    ],
    admin: { token: ADMIN_TOKEN },
    ...overrides,
  });
  const store = await openStore(config.store);
  const logger = createLogger({ level: 'silent' });
  const gateway = await createGateway(config, { store, logger, defaultMetrics: false, resolver: publicResolver, workers: false });
  const http = request(gateway.app);
  return {
    gateway,
    store,
    http,
    admin: (method, path) => http[method](`/admin/v1${path}`).set('authorization', `Bearer ${ADMIN_TOKEN}`),
    async close() {
      await gateway.close();
      await store.close();
    },
  };
}
