// The operator's queries (migration 0011) on every dialect: webhook secrets and their rotation,
// deleting a tenant, a key's label and expiry, provider keys kept in the store, and task lists
// paged newest first by (created_at, task_id).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { key, task } from './store-suite.js';

const T0 = 1_760_000_000_000;

export function describeOperatorQueries(name: string, open: () => Promise<Store>): void {
  describe(`Store: ${name}: operator queries (0011)`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
      await store.upsertTenant({ id: 'acme', models: null, disabled: false, source: 'config' }, T0);
    });
    afterEach(() => store.close());

    it('keeps a webhook secret and its predecessor, says the tenant has one, and clears them', async () => {
      expect(await store.getWebhookSecrets('acme')).toBeUndefined();
      expect((await store.getTenant('acme'))!.hasWebhookSecret).toBeUndefined();
      expect(await store.setWebhookSecrets('acme', { current: 'whsec_new', previous: 'whsec_old', previousUntil: T0 + 1000 }, T0 + 1)).toBe(true);
      expect(await store.getWebhookSecrets('acme')).toEqual({ current: 'whsec_new', previous: 'whsec_old', previousUntil: T0 + 1000 });
      expect((await store.getTenant('acme'))!.hasWebhookSecret).toBe(true);
      await store.addTenantKey(key());
      expect(await store.findKeyByHash(key().hash)).toMatchObject({ hasWebhookSecret: true });
      expect(await store.setWebhookSecrets('acme', null, T0 + 2)).toBe(true);
      expect(await store.getWebhookSecrets('acme')).toBeUndefined();
      expect(await store.setWebhookSecrets('nobody', null, T0)).toBe(false);
    });

    it('deletes a tenant with its keys and keeps its tasks', async () => {
      await store.addTenantKey(key());
      await store.insertTask(task());
      expect(await store.deleteTenant('acme')).toBe(true);
      expect(await store.getTenant('acme')).toBeUndefined();
      expect(await store.findKeyByHash(key().hash)).toBeUndefined();
      expect(await store.getTask('task-1')).toBeDefined();
      expect(await store.deleteTenant('acme')).toBe(false);
    });

    it("changes a key's label and expiry, and reports the expiry with the key", async () => {
      await store.addTenantKey(key({ expiresAt: T0 + 60_000 }));
      expect(await store.findKeyByHash(key().hash)).toMatchObject({ expiresAt: T0 + 60_000 });
      expect(await store.updateTenantKey('acme', 'tk_1', { label: 'ci', expiresAt: null })).toBe(true);
      expect(await store.listTenantKeys('acme')).toEqual([{ ...key(), label: 'ci', revokedAt: null }]);
      expect(await store.updateTenantKey('acme', 'tk_1', { expiresAt: T0 + 5 })).toBe(true);
      expect((await store.listTenantKeys('acme'))[0]).toMatchObject({ label: 'ci', expiresAt: T0 + 5 });
      expect(await store.updateTenantKey('acme', 'tk_nope', { label: 'x' })).toBe(false);
      expect(await store.updateTenantKey('other', 'tk_1', { label: 'x' })).toBe(false);
    });

    it('keeps provider keys: put, replace, remove (the row stays), put again', async () => {
      const row = { id: 'key-c', upstreamId: 'lx-b', apiKey: 'sk-c', webhookHmacKey: null, createPer10s: 5, recordInfoPerSecond: null, disabled: false };
      expect(await store.putUpstreamKey(row, T0)).toEqual({ ...row, removedAt: null, createdAt: T0, updatedAt: T0 });
      await store.putUpstreamKey({ ...row, disabled: true }, T0 + 1);
      expect(await store.listUpstreamKeys()).toEqual([{ ...row, disabled: true, removedAt: null, createdAt: T0, updatedAt: T0 + 1 }]);
      expect(await store.removeUpstreamKey('key-c', T0 + 2)).toBe(true);
      expect(await store.removeUpstreamKey('key-c', T0 + 3)).toBe(false);
      expect((await store.listUpstreamKeys())[0]).toMatchObject({ removedAt: T0 + 2 });
      await store.putUpstreamKey(row, T0 + 4);
      expect((await store.listUpstreamKeys())[0]).toMatchObject({ removedAt: null, disabled: false, createdAt: T0 });
    });

    describe('task lists', () => {
      beforeEach(async () => {
        // Two tasks share a creation time: task_id breaks the tie, so pages neither repeat nor skip.
        const rows = [
          task({ taskId: 't1', createdAt: T0 + 1, model: 'z-image', state: 'success', finalAt: T0 + 9 }),
          task({ taskId: 't2', createdAt: T0 + 2, model: 'kling-v3-pro' }),
          task({ taskId: 't3', createdAt: T0 + 2, model: 'z-image' }),
          task({ taskId: 't4', createdAt: T0 + 3, model: 'z-image', tenantId: 'globex' }),
          task({ taskId: 't5', createdAt: T0 + 4, model: 'z-image', state: 'fail', finalAt: T0 + 5 }),
        ];
        for (const row of rows) await store.insertTask(row);
      });
      const ids = (rows: Array<{ taskId: string }>) => rows.map((r) => r.taskId);

      it('lists newest first, by tenant or over every tenant', async () => {
        expect(ids(await store.listTasks({ tenantId: 'acme', limit: 10 }))).toEqual(['t5', 't3', 't2', 't1']);
        expect(ids(await store.listTasks({ limit: 10 }))).toEqual(['t5', 't4', 't3', 't2', 't1']);
        expect(ids(await store.listTasks({ tenantId: 'nobody', limit: 10 }))).toEqual([]);
      });

      it('pages by the last row shown, through ties on the creation time', async () => {
        const first = await store.listTasks({ tenantId: 'acme', limit: 2 });
        expect(ids(first)).toEqual(['t5', 't3']);
        const second = await store.listTasks({ tenantId: 'acme', limit: 2, after: { createdAt: first[1]!.createdAt, taskId: first[1]!.taskId } });
        expect(ids(second)).toEqual(['t2', 't1']);
        expect(await store.listTasks({ tenantId: 'acme', limit: 2, after: { createdAt: T0 + 1, taskId: 't1' } })).toEqual([]);
      });

      it('filters by state, model and creation time', async () => {
        expect(ids(await store.listTasks({ tenantId: 'acme', state: 'fail', limit: 10 }))).toEqual(['t5']);
        expect(ids(await store.listTasks({ model: 'z-image', limit: 10 }))).toEqual(['t5', 't4', 't3', 't1']);
        expect(ids(await store.listTasks({ tenantId: 'acme', from: T0 + 2, to: T0 + 4, limit: 10 }))).toEqual(['t3', 't2']);
      });
    });
  });
}
