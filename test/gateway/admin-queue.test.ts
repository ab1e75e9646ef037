// Queue settings of tenants made or changed through the admin API (issue 16): `queue` on
// POST/PATCH /admin/v1/tenants, checked by the config's own schema, stored with the tenant's
// other settings and applied without a restart: by createTask (maxQueued, admission) and by the
// dispatcher (weight). The gateway and the simulator share one manual clock; after each move the
// test waits for the dispatcher to have done what it can (`idle()`), so nothing depends on speed.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig, tenantQueueSchema } from '../../src/config/index.js';
import { seedTenants } from '../../src/gateway/tenants.js';
import { loadGatewaySpec } from '../../src/spec/document.js';
import { openStore } from '../../src/store/index.js';
import { ACME_KEY, startStack, type Stack } from '../helpers/gateway-stack.js';
import { manualClock } from '../helpers/wait.js';

const zImage = { model: 'z-image', input: { prompt: 'A lighthouse at dawn', aspect_ratio: '16:9' } };
const WINDOW_MS = 10_000;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

type Clock = ReturnType<typeof manualClock>;

/** One provider key sending `perWindow` createTasks per 10 s; tasks never end on their own. */
async function queueStack(clock: Clock, perWindow: number): Promise<Stack> {
  stack = await startStack({
    clock,
    simulator: { now: clock.now, createPer10s: 20, timing: 'realistic' },
    config: (simUrl) => ({
      upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: perWindow }] },
      queue: { admission: 'queue' },
    }),
  });
  return stack;
}

/** An admin-made tenant with the given queue settings, and a key of it. */
async function tenantWith(s: Stack, id: string, queue: Record<string, unknown>): Promise<string> {
  const created = await s.admin('POST', '/tenants', { id, queue });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return (await s.admin('POST', `/tenants/${id}/keys`, {})).body.data.secret as string;
}

const create = (s: Stack, key: string) =>
  fetch(`${s.url}/api/v1/jobs/createTask`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(zImage),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code: number; msg: string; data: any } }));

/** Bounds as JSON Schema states them, made comparable: integers' exclusive bounds made inclusive, no bound at the safe-integer limit. */
function rules(schema: Record<string, unknown>) {
  const { description: _d, exclusiveMinimum, maximum, ...rest } = schema as { description?: string; exclusiveMinimum?: number; maximum?: number };
  return {
    ...rest,
    ...(exclusiveMinimum !== undefined && { minimum: exclusiveMinimum + 1 }),
    ...(maximum !== undefined && maximum !== Number.MAX_SAFE_INTEGER && { maximum }),
  };
}

describe('tenant queue settings through the admin API', () => {
  it("are the config's: the spec's TenantQueue states the rules of tenants[].queue", () => {
    const fromConfig = z.toJSONSchema(tenantQueueSchema, { io: 'input' }) as { properties: Record<string, Record<string, unknown>> };
    const spec = loadGatewaySpec().components.schemas.TenantQueue as { properties: Record<string, Record<string, unknown>>; additionalProperties: boolean };
    expect(Object.keys(spec.properties)).toEqual(Object.keys(fromConfig.properties));
    for (const [name, rule] of Object.entries(spec.properties)) expect(rules(rule), name).toEqual(rules(fromConfig.properties[name]!));
    expect(spec.additionalProperties).toBe(false);
  });

  it('of config tenants are stored with them at start and reload; the store wins once the admin API changed the tenant', async () => {
    const store = await openStore('sqlite::memory:');
    const seed = (weight: number) => {
      const config = parseConfig({
        upstream: { baseUrl: 'http://127.0.0.1:9', keys: [{ id: 'key-a', apiKey: 'sk-up-a' }] },
        tenants: [{ id: 'acme', apiKeys: [ACME_KEY], queue: { weight } }],
      });
      return seedTenants(store, config.tenants, 1_780_000_000_000, { secretOverlapMs: 0 });
    };
    const queueOf = async () => (await store.getTenant('acme'))!.settings?.queue;
    try {
      await seed(2);
      expect(await queueOf()).toEqual({ weight: 2 });
      await seed(3);
      expect(await queueOf()).toEqual({ weight: 3 });
      // Changed through the admin API before the store kept queue settings: the config's are carried over, once.
      await store.updateTenant('acme', { source: 'admin', settings: { unknownFields: 'drop' } }, 1_780_000_000_000);
      await seed(4);
      expect((await store.getTenant('acme'))!.settings).toEqual({ unknownFields: 'drop', queue: { weight: 4 } });
      await seed(5);
      expect(await queueOf()).toEqual({ weight: 4 });
    } finally {
      await store.close();
    }
  });

  it('are shown, refused as the config refuses them, and maxQueued and admission apply at once', async () => {
    const clock = manualClock(1_780_000_000_000);
    const s = await queueStack(clock, 1);
    const key = await tenantWith(s, 'initech', { maxQueued: 1 });
    expect((await s.admin('GET', '/tenants/initech')).body.data.queue).toEqual({ admission: 'queue', weight: 1, maxQueued: 1 });
    expect(await s.admin('POST', '/tenants', { id: 'bad', queue: { weight: 0 } })).toMatchObject({
      status: 422,
      body: { data: { errors: [{ path: expect.stringMatching(/weight/) }] } },
    });
    expect(await s.admin('PATCH', '/tenants/initech', { queue: { maxQueued: 1.5 } })).toMatchObject({ status: 422 });

    expect((await create(s, key)).status).toBe(200); // sent: the key's one send of this window
    await s.gateway.dispatcher!.idle();
    expect((await create(s, key)).status).toBe(200); // waits
    expect(await create(s, key)).toMatchObject({ status: 429, body: { data: { limit: 'maxQueued' } } });

    const patched = await s.admin('PATCH', '/tenants/initech', { queue: { maxQueued: 2, weight: 5 } });
    expect(patched.body.data.queue).toEqual({ admission: 'queue', weight: 5, maxQueued: 2 });
    expect((await create(s, key)).status).toBe(200);
    expect(await s.store.countQueued('initech')).toBe(2);

    // reject: sent at once or refused at the keys' pace, as before the queue; never queued.
    await s.admin('PATCH', '/tenants/initech', { queue: { admission: 'reject' } });
    expect(await create(s, key)).toMatchObject({ status: 429 });
    expect(await s.store.countQueued('initech')).toBe(2);
    // `{}`: back to the config's defaults (queue, no cap).
    expect((await s.admin('PATCH', '/tenants/initech', { queue: {} })).body.data.queue).toEqual({ admission: 'queue', weight: 1 });
    for (let i = 0; i < 3; i++) expect((await create(s, key)).status).toBe(200);
    expect(await s.store.countQueued('initech')).toBe(5);
  });

  it('weight: the dispatcher sends 3 of a tenant weighted 3 for 1 of one weighted 1, as read from the store', async () => {
    const clock = manualClock(1_780_000_000_000);
    const s = await queueStack(clock, 1);
    const heavy = await tenantWith(s, 'heavy', { weight: 1 });
    const light = await tenantWith(s, 'light', {});
    // heavy's weight changes after it was made: the dispatcher reads it from the store.
    expect((await s.admin('PATCH', '/tenants/heavy', { queue: { weight: 3 } })).body.data.queue).toMatchObject({ weight: 3 });
    // The window's one send goes to a first tenant, so both backlogs wait for the next windows.
    const filler = await tenantWith(s, 'filler', {});
    expect((await create(s, filler)).status).toBe(200);
    await s.gateway.dispatcher!.idle();
    expect(await s.store.countQueued('filler')).toBe(0);
    for (let i = 0; i < 8; i++) {
      expect((await create(s, heavy)).status).toBe(200);
      expect((await create(s, light)).status).toBe(200);
    }
    await s.gateway.dispatcher!.idle();
    const sent = async () => [8 - (await s.store.countQueued('heavy')), 8 - (await s.store.countQueued('light'))];
    expect(await sent()).toEqual([0, 0]);
    // One send per 10 s; equal weights would alternate (2 and 2).
    for (let window = 0; window < 4; window++) {
      clock.advance(WINDOW_MS);
      await s.gateway.dispatcher!.idle();
    }
    expect(await sent()).toEqual([3, 1]);
  });
});
