// failOpen with two instances and Redis gone: each instance rebuilds the tenant's counts from the
// store (the ledger both write) and enforces its share of what was left, so together they stay
// within every task limit; requestsPerMinute and maxInFlight are divided by the instances Redis
// last counted. The backends are the real ones, on a real redis-server and a real store.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { TenantQuotas } from '../../src/config/index.js';
import { ledgerUsage } from '../../src/gateway/quota.js';
import { createRedisQuota } from '../../src/quota/redis.js';
import type { Admission } from '../../src/quota/types.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { needsRedis } from '../helpers/services.js';

const LEASE_MS = 3_600_000;
let redis: TestRedis | undefined;
let store: Store | undefined;
let backends: Array<ReturnType<typeof createRedisQuota>> = [];
afterEach(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await redis?.close();
  await store?.close();
  [redis, store, backends] = [undefined, undefined, []];
});

/** `count` tasks of `tenantId` created at `at`, `open` of them still running. */
async function tasksInStore(s: Store, tenantId: string, at: number, count: number, open: number) {
  await s.upsertTenant({ id: tenantId, models: null, disabled: false, source: 'config' }, at);
  for (let i = 0; i < count; i++) {
    const running = i < open;
    await s.insertTask({
      taskId: `task-${randomUUID()}`,
      tenantId,
      upstreamKeyId: 'key-a',
      model: 'z-image',
      callBackUrl: null,
      state: running ? 'generating' : 'success',
      record: null,
      createdAt: at,
      updatedAt: 0,
      finalAt: running ? null : at,
      slotId: randomUUID(),
      estimatedCostMicros: 4000,
      actualCostMicros: running ? null : 4000,
      callbackTokenHash: null,
      nextCheckAt: null,
      checks: 0,
    });
  }
}

/** Two instances on one Redis and one store, each knowing of the other; then Redis goes. */
async function twoInstancesWithoutRedis() {
  redis = await startRedis();
  store = await openStore('sqlite::memory:');
  const prefix = `f${randomUUID()}`;
  const make = () =>
    createRedisQuota({ url: redis!.url, prefix, failOpen: true, commandTimeoutMs: 200, heartbeatMs: 50, leaseMs: LEASE_MS, loadUsage: ledgerUsage(store!) });
  backends = [make(), make()];
  for (let i = 0; i < 1600 && !backends.every((b) => b.instances() === 2); i++) await new Promise((r) => setTimeout(r, 25));
  expect(backends.map((b) => b.instances())).toEqual([2, 2]);
  await redis.stop();
  return { store, backends };
}

/** `count` admissions at once, alternating between the instances. */
async function admitMany(tenantId: string, quotas: TenantQuotas, count: number, now: number, task = true): Promise<Admission[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      backends[i % 2]!.admit(tenantId, quotas, now, task ? { slotId: randomUUID(), estimateMicros: 4000, leaseMs: LEASE_MS, keys: [] } : undefined),
    ),
  );
}

const passed = (answers: Admission[]) => answers.filter((a) => a.ok).length;

describe('failOpen, two instances, Redis down', needsRedis, () => {
  it('tasksPerDay 50 with 30 used: 20 more in all, not 50 more per instance', async () => {
    const now = Date.now();
    const { store: s } = await twoInstancesWithoutRedis();
    await tasksInStore(s, 'acme', now, 30, 0);
    const answers = await admitMany('acme', { tasksPerDay: 50 }, 120, now);
    expect(passed(answers)).toBe(20);
    expect(answers.find((a) => !a.ok)).toMatchObject({ limit: 'tasksPerDay' });
  });

  it('maxInFlight, the budget and requestsPerMinute: each instance has its share', async () => {
    const now = Date.now();
    const { store: s } = await twoInstancesWithoutRedis();
    await tasksInStore(s, 'inflight', now, 4, 4);
    expect(passed(await admitMany('inflight', { maxInFlight: 10 }, 40, now))).toBe(6); // (10 − 4) ÷ 2 each
    await tasksInStore(s, 'budget', now, 6, 4); // $0.008 spent, $0.016 reserved
    expect(passed(await admitMany('budget', { budgetUsdPerMonth: 0.05 }, 40, now))).toBe(6); // ($0.05 − $0.024) ÷ 2 = $0.013 each: 3 tasks
    expect(passed(await admitMany('calls', { requestsPerMinute: 9 }, 40, now, false))).toBe(8); // 9 ÷ 2 = 4 each
  });
});
