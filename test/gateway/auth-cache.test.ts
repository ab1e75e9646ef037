// The key cache: a tenant key is looked up in the store once and then served from memory, and
// any change to tenants or keys made through a gateway reaches every instance's cache at once
// (Redis pub/sub, or PostgreSQL LISTEN/NOTIFY): revoked on A, refused by B. The cache's own
// ceiling is set to an hour here, so only the invalidation can make B refuse within the test.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuthenticator, hashKey, keyIdFromHash, type Principal } from '../../src/gateway/auth.js';
import { createProcessBus } from '../../src/gateway/auth-cache/bus.js';
import { createKeyCache } from '../../src/gateway/auth-cache/key-cache.js';
import { changesTenants, invalidatingStore, TENANT_WRITES } from '../../src/gateway/auth-cache/store-hook.js';
import { openStore } from '../../src/store/index.js';
import type { ConfigInput } from '../../src/config/index.js';
import type { KeyLookup, Store } from '../../src/store/types.js';
import { buildGatewayApp, type GatewayApp } from '../helpers/gateway-app.js';
import { ACME_KEY, GLOBEX_KEY } from '../helpers/gateway-stack.js';
import { freshPostgres, type FreshPostgres } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { needsRedis } from '../helpers/services.js';
import { pollUntil } from '../helpers/wait.js';

const found: KeyLookup = {
  keyId: 'tk_1',
  tenantId: 'acme',
  revoked: false,
  tenantDisabled: false,
  models: null,
  quotas: { tasksPerDay: 5 },
  expiresAt: null,
  hasWebhookSecret: false,
};

/** A store whose only real method is findKeyByHash, counting its calls. */
function countingStore(answer: () => KeyLookup | undefined) {
  const calls = { findKeyByHash: 0 };
  const store = {
    findKeyByHash: async () => {
      calls.findKeyByHash++;
      return answer();
    },
  } as unknown as Store;
  return { store, calls };
}

describe('key cache', () => {
  it('looks a key up once, then answers from memory with the principal built once', async () => {
    const { store, calls } = countingStore(() => found);
    const cache = createKeyCache<Principal>({ maxAgeMs: 60_000, now: () => 0 });
    const authenticate = createAuthenticator(store, { cache, live: () => true });
    const first = await authenticate(`Bearer ${ACME_KEY}`);
    const second = await authenticate(`Bearer ${ACME_KEY}`);
    expect(calls.findKeyByHash).toBe(1);
    expect(second).toBe(first);
    expect(first).toMatchObject({ tenantId: 'acme', quotas: { tasksPerDay: 5 }, settings: { unknownFields: 'reject' } });
    expect(Object.isFrozen(first.quotas)).toBe(true);
  });

  it('goes to the store on every call while the bus cannot hear of changes', async () => {
    const { store, calls } = countingStore(() => found);
    const authenticate = createAuthenticator(store, { cache: createKeyCache<Principal>({ maxAgeMs: 60_000, now: () => 0 }), live: () => false });
    await authenticate(`Bearer ${ACME_KEY}`);
    await authenticate(`Bearer ${ACME_KEY}`);
    expect(calls.findKeyByHash).toBe(2);
  });

  it('never keeps unknown keys, and drops a lookup that raced with a change', async () => {
    let current: KeyLookup | undefined;
    const { store, calls } = countingStore(() => current);
    const cache = createKeyCache<Principal>({ maxAgeMs: 60_000, now: () => 0 });
    const authenticate = createAuthenticator(store, { cache, live: () => true });
    await expect(authenticate(`Bearer ${ACME_KEY}`)).rejects.toMatchObject({ code: 401 });
    expect(cache.size()).toBe(0);
    // A change lands while a lookup is on its way: what that lookup read is not kept.
    current = found;
    const started = cache.generation();
    cache.clear();
    cache.set(hashKey(ACME_KEY), started, { found, principal: {} as Principal });
    expect(cache.size()).toBe(0);
    await authenticate(`Bearer ${ACME_KEY}`);
    expect(calls.findKeyByHash).toBe(2);
  });

  it('serves an entry no longer than its ceiling, and not at all with 0', async () => {
    let now = 0;
    const { store, calls } = countingStore(() => found);
    const authenticate = createAuthenticator(store, { cache: createKeyCache<Principal>({ maxAgeMs: 1000, now: () => now }), live: () => true });
    await authenticate(`Bearer ${ACME_KEY}`);
    now = 999;
    await authenticate(`Bearer ${ACME_KEY}`);
    now = 1000;
    await authenticate(`Bearer ${ACME_KEY}`);
    expect(calls.findKeyByHash).toBe(2);
    const off = countingStore(() => found);
    const uncached = createAuthenticator(off.store, { cache: createKeyCache<Principal>({ maxAgeMs: 0, now: () => 0 }), live: () => true });
    await uncached(`Bearer ${ACME_KEY}`);
    await uncached(`Bearer ${ACME_KEY}`);
    expect(off.calls.findKeyByHash).toBe(2);
  });

  it('names every write of a real store that touches tenants, their keys or their webhook secret', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const methods = Object.keys(store).filter((name) => typeof (store as unknown as Record<string, unknown>)[name] === 'function');
      // Readers by their verb, and the one that sums per tenant; anything else naming tenants or webhooks writes.
      const readers = (name: string) => /^(get|list|find|count)/.test(name) || name === 'copyBytesByTenant';
      const touching = methods.filter((name) => /Tenant|Webhook/.test(name) && !readers(name));
      expect(touching.sort()).toEqual([...TENANT_WRITES].sort());
    } finally {
      await store.close();
    }
  });

  it('hooks every Store method that changes tenants or keys, and only those', async () => {
    for (const name of ['upsertTenant', 'updateTenant', 'addTenantKey', 'revokeTenantKey', 'updateTenantKey', 'deleteTenant', 'setWebhookSecrets'])
      expect(changesTenants(name), name).toBe(true);
    for (const name of ['getTenant', 'listTenants', 'listTenantKeys', 'findKeyByHash', 'tenantUsage', 'insertTask', 'updateTask', 'usage'])
      expect(changesTenants(name), name).toBe(false);
    let changes = 0;
    const bus = createProcessBus();
    bus.onInvalidate(() => changes++);
    const store = invalidatingStore({ revokeTenantKey: async () => true, getTenant: async () => undefined } as unknown as Store, () => bus.publish());
    await store.getTenant('acme');
    expect(changes).toBe(0);
    await expect(store.revokeTenantKey('acme', 'tk_1', 0)).resolves.toBe(true);
    expect(changes).toBe(1);
  });
});

describe('revoked on one instance, refused by the other', () => {
  let pg: FreshPostgres | undefined;
  let redis: TestRedis | undefined;
  let apps: GatewayApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await pg?.drop();
    await redis?.close();
    apps = [];
    pg = redis = undefined;
  });

  /** Two gateways on one fresh PostgreSQL schema (and Redis when given), keys cached for an hour. */
  async function twoInstances(extra: Partial<ConfigInput> = {}): Promise<[GatewayApp, GatewayApp]> {
    pg = await freshPostgres();
    const overrides: Partial<ConfigInput> = { store: pg.url, auth: { keyCacheMs: 3_600_000 }, ...extra };
    const a = await buildGatewayApp(overrides);
    apps.push(a);
    const b = await buildGatewayApp(overrides);
    apps.push(b);
    return [a, b];
  }

  /** An authenticated recordInfo of a task that does not exist: 401 when refused, else 200 (422 inside). */
  const status = async (app: GatewayApp, key: string) =>
    (await request(app.gateway.handler).get('/api/v1/jobs/recordInfo?taskId=gt_none').set('authorization', `Bearer ${key}`)).status;

  async function revokeOnARefusedByB(a: GatewayApp, b: GatewayApp) {
    await pollUntil('the instances to listen for invalidations', () => status(b, ACME_KEY).then((s) => s === 200));
    expect(await status(b, GLOBEX_KEY)).toBe(200);
    // Revoked behind the gateways' backs (straight in the store): B goes on serving its cached key.
    expect(await a.store.revokeTenantKey('globex', keyIdFromHash(hashKey(GLOBEX_KEY)), Date.now())).toBe(true);
    expect(await status(b, GLOBEX_KEY)).toBe(200);
    // Revoked through A: A refuses at once, B as soon as the message arrives.
    const revoked = await a.admin('delete', `/tenants/acme/keys/${keyIdFromHash(hashKey(ACME_KEY))}`);
    expect(revoked.status).toBe(200);
    expect(await status(a, ACME_KEY)).toBe(401);
    await pollUntil('B to refuse the key revoked on A', async () => (await status(b, ACME_KEY)) === 401);
    // The message cleared B's whole cache: the key revoked behind its back is refused now too.
    expect(await status(b, GLOBEX_KEY)).toBe(401);
  }

  it('with PostgreSQL alone: LISTEN/NOTIFY', async () => {
    const [a, b] = await twoInstances();
    await revokeOnARefusedByB(a, b);
    const metrics = (await b.http.get('/metrics')).text;
    expect(metrics).toContain('lxg_auth_key_cache_live{bus="postgres"} 1');
  });

  it.skipIf(needsRedis.skip)('while Redis is down, every call goes to the store; back, calls are answered as before', async () => {
    redis = await startRedis();
    const [a, b] = await twoInstances({ redis: { url: redis.url, prefix: `t${randomUUID()}`, failOpen: true } });
    await pollUntil('B to listen for invalidations', () => status(b, ACME_KEY).then((s) => s === 200));
    await redis.stop();
    // No message can reach B now: a key revoked behind its back is refused at once all the same.
    expect(await a.store.revokeTenantKey('globex', keyIdFromHash(hashKey(GLOBEX_KEY)), Date.now())).toBe(true);
    await pollUntil('B to refuse while Redis is down', async () => (await status(b, GLOBEX_KEY)) === 401);
    await redis.start();
    await pollUntil('B to accept its key again once Redis is back', async () => (await status(b, ACME_KEY)) === 200);
    expect(await status(b, GLOBEX_KEY)).toBe(401);
  });

  it.skipIf(needsRedis.skip)('with Redis: pub/sub', async () => {
    redis = await startRedis();
    const [a, b] = await twoInstances({ redis: { url: redis.url, prefix: `t${randomUUID()}` } });
    await revokeOnARefusedByB(a, b);
  });
});
