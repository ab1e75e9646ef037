// Migration 0005 on a store written before it: the costs were USD floats (with their noise) and
// SQLite kept fractional times a bigint column refuses on PostgreSQL. The same rows are written
// on both dialects (fractions only where the column could hold them: SQLite) and must come out
// as integer micro-dollars and whole milliseconds.
import type { Kysely, MigrationProvider } from 'kysely';
import { expect } from 'vitest';
import { migrations } from '../../src/store/migrations.js';
import type { Store } from '../../src/store/index.js';

const T0 = 1_760_000_000_000;

/** Every migration before 0005: the schema as a gateway of the previous release left it. */
export const before0005: MigrationProvider = {
  getMigrations: async () => Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0005')),
};

/** What a task row held before 0005, with the floats a sum of USD left (0.035 × 3, a sum with noise). */
export async function writeBefore0005(db: Kysely<any>, options: { fractions: boolean }): Promise<void> {
  const fraction = options.fractions ? 0.4 : 0;
  const columns = {
    tenant_id: 'acme',
    upstream_key_id: 'up-1',
    model: 'z-image',
    call_back_url: 'https://t.example/cb',
    record: null,
    slot_id: null,
    callback_token_hash: null,
    checks: 0,
  };
  await db
    .insertInto('tasks')
    .values([
      {
        ...columns,
        task_id: 'done',
        state: 'success',
        created_at: T0 + fraction,
        updated_at: T0 + 10,
        final_at: T0 + 10,
        next_check_at: null,
        estimated_cost_usd: 0.035 * 3,
        actual_cost_usd: 0.22000000000000006,
      },
      {
        ...columns,
        task_id: 'open',
        state: 'generating',
        created_at: T0,
        updated_at: T0,
        final_at: null,
        next_check_at: T0 + 60_000 + fraction,
        estimated_cost_usd: 0.004,
        actual_cost_usd: null,
      },
      {
        ...columns,
        task_id: 'free',
        state: 'fail',
        created_at: T0,
        updated_at: T0 + 5,
        final_at: T0 + 5,
        next_check_at: null,
        estimated_cost_usd: null,
        actual_cost_usd: 0,
      },
    ])
    .execute();
  await db
    .insertInto('deliveries')
    .values({
      id: 'msg_1',
      task_id: 'done',
      tenant_id: 'acme',
      url: 'https://t.example/cb',
      payload: '{}',
      state: 'pending',
      attempts: 1,
      // The jittered retry time SQLite kept: 4321.7 ms after the first attempt.
      next_attempt_at: T0 + 10 + (options.fractions ? 4321.7 : 4322),
      lease_owner: null,
      lease_until: null,
      last_status: 503,
      last_error: 'HTTP 503',
      created_at: T0 + 10,
      updated_at: T0 + 10,
      delivered_at: null,
    })
    .execute();
}

/** The same rows read through the migrated store. */
export async function expectAfter0005(store: Store): Promise<void> {
  expect(await store.getTask('done')).toMatchObject({ createdAt: T0, estimatedCostMicros: 105_000, actualCostMicros: 220_000 });
  expect(await store.getTask('open')).toMatchObject({ nextCheckAt: T0 + 60_000, estimatedCostMicros: 4_000, actualCostMicros: null });
  expect(await store.getTask('free')).toMatchObject({ estimatedCostMicros: null, actualCostMicros: 0 });
  const [delivery] = await store.listDeliveries({});
  expect(delivery).toMatchObject({ nextAttemptAt: T0 + 4332, attempts: 1 });
  // Still a working outbox: the converted row is claimed when due and its next attempt recorded.
  expect(await store.claimDeliveries('w', T0 + 4332, 60_000, 10)).toHaveLength(1);
  expect(await store.finishDelivery('msg_1', 'w', { state: 'pending', nextAttemptAt: T0 + 40_000, status: 503, now: T0 + 4400 })).toBe(true);
  expect(await store.usage({ groupBy: 'model' })).toEqual([
    {
      tenantId: 'acme',
      group: 'z-image',
      tasks: 3,
      succeeded: 1,
      failed: 1,
      open: 1,
      estimatedUsdMicros: 109_000,
      actualUsdMicros: 220_000,
      queued: 0,
      dispatched: 3,
      cancelled: 0,
      expired: 0,
    },
  ]);
}
