// Tasks recorded before they are sent (migration 0006), on every dialect: a row under the
// gateway's own id (its key for good since 0009), in state `sending`, that records the provider's
// task id when the provider answers (or calls back) — once, whoever comes first — or goes when
// the provider proved it started nothing. The shared suite (store-suite.ts) covers everything else about tasks.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store, TaskRow } from '../../src/store/index.js';
import { task, type TwoStores } from './store-suite.js';

const T0 = 1_760_000_000_000;

export function sending(overrides: Partial<TaskRow> = {}): TaskRow {
  const gatewayTaskId = overrides.gatewayTaskId ?? 'gt_0mf1a2b3c0123456789abcdef';
  return task({
    taskId: gatewayTaskId,
    gatewayTaskId,
    state: 'sending',
    updatedAt: 0,
    param: '{"model":"z-image","input":{"prompt":"x"}}',
    slotId: 'slot-1',
    callbackTokenHash: 'c'.repeat(64),
    nextCheckAt: T0 + 3_600_000,
    ...overrides,
  });
}

const confirmation = { providerTaskId: 'task_z_image_1', upstreamKeyId: 'up-2', nextCheckAt: T0 + 60_000 };
const GT = 'gt_0mf1a2b3c0123456789abcdef';

export function describeSendingTasks(name: string, open: () => Promise<Store>, openTwo?: () => Promise<TwoStores>): void {
  describe(`Store: ${name}: tasks recorded before they are sent`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it("stores a sending task and finds it by the gateway's id, exactly", async () => {
      await store.insertTask(sending());
      expect(await store.getTaskByGatewayId(sending().gatewayTaskId!)).toEqual(sending());
      expect(await store.getTask(sending().gatewayTaskId!)).toEqual(sending());
      expect(await store.getTaskByGatewayId('gt_nobody')).toBeUndefined();
    });

    it('refuses a second task with the same gateway id', async () => {
      await store.insertTask(sending());
      await expect(store.insertTask(sending({ taskId: 'other-key' }))).rejects.toThrow();
      expect(await store.countTasks()).toBe(1);
    });

    it("a confirmed task records the provider's id beside its own, state waiting, its key and its next check; once", async () => {
      await store.insertTask(sending());
      expect(await store.confirmTask(sending().gatewayTaskId!, confirmation)).toBe(true);
      const confirmed = sending({ ...confirmation, state: 'waiting' });
      expect(await store.getTask(GT)).toEqual(confirmed);
      expect(await store.getTaskByGatewayId(sending().gatewayTaskId!)).toEqual(confirmed);
      expect(await store.getTask('task_z_image_1')).toBeUndefined();
      // The second of the answer and the callback changes nothing.
      expect(await store.confirmTask(sending().gatewayTaskId!, { ...confirmation, providerTaskId: 'task_other', upstreamKeyId: 'up-3' })).toBe(false);
      expect(await store.getTask(GT)).toEqual(confirmed);
    });

    it('confirms nothing that is not sending: a task given up, an unknown id', async () => {
      await store.insertTask(sending());
      await store.updateTask(sending().gatewayTaskId!, { state: 'fail', record: '{"state":"fail"}', updatedAt: T0 + 5, finalAt: T0 + 5 });
      expect(await store.confirmTask(sending().gatewayTaskId!, confirmation)).toBe(false);
      expect(await store.confirmTask('gt_nobody', confirmation)).toBe(false);
      expect(await store.getTaskByGatewayId(sending().gatewayTaskId!)).toMatchObject({ taskId: sending().gatewayTaskId, state: 'fail' });
      expect(await store.countTasks()).toBe(1);
    });

    it("writes a task's created event only while nothing the provider said has reached its row", async () => {
      const event = (taskId: string) => ({ tenantId: 'acme', taskId, state: 'waiting', record: `{"taskId":"${taskId}"}`, createdAt: T0 + 1 });
      const other = 'gt_0mf1a2b3c0123456789abcdee';
      const fresh = 'gt_0mf1a2b3c0123456789abcded';
      await store.insertTask(sending());
      await store.insertTask(sending({ gatewayTaskId: other }));
      await store.insertTask(sending({ gatewayTaskId: fresh }));
      await store.confirmTask(GT, confirmation);
      // A progress record (a callback that came before the answer) and a final state: no created event.
      await store.updateTask(other, { state: 'generating', record: '{"state":"generating"}', updatedAt: T0 + 5, finalAt: null });
      await store.updateTask(fresh, { state: 'fail', record: '{"state":"fail"}', updatedAt: T0 + 5, finalAt: T0 + 5 });

      const seq = await store.appendCreatedEvent(event(GT));
      expect(seq).toBeGreaterThan(0);
      expect(await store.appendCreatedEvent(event(other))).toBeUndefined();
      expect(await store.appendCreatedEvent(event(fresh))).toBeUndefined();
      expect(await store.appendCreatedEvent(event('gt_nobody'))).toBeUndefined();
      expect(await store.eventsAfter('acme', 0, 10)).toEqual([{ seq, ...event(GT) }]);
      // An ordinary event after it takes the next place in the log.
      expect(await store.appendEvent({ ...event(GT), state: 'success' })).toBeGreaterThan(seq!);
    });

    it('confirms a sending task and writes its created event in one write; neither for a task given up', async () => {
      const event = (taskId: string) => ({ tenantId: 'acme', taskId, state: 'waiting', record: `{"taskId":"${taskId}"}`, createdAt: T0 + 1 });
      const givenUp = 'gt_0mf1a2b3c0123456789abcdee';
      await store.insertTask(sending());
      await store.insertTask(sending({ gatewayTaskId: givenUp }));
      await store.updateTask(givenUp, { state: 'fail', record: '{"state":"fail"}', updatedAt: T0 + 5, finalAt: T0 + 5 });

      const seq = await store.confirmAndAppendCreated(GT, confirmation, event(GT));
      expect(seq).toBeGreaterThan(0);
      expect(await store.getTask(GT)).toMatchObject({
        state: 'waiting',
        providerTaskId: confirmation.providerTaskId,
        upstreamKeyId: confirmation.upstreamKeyId,
      });
      expect(await store.confirmAndAppendCreated(givenUp, confirmation, event(givenUp))).toBeUndefined();
      expect(await store.getTask(givenUp)).toMatchObject({ state: 'fail', providerTaskId: null });
      expect(await store.eventsAfter('acme', 0, 10)).toEqual([{ seq, ...event(GT) }]);
    });

    it("a confirmed task is updated, ended and delivered by the gateway's id", async () => {
      await store.insertTask(sending({ callBackUrl: 'https://tenant.example/cb' }));
      await store.confirmTask(sending().gatewayTaskId!, confirmation);
      const delivery = { id: 'msg_1', tenantId: 'acme', url: 'https://tenant.example/cb', payload: '{}', createdAt: T0 + 10 };
      expect(await store.updateTask(GT, { state: 'success', record: '{"state":"success"}', updatedAt: T0 + 10, finalAt: T0 + 10 }, delivery)).toBe(true);
      expect(await store.getTask(GT)).toMatchObject({ state: 'success', finalAt: T0 + 10, nextCheckAt: null, providerTaskId: 'task_z_image_1' });
      expect(await store.listDeliveries({ taskId: GT })).toMatchObject([{ id: 'msg_1', taskId: GT }]);
    });

    it('moves a sending task to another key, and only a sending one', async () => {
      await store.insertTask(sending());
      await store.setSendingKey(sending().gatewayTaskId!, 'up-9');
      expect(await store.getTaskByGatewayId(sending().gatewayTaskId!)).toMatchObject({ state: 'sending', upstreamKeyId: 'up-9' });
      await store.confirmTask(sending().gatewayTaskId!, confirmation);
      await store.setSendingKey(sending().gatewayTaskId!, 'up-10');
      expect(await store.getTask(GT)).toMatchObject({ upstreamKeyId: 'up-2' });
    });

    it('discards a sending task, and never one the provider confirmed', async () => {
      await store.insertTask(sending());
      await store.insertTask(sending({ gatewayTaskId: 'gt_0mf1a2b3c_second_one', slotId: 'slot-2' }));
      await store.confirmTask('gt_0mf1a2b3c_second_one', confirmation);
      expect(await store.discardTask(sending().gatewayTaskId!)).toBe(true);
      expect(await store.discardTask(sending().gatewayTaskId!)).toBe(false);
      expect(await store.discardTask('gt_0mf1a2b3c_second_one')).toBe(false);
      expect(await store.getTaskByGatewayId(sending().gatewayTaskId!)).toBeUndefined();
      expect(await store.getTask('gt_0mf1a2b3c_second_one')).toMatchObject({ state: 'waiting', providerTaskId: 'task_z_image_1' });
    });

    it('counts a sending task as open in usage and quotas, and reconciles it at its next check', async () => {
      await store.insertTask(sending({ estimatedCostMicros: 20_000 }));
      expect(await store.usage({ groupBy: 'model' })).toMatchObject([{ tenantId: 'acme', tasks: 1, open: 1 }]);
      expect((await store.tenantUsage('acme', T0 - 1)).open).toEqual([
        { taskId: sending().taskId, slotId: 'slot-1', estimatedCostMicros: 20_000, createdAt: T0 },
      ]);
      expect(await store.claimTasksToCheck(T0 + 3_599_999, 1000, 10)).toEqual([]);
      expect((await store.claimTasksToCheck(T0 + 3_600_000, 1000, 10)).map((t) => t.gatewayTaskId)).toEqual([sending().gatewayTaskId]);
    });

    it('of an answer and a callback confirming one task at once, exactly one does', async () => {
      const two = openTwo ? await openTwo() : { a: store, b: store, close: async () => undefined };
      try {
        const ids = Array.from({ length: 20 }, (_, i) => `gt_0mf1a2b3c_race_${String(i).padStart(2, '0')}`);
        for (const [i, gatewayTaskId] of ids.entries()) await two.a.insertTask(sending({ gatewayTaskId, slotId: `slot-${i}` }));
        const outcomes = await Promise.all(
          ids.flatMap((gatewayTaskId, i) => [
            two.a.confirmTask(gatewayTaskId, { ...confirmation, providerTaskId: `task-${i}` }),
            two.b.confirmTask(gatewayTaskId, { ...confirmation, providerTaskId: `task-${i}`, upstreamKeyId: 'up-3' }),
          ]),
        );
        for (let i = 0; i < ids.length; i++) expect(outcomes.slice(2 * i, 2 * i + 2).filter(Boolean)).toHaveLength(1);
        for (let i = 0; i < ids.length; i++) expect(await two.b.getTask(ids[i]!)).toMatchObject({ state: 'waiting', providerTaskId: `task-${i}` });
      } finally {
        await two.close();
      }
    });
  });
}
