// The behaviour every Store must have, whatever its dialect: SQLite (memory and file) and
// PostgreSQL run the very same suite. `open` gives a fresh, empty, migrated store; `openTwo`, two
// stores (two connections, or pools) on one fresh database, for the races between instances;
// without it (SQLite in memory, where no second store can see the first one's data) those
// races run on one store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UNSENT_FAIL_CODES } from '../../src/client/types.js';
import { StoreValueError, type NewDelivery, type Store, type TaskRow, type TaskUpdate, type TenantKeyRow } from '../../src/store/index.js';

// Past 2^32 on purpose: Unix milliseconds must come back as exact JS numbers.
const T0 = 1_760_000_000_000;

export function task(overrides: Partial<TaskRow> = {}): TaskRow {
  return {
    taskId: 'task-1',
    gatewayTaskId: null,
    tenantId: 'acme',
    upstreamKeyId: 'up-1',
    upstreamId: null,
    model: 'z-image',
    callBackUrl: null,
    state: 'waiting',
    record: null,
    param: null,
    createdAt: T0,
    updatedAt: T0,
    finalAt: null,
    slotId: null,
    estimatedCostMicros: null,
    actualCostMicros: null,
    callbackTokenHash: null,
    nextCheckAt: null,
    checks: 0,
    providerTaskId: null,
    queuedAt: null,
    priority: 0,
    deadlineAt: null,
    upstreamBody: null,
    ...overrides,
  };
}

export function delivery(overrides: Partial<NewDelivery> = {}): NewDelivery {
  return {
    id: 'msg_1',
    tenantId: 'acme',
    url: 'https://tenant.example/cb',
    payload: '{"code":200,"data":{"taskId":"task-1","state":"success"}}',
    createdAt: T0 + 100,
    ...overrides,
  };
}

export interface TwoStores {
  a: Store;
  b: Store;
  close: () => Promise<void>;
}

export function key(overrides: Partial<Omit<TenantKeyRow, 'revokedAt'>> = {}): Omit<TenantKeyRow, 'revokedAt'> {
  return { id: 'tk_1', tenantId: 'acme', hash: 'a'.repeat(64), label: null, source: 'config', createdAt: T0, ...overrides };
}

const record = (state: string, n: number) => JSON.stringify({ state, n });

const DAY = 86_400_000;
/** Midnight UTC of T0's day (2025-10-09). */
const DAY0 = Math.floor(T0 / DAY) * DAY;

const successAt = (at: number, actualCostMicros?: number | null): TaskUpdate => ({
  state: 'success',
  record: record('success', at),
  updatedAt: at,
  finalAt: at,
  ...(actualCostMicros !== undefined && { actualCostMicros }),
});

export function describeStore(name: string, open: () => Promise<Store>, openTwo?: () => Promise<TwoStores>): void {
  describe(`Store: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('lifecycle', () => {
      it('answers ping', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('re-running migrate is harmless and keeps the data', async () => {
        await store.upsertTenant({ id: 'acme', models: null, disabled: false, source: 'config' }, T0);
        await store.insertTask(task());
        await store.migrate();
        await store.migrate();
        expect(await store.getTenant('acme')).toBeDefined();
        expect(await store.countTasks()).toBe(1);
      });

      it('can be closed twice', async () => {
        await store.close();
        await expect(store.close()).resolves.toBeUndefined();
      });
    });

    describe('tenants', () => {
      it('creates a tenant and reads it back', async () => {
        const created = await store.upsertTenant({ id: 'acme', models: ['z-image', 'kling-v3-pro'], disabled: false, source: 'admin' }, T0);
        const expected = { id: 'acme', models: ['z-image', 'kling-v3-pro'], quotas: null, disabled: false, source: 'admin', createdAt: T0, updatedAt: T0 };
        expect(created).toEqual(expected);
        expect(await store.getTenant('acme')).toEqual(expected);
      });

      it('keeps null (every model) apart from an empty allow-list', async () => {
        await store.upsertTenant({ id: 'all', models: null, disabled: false, source: 'config' }, T0);
        await store.upsertTenant({ id: 'none', models: [], disabled: true, source: 'config' }, T0);
        expect(await store.getTenant('all')).toMatchObject({ models: null, disabled: false });
        expect(await store.getTenant('none')).toMatchObject({ models: [], disabled: true });
      });

      it('returns undefined for a missing tenant', async () => {
        expect(await store.getTenant('nobody')).toBeUndefined();
      });

      it('re-applying the config updates models and disabled but keeps createdAt', async () => {
        await store.upsertTenant({ id: 'acme', models: ['z-image'], disabled: false, source: 'config' }, T0);
        const again = await store.upsertTenant({ id: 'acme', models: null, disabled: true, source: 'config' }, T0 + 5000);
        expect(again).toEqual({ id: 'acme', models: null, quotas: null, disabled: true, source: 'config', createdAt: T0, updatedAt: T0 + 5000 });
        expect(await store.getTenant('acme')).toEqual(again);
        expect(await store.listTenants()).toHaveLength(1);
      });

      it('lists tenants by id', async () => {
        for (const id of ['zeta', 'acme', 'mid']) await store.upsertTenant({ id, models: null, disabled: false, source: 'admin' }, T0);
        expect((await store.listTenants()).map((t) => t.id)).toEqual(['acme', 'mid', 'zeta']);
      });

      it('lists nothing when there are no tenants', async () => {
        expect(await store.listTenants()).toEqual([]);
      });

      it('updates only the fields given', async () => {
        await store.upsertTenant({ id: 'acme', models: ['z-image'], disabled: false, source: 'admin' }, T0);
        expect(await store.updateTenant('acme', { disabled: true }, T0 + 1)).toEqual({
          id: 'acme',
          models: ['z-image'],
          quotas: null,
          disabled: true,
          source: 'admin',
          createdAt: T0,
          updatedAt: T0 + 1,
        });
        expect(await store.updateTenant('acme', { models: null }, T0 + 2)).toMatchObject({ models: null, disabled: true, updatedAt: T0 + 2 });
        expect(await store.updateTenant('acme', { models: ['flux-2'], disabled: false }, T0 + 3)).toMatchObject({
          models: ['flux-2'],
          disabled: false,
          createdAt: T0,
        });
        expect(await store.getTenant('acme')).toMatchObject({ models: ['flux-2'], disabled: false, updatedAt: T0 + 3 });
      });

      it('keeps quotas, replaces them on update and reports them with the key', async () => {
        await store.upsertTenant({ id: 'acme', models: null, quotas: { tasksPerDay: 100, budgetUsdPerMonth: 12.5 }, disabled: false, source: 'config' }, T0);
        expect((await store.getTenant('acme'))!.quotas).toEqual({ tasksPerDay: 100, budgetUsdPerMonth: 12.5 });
        await store.addTenantKey(key());
        expect((await store.findKeyByHash(key().hash))!.quotas).toEqual({ tasksPerDay: 100, budgetUsdPerMonth: 12.5 });
        expect((await store.updateTenant('acme', { quotas: { maxInFlight: 3 } }, T0 + 1))!.quotas).toEqual({ maxInFlight: 3 });
        expect((await store.updateTenant('acme', { quotas: null }, T0 + 2))!.quotas).toBeNull();
        expect((await store.updateTenant('acme', { disabled: true }, T0 + 3))!.quotas).toBeNull();
      });

      it('updating a missing tenant returns undefined and creates nothing', async () => {
        expect(await store.updateTenant('nobody', { disabled: true }, T0)).toBeUndefined();
        expect(await store.listTenants()).toEqual([]);
      });
    });

    describe('tenant keys', () => {
      beforeEach(async () => {
        await store.upsertTenant({ id: 'acme', models: ['z-image'], disabled: false, source: 'config' }, T0);
        await store.upsertTenant({ id: 'other', models: null, disabled: false, source: 'admin' }, T0);
      });

      it('adds keys and lists those of one tenant only, oldest first', async () => {
        await store.addTenantKey(key({ id: 'tk_2', hash: 'b'.repeat(64), label: 'ci', source: 'admin', createdAt: T0 + 10 }));
        await store.addTenantKey(key());
        await store.addTenantKey(key({ id: 'tk_3', tenantId: 'other', hash: 'c'.repeat(64) }));
        expect(await store.listTenantKeys('acme')).toEqual([
          { ...key(), revokedAt: null },
          { id: 'tk_2', tenantId: 'acme', hash: 'b'.repeat(64), label: 'ci', source: 'admin', createdAt: T0 + 10, revokedAt: null },
        ]);
        expect((await store.listTenantKeys('other')).map((k) => k.id)).toEqual(['tk_3']);
        expect(await store.listTenantKeys('nobody')).toEqual([]);
      });

      it('ignores a hash that already exists', async () => {
        await store.addTenantKey(key());
        await store.revokeTenantKey('acme', 'tk_1', T0 + 1);
        // Same hash again (the config re-applied at start), even under another id or tenant.
        await expect(store.addTenantKey(key())).resolves.toBeUndefined();
        await expect(store.addTenantKey(key({ id: 'tk_9', tenantId: 'other', label: 'dup' }))).resolves.toBeUndefined();
        // The same id for another secret is a mistake, not a repeat.
        await expect(store.addTenantKey(key({ hash: 'e'.repeat(64) }))).rejects.toThrow(/already names another key/);
        expect(await store.listTenantKeys('acme')).toEqual([{ ...key(), revokedAt: T0 + 1 }]);
        expect(await store.listTenantKeys('other')).toEqual([]);
        expect(await store.findKeyByHash(key().hash)).toMatchObject({ keyId: 'tk_1', tenantId: 'acme', revoked: true });
      });

      it('refuses a key of a tenant that does not exist', async () => {
        await expect(store.addTenantKey(key({ tenantId: 'nobody' }))).rejects.toThrow();
        expect(await store.findKeyByHash(key().hash)).toBeUndefined();
      });

      it('finds a key by hash with what auth needs', async () => {
        await store.addTenantKey(key());
        expect(await store.findKeyByHash(key().hash)).toEqual({
          keyId: 'tk_1',
          tenantId: 'acme',
          revoked: false,
          expiresAt: null,
          tenantDisabled: false,
          hasWebhookSecret: false,
          models: ['z-image'],
          quotas: null,
        });
        expect(await store.findKeyByHash('f'.repeat(64))).toBeUndefined();
      });

      it('reports a revoked key as revoked', async () => {
        await store.addTenantKey(key());
        expect(await store.revokeTenantKey('acme', 'tk_1', T0 + 100)).toBe(true);
        expect(await store.findKeyByHash(key().hash)).toMatchObject({ keyId: 'tk_1', revoked: true });
        expect(await store.listTenantKeys('acme')).toEqual([{ ...key(), revokedAt: T0 + 100 }]);
      });

      it('keeps the first revocation time', async () => {
        await store.addTenantKey(key());
        await store.revokeTenantKey('acme', 'tk_1', T0 + 100);
        expect(await store.revokeTenantKey('acme', 'tk_1', T0 + 999)).toBe(true);
        expect((await store.listTenantKeys('acme'))[0]!.revokedAt).toBe(T0 + 100);
      });

      it('revokes only a key of that tenant', async () => {
        await store.addTenantKey(key());
        expect(await store.revokeTenantKey('other', 'tk_1', T0 + 1)).toBe(false);
        expect(await store.revokeTenantKey('acme', 'tk_unknown', T0 + 1)).toBe(false);
        expect(await store.revokeTenantKey('nobody', 'tk_1', T0 + 1)).toBe(false);
        expect(await store.findKeyByHash(key().hash)).toMatchObject({ revoked: false });
      });

      it('reports a disabled tenant and follows its allow-list', async () => {
        await store.addTenantKey(key());
        await store.updateTenant('acme', { disabled: true, models: null }, T0 + 1);
        expect(await store.findKeyByHash(key().hash)).toEqual({
          keyId: 'tk_1',
          tenantId: 'acme',
          revoked: false,
          expiresAt: null,
          tenantDisabled: true,
          hasWebhookSecret: false,
          models: null,
          quotas: null,
        });
        await store.upsertTenant({ id: 'acme', models: ['flux-2'], disabled: false, source: 'config' }, T0 + 2);
        expect(await store.findKeyByHash(key().hash)).toMatchObject({ tenantDisabled: false, models: ['flux-2'] });
      });
    });

    describe('tasks', () => {
      it('stores a task and reads it back exactly', async () => {
        const full = task({ callBackUrl: 'https://tenant.example/cb', record: record('waiting', 0), state: 'queuing', updatedAt: T0 + 1 });
        await store.insertTask(full);
        await store.insertTask(task({ taskId: 'task-2' }));
        expect(await store.getTask('task-1')).toEqual(full);
        expect(await store.getTask('task-2')).toEqual(task({ taskId: 'task-2' }));
        const read = await store.getTask('task-1');
        expect(typeof read!.createdAt).toBe('number');
      });

      it('returns undefined for a missing task', async () => {
        expect(await store.getTask('nope')).toBeUndefined();
      });

      it('inserts the tasks of one turn together, each exactly; a refused one is refused alone', async () => {
        await store.insertTask(task({ taskId: 'taken', callbackTokenHash: 'h-taken' }));
        const rows = Array.from({ length: 70 }, (_, i) =>
          task({ taskId: `turn-${i}`, callbackTokenHash: `h-${i}`, model: i % 2 ? 'flux-2' : 'z-image', callBackUrl: i % 3 ? null : `https://t.example/${i}` }),
        );
        // 70 rows: more than one statement holds (postgres-batch.ts), the duplicate among them.
        const outcomes = await Promise.allSettled([
          ...rows.slice(0, 35).map((r) => store.insertTask(r)),
          store.insertTask(task({ taskId: 'taken' })),
          ...rows.slice(35).map((r) => store.insertTask(r)),
        ]);
        expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
        expect(outcomes[35]!.status).toBe('rejected');
        for (const row of rows) expect(await store.getTask(row.taskId)).toEqual(row);
        expect(await store.countTasks()).toBe(71);
      });

      it('refuses a second task with the same id', async () => {
        await store.insertTask(task());
        await expect(store.insertTask(task({ model: 'flux-2' }))).rejects.toThrow();
        expect(await store.getTask('task-1')).toMatchObject({ model: 'z-image' });
      });

      it('counts tasks', async () => {
        expect(await store.countTasks()).toBe(0);
        for (let i = 0; i < 3; i++) await store.insertTask(task({ taskId: `t${i}` }));
        expect(await store.countTasks()).toBe(3);
      });

      it('applies a newer record and says so', async () => {
        await store.insertTask(task());
        const update = { state: 'generating', record: record('generating', 1), updatedAt: T0 + 10, finalAt: null } as const;
        expect(await store.updateTask('task-1', update)).toBe(true);
        expect(await store.getTask('task-1')).toEqual(task({ state: 'generating', record: update.record, updatedAt: T0 + 10 }));
      });

      it('applies a record with the same updatedAt', async () => {
        await store.insertTask(task());
        expect(await store.updateTask('task-1', { state: 'queuing', record: record('queuing', 1), updatedAt: T0, finalAt: null })).toBe(true);
        expect(await store.getTask('task-1')).toMatchObject({ state: 'queuing' });
      });

      it('writes nothing for a poll that brings back the record already stored', async () => {
        await store.insertTask(task());
        const update = { state: 'generating', record: record('generating', 1), updatedAt: T0 + 10, finalAt: null } as const;
        expect(await store.updateTask('task-1', update)).toBe(true);
        expect(await store.updateTask('task-1', update)).toBe(false);
        expect(await store.updateTask('task-1', { ...update, record: record('generating', 2) })).toBe(true);
        expect(await store.getTask('task-1')).toMatchObject({ record: record('generating', 2) });
      });

      it('never replaces a record with an older one', async () => {
        await store.insertTask(task());
        await store.updateTask('task-1', { state: 'generating', record: record('generating', 2), updatedAt: T0 + 20, finalAt: null });
        expect(await store.updateTask('task-1', { state: 'queuing', record: record('queuing', 1), updatedAt: T0 + 10, finalAt: null })).toBe(false);
        expect(await store.getTask('task-1')).toMatchObject({ state: 'generating', record: record('generating', 2), updatedAt: T0 + 20 });
      });

      it('never changes a final task', async () => {
        await store.insertTask(task());
        const success = { state: 'success', record: record('success', 1), updatedAt: T0 + 10, finalAt: T0 + 10 } as const;
        expect(await store.updateTask('task-1', success)).toBe(true);
        for (const state of ['generating', 'fail', 'success'] as const) {
          const later = { state, record: record(state, 2), updatedAt: T0 + 50, finalAt: state === 'generating' ? null : T0 + 50 };
          expect(await store.updateTask('task-1', later)).toBe(false);
        }
        expect(await store.getTask('task-1')).toEqual(task({ state: 'success', record: success.record, updatedAt: T0 + 10, finalAt: T0 + 10 }));
      });

      it('never changes a task stored as final, even one inserted so', async () => {
        await store.insertTask(task({ state: 'fail', record: record('fail', 1), finalAt: T0 }));
        expect(await store.updateTask('task-1', { state: 'generating', record: record('generating', 2), updatedAt: T0 + 1, finalAt: null })).toBe(false);
        expect(await store.getTask('task-1')).toMatchObject({ state: 'fail', finalAt: T0 });
      });

      it('keeps finalAt in step with the state', async () => {
        await store.insertTask(task());
        // A final state without finalAt ends at updatedAt; a running state never carries one.
        await store.updateTask('task-1', { state: 'generating', record: record('generating', 1), updatedAt: T0 + 5, finalAt: T0 + 5 });
        expect(await store.getTask('task-1')).toMatchObject({ state: 'generating', finalAt: null });
        await store.updateTask('task-1', { state: 'fail', record: record('fail', 2), updatedAt: T0 + 9, finalAt: null });
        expect(await store.getTask('task-1')).toMatchObject({ state: 'fail', finalAt: T0 + 9 });
      });

      it('reports no change for a missing task and creates none', async () => {
        expect(await store.updateTask('nope', { state: 'generating', record: '{}', updatedAt: T0, finalAt: null })).toBe(false);
        expect(await store.countTasks()).toBe(0);
      });

      it('leaves the newer record when two updates race, in either order', async () => {
        const older = { state: 'queuing', record: record('queuing', 1), updatedAt: T0 + 10, finalAt: null } as const;
        const newer = { state: 'generating', record: record('generating', 2), updatedAt: T0 + 20, finalAt: null } as const;
        await store.insertTask(task({ taskId: 'a' }));
        await store.insertTask(task({ taskId: 'b' }));
        const [a1, a2] = await Promise.all([store.updateTask('a', older), store.updateTask('a', newer)]);
        const [b1, b2] = await Promise.all([store.updateTask('b', newer), store.updateTask('b', older)]);
        // The newer record always applies. The older one applies only if it happened to run
        // first: a pool (PostgreSQL) does not keep the order in which they were issued.
        expect(a2).toBe(true);
        expect(b1).toBe(true);
        expect(typeof a1).toBe('boolean');
        expect(typeof b2).toBe('boolean');
        for (const id of ['a', 'b']) expect(await store.getTask(id)).toMatchObject({ state: 'generating', record: newer.record, updatedAt: T0 + 20 });
      });

      it('lets only one of two racing final records win', async () => {
        await store.insertTask(task());
        const success = { state: 'success', record: record('success', 1), updatedAt: T0 + 10, finalAt: T0 + 10 } as const;
        const fail = { state: 'fail', record: record('fail', 1), updatedAt: T0 + 10, finalAt: T0 + 10 } as const;
        const results = await Promise.all([store.updateTask('task-1', success), store.updateTask('task-1', fail)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        const stored = await store.getTask('task-1');
        expect(stored!.state).toBe(results[0] ? 'success' : 'fail');
      });
    });

    // Two stores on one database (or the one store twice), closed after the test.
    async function two(): Promise<TwoStores> {
      if (openTwo === undefined) return { a: store, b: store, close: async () => undefined };
      return openTwo();
    }

    describe('two instances seeding the same config at once', () => {
      it('both succeed: the same tenant and key end up stored once', async () => {
        const pair = await two();
        try {
          const seed = async (s: Store) => {
            await s.upsertTenant({ id: 'acme', models: null, disabled: false, source: 'config' }, T0);
            await s.addTenantKey(key());
          };
          await Promise.all([seed(pair.a), seed(pair.b), seed(pair.a), seed(pair.b)]);
          expect(await pair.a.listTenantKeys('acme')).toHaveLength(1);
        } finally {
          await pair.close();
        }
      });
    });

    describe('task ledger fields', () => {
      it('stores the ledger fields and reads them back exactly, as numbers', async () => {
        const full = task({
          slotId: 'slot-7',
          estimatedCostMicros: 35_000,
          actualCostMicros: null,
          callbackTokenHash: 'c'.repeat(64),
          nextCheckAt: T0 + 5000,
          checks: 2,
        });
        await store.insertTask(full);
        const read = await store.getTask('task-1');
        expect(read).toEqual(full);
        expect(typeof read!.estimatedCostMicros).toBe('number');
        expect(typeof read!.nextCheckAt).toBe('number');
        expect(typeof read!.checks).toBe('number');
      });

      it('keeps a null nextCheckAt null on insert', async () => {
        await store.insertTask(task());
        expect(await store.getTask('task-1')).toMatchObject({ nextCheckAt: null, checks: 0, slotId: null, estimatedCostMicros: null });
      });

      it('keeps the callback token hash with the task', async () => {
        await store.insertTask(task({ callbackTokenHash: 'c'.repeat(64) }));
        await store.insertTask(task({ taskId: 'task-2' })); // several tasks without a token are fine
        expect(await store.getTask('task-1')).toMatchObject({ callbackTokenHash: 'c'.repeat(64) });
        expect(await store.getTask('task-2')).toMatchObject({ callbackTokenHash: null });
      });

      it('a final update sets the actual cost and stops reconciliation', async () => {
        await store.insertTask(task({ estimatedCostMicros: 40_000, nextCheckAt: T0 + 1000 }));
        expect(await store.updateTask('task-1', successAt(T0 + 10, 35_000))).toBe(true);
        expect(await store.getTask('task-1')).toMatchObject({
          state: 'success',
          finalAt: T0 + 10,
          actualCostMicros: 35_000,
          estimatedCostMicros: 40_000,
          nextCheckAt: null,
        });
      });

      it('a final update without a cost leaves it unknown; a failed task may cost 0', async () => {
        await store.insertTask(task({ nextCheckAt: T0 }));
        await store.insertTask(task({ taskId: 'task-2', nextCheckAt: T0 }));
        await store.updateTask('task-1', successAt(T0 + 10));
        await store.updateTask('task-2', { state: 'fail', record: record('fail', 1), updatedAt: T0 + 10, finalAt: T0 + 10, actualCostMicros: 0 });
        expect(await store.getTask('task-1')).toMatchObject({ actualCostMicros: null, nextCheckAt: null });
        expect(await store.getTask('task-2')).toMatchObject({ state: 'fail', actualCostMicros: 0, nextCheckAt: null });
      });

      it('a running update keeps nextCheckAt and ignores a cost', async () => {
        await store.insertTask(task({ nextCheckAt: T0 + 1000 }));
        const update = { state: 'generating', record: record('generating', 1), updatedAt: T0 + 5, finalAt: null, actualCostMicros: 9_000_000 } as const;
        expect(await store.updateTask('task-1', update)).toBe(true);
        expect(await store.getTask('task-1')).toMatchObject({ state: 'generating', nextCheckAt: T0 + 1000, actualCostMicros: null });
      });
    });

    describe('updateTask with a delivery (the outbox)', () => {
      it('enqueues the delivery when the task becomes final', async () => {
        await store.insertTask(task());
        expect(await store.updateTask('task-1', successAt(T0 + 10, 35_000), delivery())).toBe(true);
        expect(await store.listDeliveries({})).toEqual([
          {
            ...delivery(),
            taskId: 'task-1',
            state: 'pending',
            attempts: 0,
            nextAttemptAt: T0 + 100,
            leaseOwner: null,
            leaseUntil: null,
            lastStatus: null,
            lastError: null,
            updatedAt: T0 + 100,
            deliveredAt: null,
          },
        ]);
      });

      it('enqueues nothing for a running state', async () => {
        await store.insertTask(task());
        const update = { state: 'generating', record: record('generating', 1), updatedAt: T0 + 5, finalAt: null } as const;
        expect(await store.updateTask('task-1', update, delivery())).toBe(true);
        expect(await store.listDeliveries({})).toEqual([]);
      });

      it('enqueues nothing when the row did not change', async () => {
        await store.insertTask(task());
        await store.updateTask('task-1', successAt(T0 + 10), delivery());
        // The same final state again (a duplicate callback), another final one, an older one.
        expect(await store.updateTask('task-1', successAt(T0 + 10), delivery({ id: 'msg_2' }))).toBe(false);
        expect(await store.updateTask('task-1', { ...successAt(T0 + 20), state: 'fail' }, delivery({ id: 'msg_3' }))).toBe(false);
        expect(await store.updateTask('nope', successAt(T0 + 10), delivery({ id: 'msg_4' }))).toBe(false);
        expect((await store.listDeliveries({})).map((d) => d.id)).toEqual(['msg_1']);
      });

      it('stores neither the final state nor the delivery when the delivery cannot be stored', async () => {
        await store.insertTask(task());
        await store.insertTask(task({ taskId: 'task-2' }));
        await store.updateTask('task-1', successAt(T0 + 10), delivery());
        // Same delivery id again: the insert fails, so the whole transaction is rolled back.
        await expect(store.updateTask('task-2', successAt(T0 + 10), delivery())).rejects.toThrow();
        expect(await store.getTask('task-2')).toMatchObject({ state: 'waiting', finalAt: null, record: null });
        expect((await store.listDeliveries({})).map((d) => d.taskId)).toEqual(['task-1']);
        // And the store still works afterwards (the transaction was closed).
        expect(await store.updateTask('task-2', successAt(T0 + 11), delivery({ id: 'msg_2' }))).toBe(true);
      });

      it('two instances racing final records enqueue exactly one delivery per task', async () => {
        const { a, b, close } = await two();
        try {
          const ids = Array.from({ length: 8 }, (_, i) => `race-${i}`);
          for (const taskId of ids) await a.insertTask(task({ taskId }));
          const results = await Promise.all(
            ids.flatMap((taskId) => [
              a.updateTask(taskId, successAt(T0 + 10, 10_000), delivery({ id: `${taskId}-a`, payload: 'from a' })),
              b.updateTask(taskId, { ...successAt(T0 + 10, 0), state: 'fail' }, delivery({ id: `${taskId}-b`, payload: 'from b' })),
            ]),
          );
          for (let i = 0; i < ids.length; i++) {
            const [fromA, fromB] = [results[2 * i]!, results[2 * i + 1]!];
            expect(fromA !== fromB).toBe(true); // exactly one of the two changed the row
            const deliveries = await b.listDeliveries({ taskId: ids[i]! });
            expect(deliveries).toHaveLength(1);
            const stored = await b.getTask(ids[i]!);
            // The delivery is the winner's, and announces the state that was stored.
            expect(deliveries[0]!.payload).toBe(fromA ? 'from a' : 'from b');
            expect(stored!.state).toBe(fromA ? 'success' : 'fail');
          }
        } finally {
          await close();
        }
      });
    });

    describe('usage', () => {
      /** The queue's counts of tasks that were all sent at once. */
      const sent = (tasks: number) => ({ queued: 0, dispatched: tasks, cancelled: 0, expired: 0 });
      // acme: two z-image tasks on day 0 (one success, one open), one flux-2 failed on day 1;
      // other: one z-image success on day 0. Costs are integer micro-dollars.
      beforeEach(async () => {
        await store.insertTask(task({ taskId: 'a1', createdAt: DAY0, updatedAt: DAY0, estimatedCostMicros: 500_000 }));
        await store.updateTask('a1', successAt(DAY0 + 10, 250_000));
        await store.insertTask(task({ taskId: 'a2', createdAt: DAY0 + DAY - 1, estimatedCostMicros: 125_000, nextCheckAt: DAY0 + DAY }));
        await store.insertTask(task({ taskId: 'a3', model: 'flux-2', createdAt: DAY0 + DAY, estimatedCostMicros: null }));
        await store.updateTask('a3', { state: 'fail', record: record('fail', 1), updatedAt: DAY0 + DAY + 5, finalAt: null, actualCostMicros: 0 });
        await store.insertTask(task({ taskId: 'o1', tenantId: 'other', createdAt: T0, estimatedCostMicros: 1_500_000 }));
        await store.updateTask('o1', successAt(T0 + 10)); // cost unknown: counts as 0
      });

      it('groups by tenant and model', async () => {
        const rows = await store.usage({ groupBy: 'model' });
        expect(rows).toEqual([
          { tenantId: 'acme', group: 'flux-2', tasks: 1, succeeded: 0, failed: 1, open: 0, estimatedUsdMicros: 0, actualUsdMicros: 0, ...sent(1) },
          { tenantId: 'acme', group: 'z-image', tasks: 2, succeeded: 1, failed: 0, open: 1, estimatedUsdMicros: 625_000, actualUsdMicros: 250_000, ...sent(2) },
          { tenantId: 'other', group: 'z-image', tasks: 1, succeeded: 1, failed: 0, open: 0, estimatedUsdMicros: 1_500_000, actualUsdMicros: 0, ...sent(1) },
        ]);
        for (const row of rows) for (const value of Object.values(row).slice(2)) expect(typeof value).toBe('number');
      });

      it('groups by tenant and UTC day, the last millisecond of a day in that day', async () => {
        expect(await store.usage({ groupBy: 'day' })).toEqual([
          {
            tenantId: 'acme',
            group: '2025-10-09',
            tasks: 2,
            succeeded: 1,
            failed: 0,
            open: 1,
            estimatedUsdMicros: 625_000,
            actualUsdMicros: 250_000,
            ...sent(2),
          },
          { tenantId: 'acme', group: '2025-10-10', tasks: 1, succeeded: 0, failed: 1, open: 0, estimatedUsdMicros: 0, actualUsdMicros: 0, ...sent(1) },
          { tenantId: 'other', group: '2025-10-09', tasks: 1, succeeded: 1, failed: 0, open: 0, estimatedUsdMicros: 1_500_000, actualUsdMicros: 0, ...sent(1) },
        ]);
      });

      it('filters by tenant and by a [from, to) window on createdAt', async () => {
        expect((await store.usage({ groupBy: 'model', tenantId: 'other' })).map((r) => r.tenantId)).toEqual(['other']);
        // from is inclusive (a1 at DAY0), to exclusive (a3 at DAY0 + DAY is left out).
        const window = await store.usage({ groupBy: 'day', tenantId: 'acme', from: DAY0, to: DAY0 + DAY });
        expect(window).toEqual([expect.objectContaining({ group: '2025-10-09', tasks: 2 })]);
        const later = await store.usage({ groupBy: 'model', from: DAY0 + 1 });
        expect(later.map((r) => [r.tenantId, r.group, r.tasks])).toEqual([
          ['acme', 'flux-2', 1],
          ['acme', 'z-image', 1],
          ['other', 'z-image', 1],
        ]);
        expect(await store.usage({ groupBy: 'model', tenantId: 'nobody' })).toEqual([]);
        expect(await store.usage({ groupBy: 'day', from: DAY0 + 2 * DAY })).toEqual([]);
      });

      it('counts queued tasks and those the gateway ended unsent apart, by the failCode of their record', async () => {
        const queued = (taskId: string) => task({ taskId, tenantId: 'q', upstreamKeyId: '', state: 'queued', queuedAt: T0, createdAt: T0 });
        const ended = (failCode: string) => JSON.stringify({ taskId: 'x', state: 'fail', failCode, failMsg: 'never sent' });
        for (const id of ['waits', 'cancelled', 'expired', 'sent']) await store.insertTask(queued(id));
        expect(await store.endQueuedTask('cancelled', { record: ended(UNSENT_FAIL_CODES.cancelled), updatedAt: T0 + 1 })).toBe(true);
        expect(await store.endQueuedTask('expired', { record: ended(UNSENT_FAIL_CODES.expired), updatedAt: T0 + 1 })).toBe(true);
        // Sent from the queue and failed by the provider, its message naming a gateway code: a fail like any other.
        const claim = { upstreamKeyId: 'up-1', upstreamId: 'default', callbackTokenHash: 'h'.repeat(64), nextCheckAt: T0 + 60_000 };
        expect((await store.claimQueued('q', claim))?.taskId).toBe('sent');
        await store.updateTask('sent', {
          state: 'fail',
          record: JSON.stringify({ failCode: '500', failMsg: UNSENT_FAIL_CODES.cancelled }),
          updatedAt: T0 + 2,
          finalAt: T0 + 2,
          actualCostMicros: 0,
        });
        // Sent at once (never queued) and still at the provider.
        await store.insertTask(task({ taskId: 'direct', tenantId: 'q' }));
        expect(await store.usage({ groupBy: 'model', tenantId: 'q' })).toEqual([
          {
            tenantId: 'q',
            group: 'z-image',
            tasks: 5,
            succeeded: 0,
            failed: 1,
            open: 2,
            estimatedUsdMicros: 0,
            actualUsdMicros: 0,
            queued: 1,
            dispatched: 2,
            cancelled: 1,
            expired: 1,
          },
        ]);
      });

      it('counts actual costs of final tasks only', async () => {
        // A running task cannot carry an actual cost (updateTask ignores it), even if inserted with one.
        await store.insertTask(task({ taskId: 'a4', createdAt: DAY0 + 1, actualCostMicros: 100_000_000 }));
        const [zImage] = (await store.usage({ groupBy: 'model', tenantId: 'acme' })).filter((r) => r.group === 'z-image');
        expect(zImage).toMatchObject({ tasks: 3, open: 2, actualUsdMicros: 250_000 });
      });
    });

    describe('tenantUsage', () => {
      it('counts tasks since a moment, sums their actual cost, and lists every open task', async () => {
        await store.insertTask(task({ taskId: 'old-open', createdAt: T0 - DAY, slotId: 's0', estimatedCostMicros: 500_000 }));
        await store.insertTask(task({ taskId: 'old-done', createdAt: T0 - 1 }));
        await store.updateTask('old-done', successAt(T0 + 1, 4_000_000));
        await store.insertTask(task({ taskId: 'new-done', createdAt: T0 }));
        await store.updateTask('new-done', successAt(T0 + 1, 250_000));
        await store.insertTask(task({ taskId: 'new-failed', createdAt: T0 + 1 }));
        await store.updateTask('new-failed', { state: 'fail', record: record('fail', 1), updatedAt: T0 + 2, finalAt: T0 + 2, actualCostMicros: 0 });
        await store.insertTask(task({ taskId: 'new-open', createdAt: T0 + 2, slotId: 's1', estimatedCostMicros: 125_000 }));
        await store.insertTask(task({ taskId: 'theirs', tenantId: 'other', createdAt: T0 + 3, slotId: 'x' }));

        expect(await store.tenantUsage('acme', T0)).toEqual({
          tasks: 3,
          actualCostMicros: 250_000,
          open: [
            { taskId: 'old-open', slotId: 's0', estimatedCostMicros: 500_000, createdAt: T0 - DAY },
            { taskId: 'new-open', slotId: 's1', estimatedCostMicros: 125_000, createdAt: T0 + 2 },
          ],
        });
      });

      it('is all zero for a tenant with no tasks', async () => {
        await store.insertTask(task({ tenantId: 'other' }));
        expect(await store.tenantUsage('acme', 0)).toEqual({ tasks: 0, actualCostMicros: 0, open: [] });
      });
    });

    describe('times and money are whole numbers', () => {
      // Every time (Unix ms) and amount (micro-dollars) is a bigint column. PostgreSQL refused a
      // fraction with its own error and SQLite stored it: now both refuse it alike, before the
      // query, naming the field, and nothing is written.
      const refusal = (field: string) => expect.objectContaining({ name: 'StoreValueError', code: 'STORE_VALUE_NOT_WHOLE', field });

      it.each([
        ['createdAt', 1.5],
        ['updatedAt', T0 + 0.25],
        ['estimatedCostMicros', 4000.5],
        ['actualCostMicros', Number.NaN],
        ['nextCheckAt', Number.POSITIVE_INFINITY],
        ['finalAt', 2 ** 53],
      ] as const)('refuses a task whose %s is %s and stores nothing', async (field, value) => {
        await expect(store.insertTask(task({ [field]: value }))).rejects.toEqual(refusal(field));
        await expect(store.insertTask(task({ [field]: value }))).rejects.toBeInstanceOf(StoreValueError);
        expect(await store.countTasks()).toBe(0);
      });

      it('refuses a fractional update time or cost and leaves the task as it was', async () => {
        await store.insertTask(task());
        await expect(store.updateTask('task-1', { ...successAt(T0 + 10), updatedAt: T0 + 10.5 })).rejects.toEqual(refusal('updatedAt'));
        await expect(store.updateTask('task-1', successAt(T0 + 10, 0.5), delivery())).rejects.toEqual(refusal('actualCostMicros'));
        await expect(store.updateTask('task-1', successAt(T0 + 10), delivery({ createdAt: T0 + 0.1 }))).rejects.toEqual(refusal('createdAt'));
        expect(await store.getTask('task-1')).toEqual(task());
        expect(await store.listDeliveries({})).toEqual([]);
      });

      it('refuses a jittered retry time: the attempt is not half-recorded and the lease stays', async () => {
        await store.insertTask(task());
        await store.updateTask('task-1', successAt(T0 + 10), delivery());
        await store.claimDeliveries('w', T0 + 100, 60_000, 10);
        const outcome = { state: 'pending', nextAttemptAt: T0 + 100 + 4321.7, status: 503, error: 'HTTP 503', now: T0 + 100 } as const;
        await expect(store.finishDelivery('msg_1', 'w', outcome)).rejects.toEqual(refusal('nextAttemptAt'));
        expect((await store.listDeliveries({}))[0]).toMatchObject({ attempts: 0, leaseOwner: 'w', nextAttemptAt: T0 + 100 });
        // The same attempt with a whole time is recorded.
        expect(await store.finishDelivery('msg_1', 'w', { ...outcome, nextAttemptAt: T0 + 4422 })).toBe(true);
        expect((await store.listDeliveries({}))[0]).toMatchObject({ attempts: 1, leaseOwner: null, nextAttemptAt: T0 + 4422 });
      });

      it('refuses fractional times everywhere else a time is written or compared', async () => {
        await store.insertTask(task({ nextCheckAt: T0 }));
        const attempts: Array<[string, Promise<unknown>]> = [
          ['now', store.upsertTenant({ id: 'acme', models: null, disabled: false, source: 'config' }, T0 + 0.5)],
          ['createdAt', store.addTenantKey(key({ createdAt: T0 + 0.5 }))],
          ['now', store.revokeTenantKey('acme', 'tk_1', T0 + 0.5)],
          ['now', store.claimTasksToCheck(T0 + 0.5, 1000, 10)],
          ['nextCheckAt', store.scheduleCheck('task-1', T0 + 0.5)],
          ['now', store.claimDeliveries('w', T0 + 0.5, 1000, 10)],
          ['now', store.redeliver('msg_1', T0 + 0.5)],
          ['from', store.usage({ groupBy: 'model', from: 1e30 })],
          ['since', store.tenantUsage('acme', T0 + 0.5)],
        ];
        for (const [field, attempt] of attempts) await expect(attempt).rejects.toEqual(refusal(field));
        expect(await store.getTask('task-1')).toMatchObject({ nextCheckAt: T0, checks: 0 });
        expect(await store.listTenants()).toEqual([]);
      });

      it('adds money up exactly and keeps the largest safe amount exact', async () => {
        // 55 tasks at USD 0.004: summed as floats, 0.22000000000000017.
        for (let i = 0; i < 55; i++) {
          await store.insertTask(task({ taskId: `t-${i}`, estimatedCostMicros: 4000 }));
          await store.updateTask(`t-${i}`, successAt(T0 + 10, 4000));
        }
        expect(await store.usage({ groupBy: 'model' })).toMatchObject([{ tasks: 55, estimatedUsdMicros: 220_000, actualUsdMicros: 220_000 }]);
        expect(await store.tenantUsage('acme', T0)).toMatchObject({ tasks: 55, actualCostMicros: 220_000 });
        await store.insertTask(task({ taskId: 'big', tenantId: 'rich', estimatedCostMicros: Number.MAX_SAFE_INTEGER }));
        expect((await store.getTask('big'))!.estimatedCostMicros).toBe(Number.MAX_SAFE_INTEGER);
      });
    });

    describe('reconciliation', () => {
      beforeEach(async () => {
        await store.insertTask(task({ taskId: 'due-2', nextCheckAt: T0 + 20 }));
        await store.insertTask(task({ taskId: 'due-1', nextCheckAt: T0 + 10 }));
        await store.insertTask(task({ taskId: 'later', nextCheckAt: T0 + 5000 }));
        await store.insertTask(task({ taskId: 'unscheduled' }));
        // Final, though inserted with a check time: never claimed.
        await store.insertTask(task({ taskId: 'final', state: 'success', finalAt: T0, nextCheckAt: T0 }));
      });

      it('claims the due non-final tasks and leases them', async () => {
        const now = T0 + 100;
        const claimed = await store.claimTasksToCheck(now, 30_000, 10);
        expect(claimed.map((t) => t.taskId).sort()).toEqual(['due-1', 'due-2']);
        for (const t of claimed) expect(t.nextCheckAt).toBe(now + 30_000);
        expect(await store.getTask('due-1')).toMatchObject({ nextCheckAt: now + 30_000, checks: 0 });
        // Leased: not claimed again until the lease runs out.
        expect(await store.claimTasksToCheck(now, 30_000, 10)).toEqual([]);
        // Past the lease, they are due again (and by then, so is `later`).
        expect((await store.claimTasksToCheck(now + 30_000, 1000, 10)).map((t) => t.taskId).sort()).toEqual(['due-1', 'due-2', 'later']);
        expect(await store.getTask('final')).toMatchObject({ nextCheckAt: T0 });
      });

      it('takes the most overdue first, up to the limit', async () => {
        expect((await store.claimTasksToCheck(T0 + 10_000, 1000, 2)).map((t) => t.taskId)).toEqual(['due-1', 'due-2']);
        expect((await store.claimTasksToCheck(T0 + 10_000, 1000, 2)).map((t) => t.taskId)).toEqual(['later']);
        expect(await store.claimTasksToCheck(T0 + 10_000, 1000, 0)).toEqual([]);
      });

      it('schedules the next check and counts the poll, for non-final tasks only', async () => {
        await store.scheduleCheck('due-1', T0 + 60_000);
        await store.scheduleCheck('due-1', T0 + 120_000);
        await store.scheduleCheck('final', T0 + 60_000);
        await store.scheduleCheck('nope', T0 + 60_000);
        expect(await store.getTask('due-1')).toMatchObject({ nextCheckAt: T0 + 120_000, checks: 2 });
        expect(await store.getTask('final')).toMatchObject({ nextCheckAt: T0, checks: 0 });
        expect(await store.claimTasksToCheck(T0 + 100, 1000, 10)).toEqual([expect.objectContaining({ taskId: 'due-2' })]);
      });

      it('two instances claiming at once never take the same task', async () => {
        const { a, b, close } = await two();
        try {
          const ids = Array.from({ length: 30 }, (_, i) => `many-${String(i).padStart(2, '0')}`);
          for (const taskId of ids) await a.insertTask(task({ taskId, nextCheckAt: T0 + 50 }));
          const now = T0 + 100;
          const rounds = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? b : a).claimTasksToCheck(now, 60_000, 7)));
          const taken = rounds.flat().map((t) => t.taskId);
          expect(new Set(taken).size).toBe(taken.length);
          // Whatever was left over is still there to claim, by either.
          const rest = (await b.claimTasksToCheck(now, 60_000, 100)).map((t) => t.taskId);
          // (due-1 and due-2 from beforeEach are there too when both are the one store.)
          expect([...taken, ...rest].filter((id) => id.startsWith('many-')).sort()).toEqual(ids);
        } finally {
          await close();
        }
      });
    });

    describe('deliveries', () => {
      /** A final task with its delivery, created at `at`. */
      async function enqueue(id: string, at: number, overrides: Partial<NewDelivery> = {}, on: Store = store): Promise<void> {
        const taskId = `task-${id}`;
        await on.insertTask(task({ taskId, tenantId: overrides.tenantId ?? 'acme' }));
        expect(await on.updateTask(taskId, successAt(at), delivery({ id, createdAt: at, ...overrides }))).toBe(true);
      }

      it('claims due pending deliveries, oldest first, and leases them to the owner', async () => {
        await enqueue('d2', T0 + 2);
        await enqueue('d1', T0 + 1);
        await enqueue('future', T0 + 1000);
        const claimed = await store.claimDeliveries('worker-a', T0 + 10, 30_000, 10);
        expect(claimed.map((d) => d.id)).toEqual(['d1', 'd2']);
        expect(claimed[0]).toMatchObject({ taskId: 'task-d1', leaseOwner: 'worker-a', leaseUntil: T0 + 30_010, state: 'pending', attempts: 0 });
        expect(await store.claimDeliveries('worker-b', T0 + 10, 30_000, 10)).toEqual([]);
        expect(await store.claimDeliveries('worker-b', T0 + 10, 30_000, 0)).toEqual([]);
      });

      it("takes a lease back once it has run out, and drops the late owner's outcome", async () => {
        await enqueue('d1', T0);
        await store.claimDeliveries('worker-a', T0, 1000, 10);
        expect(await store.claimDeliveries('worker-b', T0 + 1000, 1000, 10)).toEqual([]); // lease_until not yet passed
        const taken = await store.claimDeliveries('worker-b', T0 + 1001, 1000, 10);
        expect(taken).toEqual([expect.objectContaining({ id: 'd1', leaseOwner: 'worker-b', leaseUntil: T0 + 2001 })]);
        expect(await store.finishDelivery('d1', 'worker-a', { state: 'delivered', status: 200, now: T0 + 1500 })).toBe(false);
        expect((await store.listDeliveries({}))[0]).toMatchObject({ state: 'pending', attempts: 0, leaseOwner: 'worker-b' });
        expect(await store.finishDelivery('d1', 'worker-b', { state: 'delivered', status: 204, now: T0 + 1600 })).toBe(true);
      });

      it('records a delivered attempt and frees the lease', async () => {
        await enqueue('d1', T0);
        await store.claimDeliveries('worker-a', T0, 30_000, 10);
        expect(await store.finishDelivery('d1', 'worker-a', { state: 'delivered', status: 200, now: T0 + 50 })).toBe(true);
        const [row] = await store.listDeliveries({});
        expect(row).toEqual({
          ...delivery({ id: 'd1', createdAt: T0 }),
          taskId: 'task-d1',
          state: 'delivered',
          attempts: 1,
          nextAttemptAt: T0,
          leaseOwner: null,
          leaseUntil: null,
          lastStatus: 200,
          lastError: null,
          updatedAt: T0 + 50,
          deliveredAt: T0 + 50,
        });
        // Finished: the lease is gone, so the same owner cannot finish it twice.
        expect(await store.finishDelivery('d1', 'worker-a', { state: 'delivered', status: 200, now: T0 + 60 })).toBe(false);
        expect(await store.claimDeliveries('worker-a', T0 + 100_000, 30_000, 10)).toEqual([]);
      });

      it('retries a failed attempt at its next time, then gives up', async () => {
        await enqueue('d1', T0);
        await store.claimDeliveries('w', T0, 30_000, 10);
        expect(await store.finishDelivery('d1', 'w', { state: 'pending', nextAttemptAt: T0 + 5000, status: 503, error: 'HTTP 503', now: T0 + 10 })).toBe(true);
        expect((await store.listDeliveries({}))[0]).toMatchObject({
          state: 'pending',
          attempts: 1,
          nextAttemptAt: T0 + 5000,
          lastStatus: 503,
          lastError: 'HTTP 503',
          leaseOwner: null,
          deliveredAt: null,
        });
        expect(await store.claimDeliveries('w', T0 + 4999, 30_000, 10)).toEqual([]);
        expect(await store.claimDeliveries('w', T0 + 5000, 30_000, 10)).toHaveLength(1);
        expect(await store.finishDelivery('d1', 'w', { state: 'failed', status: null, error: 'connect ECONNREFUSED', now: T0 + 5001 })).toBe(true);
        expect((await store.listDeliveries({}))[0]).toMatchObject({
          state: 'failed',
          attempts: 2,
          lastStatus: null,
          lastError: 'connect ECONNREFUSED',
          deliveredAt: null,
          updatedAt: T0 + 5001,
        });
        expect(await store.claimDeliveries('w', T0 + 100_000, 30_000, 10)).toEqual([]);
      });

      it('lists newest first, by tenant or task, 100 by default', async () => {
        await enqueue('d1', T0 + 1);
        await enqueue('d2', T0 + 2, { tenantId: 'other' });
        await enqueue('d3', T0 + 3);
        expect((await store.listDeliveries({})).map((d) => d.id)).toEqual(['d3', 'd2', 'd1']);
        expect((await store.listDeliveries({ tenantId: 'acme' })).map((d) => d.id)).toEqual(['d3', 'd1']);
        expect((await store.listDeliveries({ taskId: 'task-d2' })).map((d) => d.id)).toEqual(['d2']);
        expect((await store.listDeliveries({ tenantId: 'acme', taskId: 'task-d2' })).map((d) => d.id)).toEqual([]);
        expect((await store.listDeliveries({ limit: 2 })).map((d) => d.id)).toEqual(['d3', 'd2']);
        for (let i = 4; i <= 101; i++) await enqueue(`d${i}`, T0 + i);
        const page = await store.listDeliveries({});
        expect(page).toHaveLength(100);
        expect(page[0]!.id).toBe('d101');
      });

      it('redelivers: pending again, due now, same id, lease cleared', async () => {
        await enqueue('d1', T0);
        await store.claimDeliveries('w', T0, 30_000, 10);
        await store.finishDelivery('d1', 'w', { state: 'failed', status: 500, error: 'HTTP 500', now: T0 + 10 });
        const again = await store.redeliver('d1', T0 + 1000);
        expect(again).toMatchObject({
          id: 'd1',
          state: 'pending',
          nextAttemptAt: T0 + 1000,
          leaseOwner: null,
          leaseUntil: null,
          attempts: 1,
          updatedAt: T0 + 1000,
        });
        expect(await store.claimDeliveries('w2', T0 + 1000, 30_000, 10)).toEqual([expect.objectContaining({ id: 'd1' })]);
        // A redeliver while leased takes the lease away from its holder.
        expect(await store.redeliver('d1', T0 + 2000)).toMatchObject({ leaseOwner: null });
        expect(await store.finishDelivery('d1', 'w2', { state: 'delivered', status: 200, now: T0 + 2001 })).toBe(false);
        expect(await store.redeliver('nope', T0)).toBeUndefined();
      });

      it('two instances claiming at once never take the same delivery', async () => {
        const { a, b, close } = await two();
        try {
          const ids = Array.from({ length: 30 }, (_, i) => `m${String(i).padStart(2, '0')}`);
          for (const id of ids) await enqueue(id, T0, {}, a);
          const rounds = await Promise.all(
            Array.from({ length: 6 }, (_, i) =>
              i % 2 ? b.claimDeliveries('worker-b', T0 + 10, 60_000, 7) : a.claimDeliveries('worker-a', T0 + 10, 60_000, 7),
            ),
          );
          const taken = rounds.flat().map((d) => d.id);
          expect(new Set(taken).size).toBe(taken.length);
          const rest = (await a.claimDeliveries('worker-c', T0 + 10, 60_000, 100)).map((d) => d.id);
          expect([...taken, ...rest].sort()).toEqual(ids);
          // Every delivery is held by exactly the owner that claimed it.
          for (const d of await b.listDeliveries({})) expect(d.leaseOwner).toMatch(/^worker-[abc]$/);
        } finally {
          await close();
        }
      });
    });
  });
}
