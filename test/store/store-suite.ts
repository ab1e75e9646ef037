// The behaviour every Store must have, whatever its dialect: SQLite runs it today and the
// PostgreSQL store will run the very same suite. `open` gives a fresh, empty, migrated store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store, TaskRow, TenantKeyRow } from '../../src/store/index.js';

// Past 2^32 on purpose: Unix milliseconds must come back as exact JS numbers.
const T0 = 1_760_000_000_000;

export function task(overrides: Partial<TaskRow> = {}): TaskRow {
  return {
    taskId: 'task-1',
    tenantId: 'acme',
    upstreamKeyId: 'up-1',
    model: 'z-image',
    callBackUrl: null,
    state: 'waiting',
    record: null,
    createdAt: T0,
    updatedAt: T0,
    finalAt: null,
    ...overrides,
  };
}

export function key(overrides: Partial<Omit<TenantKeyRow, 'revokedAt'>> = {}): Omit<TenantKeyRow, 'revokedAt'> {
  return { id: 'tk_1', tenantId: 'acme', hash: 'a'.repeat(64), label: null, source: 'config', createdAt: T0, ...overrides };
}

const record = (state: string, n: number) => JSON.stringify({ state, n });

export function describeStore(name: string, open: () => Promise<Store>): void {
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
        const expected = { id: 'acme', models: ['z-image', 'kling-v3-pro'], disabled: false, source: 'admin', createdAt: T0, updatedAt: T0 };
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
        expect(again).toEqual({ id: 'acme', models: null, disabled: true, source: 'config', createdAt: T0, updatedAt: T0 + 5000 });
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
          id: 'acme', models: ['z-image'], disabled: true, source: 'admin', createdAt: T0, updatedAt: T0 + 1,
        });
        expect(await store.updateTenant('acme', { models: null }, T0 + 2)).toMatchObject({ models: null, disabled: true, updatedAt: T0 + 2 });
        expect(await store.updateTenant('acme', { models: ['flux-2'], disabled: false }, T0 + 3)).toMatchObject({
          models: ['flux-2'], disabled: false, createdAt: T0,
        });
        expect(await store.getTenant('acme')).toMatchObject({ models: ['flux-2'], disabled: false, updatedAt: T0 + 3 });
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
          keyId: 'tk_1', tenantId: 'acme', revoked: false, tenantDisabled: false, models: ['z-image'],
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
          keyId: 'tk_1', tenantId: 'acme', revoked: false, tenantDisabled: true, models: null,
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
        expect(a2).toBe(true);
        expect(b1).toBe(true);
        expect(b2).toBe(false);
        expect(typeof a1).toBe('boolean');
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
  });
}
