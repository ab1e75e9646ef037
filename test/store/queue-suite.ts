// The admission queue's store queries (migration 0009), on every dialect: queued rows in the
// dispatcher's order (priority, then acceptance), taken once each however many dispatchers race
// (FOR UPDATE SKIP LOCKED on PostgreSQL) and never past a tenant's maxInFlight, put back in
// place, ended unsent with their callback, and Idempotency-Key rows unique per tenant and key.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store, TaskRow } from '../../src/store/index.js';
import { task, type TwoStores } from './store-suite.js';

const T0 = 1_760_000_000_000;

function queued(n: number, overrides: Partial<TaskRow> = {}): TaskRow {
  const id = `gt_q${String(n).padStart(4, '0')}`;
  return task({
    taskId: id,
    gatewayTaskId: id,
    state: 'queued',
    upstreamKeyId: '',
    updatedAt: 0,
    queuedAt: T0 + n,
    createdAt: T0 + n,
    slotId: `slot-${n}`,
    nextCheckAt: T0 + 3_600_000,
    upstreamBody: '{"model":"z-image"}',
    ...overrides,
  });
}

const claim = { upstreamKeyId: 'key-a', upstreamId: 'default', callbackTokenHash: 'c'.repeat(64), nextCheckAt: T0 + 7_200_000 };

export function describeQueue(name: string, open: () => Promise<Store>, openTwo?: () => Promise<TwoStores>): void {
  describe(`Store: ${name}: the admission queue`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it("takes a tenant's head by priority then acceptance, marking it sending with its key; other tenants' stay", async () => {
      for (const row of [queued(1), queued(2), queued(3, { priority: 5 }), queued(4, { tenantId: 'globex' })]) await store.insertTask(row);
      expect(await store.queueHead('acme')).toEqual({ taskId: 'gt_q0003', model: queued(3).model });
      expect(await store.countQueued('acme')).toBe(3);
      expect(await store.queuePosition(queued(2))).toBe(3);
      expect(await store.queuePosition(queued(3, { priority: 5 }))).toBe(1);
      expect(await store.claimQueued('acme', claim)).toMatchObject({
        taskId: 'gt_q0003',
        state: 'sending',
        upstreamKeyId: 'key-a',
        upstreamId: 'default',
        callbackTokenHash: claim.callbackTokenHash,
        nextCheckAt: claim.nextCheckAt,
      });
      expect((await store.claimQueued('acme', claim))!.taskId).toBe('gt_q0001');
      expect(await store.countAtProvider('acme')).toBe(2);
      expect(await store.queueDepths()).toEqual(
        expect.arrayContaining([
          { tenantId: 'acme', queued: 1 },
          { tenantId: 'globex', queued: 1 },
        ]),
      );
      // Back in place: a refused one is the head again.
      expect(await store.requeueTask('gt_q0001')).toBe(true);
      expect(await store.requeueTask('gt_q0001')).toBe(false); // only from sending
      expect((await store.claimQueued('acme', claim))!.taskId).toBe('gt_q0001');
      expect((await store.claimQueued('acme', claim))!.taskId).toBe('gt_q0002');
      expect(await store.claimQueued('acme', claim)).toBeUndefined();
      expect(await store.queueHead('acme')).toBeUndefined();
    });

    it('ends a queued task unsent with its callback, and never one a dispatcher took', async () => {
      await store.insertTask(queued(1, { callBackUrl: 'https://tenant.example/cb' }));
      await store.insertTask(queued(2));
      await store.claimQueued('acme', claim);
      const delivery = { id: 'msg_q', tenantId: 'acme', url: 'https://tenant.example/cb', payload: '{}', createdAt: T0 + 50 };
      expect(await store.endQueuedTask('gt_q0001', { record: '{"state":"fail"}', updatedAt: T0 + 50 }, delivery)).toBe(false); // taken
      expect(await store.endQueuedTask('gt_q0002', { record: '{"state":"fail"}', updatedAt: T0 + 50 }, { ...delivery, id: 'msg_q2' })).toBe(true);
      expect(await store.endQueuedTask('gt_q0002', { record: '{"state":"fail"}', updatedAt: T0 + 60 })).toBe(false); // once
      expect(await store.getTask('gt_q0002')).toMatchObject({ state: 'fail', finalAt: T0 + 50, actualCostMicros: 0, nextCheckAt: null });
      expect(await store.listDeliveries({ taskId: 'gt_q0002' })).toMatchObject([{ id: 'msg_q2', state: 'pending' }]);
      expect(await store.listDeliveries({ taskId: 'gt_q0001' })).toEqual([]);
    });

    it('of dispatchers racing for one queue, each task is taken exactly once', async () => {
      const two = openTwo ? await openTwo() : { a: store, b: store, close: async () => undefined };
      try {
        for (let i = 0; i < 30; i++) await two.a.insertTask(queued(i));
        const taken = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? two.a : two.b).claimQueued('acme', claim)));
        const ids = taken.filter((t) => t !== undefined).map((t) => t!.taskId);
        // Every claim that found nothing may retry: what matters is that none is taken twice.
        for (;;) {
          const more = await two.b.claimQueued('acme', claim);
          if (!more) break;
          ids.push(more.taskId);
        }
        expect(ids).toHaveLength(30);
        expect(new Set(ids).size).toBe(30);
      } finally {
        await two.close();
      }
    });

    it('under maxInFlight, of dispatchers racing for one queue, together never more than it at the provider', async () => {
      const two = openTwo ? await openTwo() : { a: store, b: store, close: async () => undefined };
      const N = 3;
      try {
        for (let i = 0; i < 40; i++) await two.a.insertTask(queued(i));
        const inFlight: string[] = [];
        for (let round = 0; round < 12; round++) {
          const room = N - (await two.a.countAtProvider('acme'));
          const taken = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? two.a : two.b).claimQueued('acme', { ...claim, maxInFlight: N })));
          const ids = taken.flatMap((t) => (t ? [t.taskId] : []));
          // Exactly the room: never past it, and none refused while there was some.
          expect(ids).toHaveLength(room);
          expect(await two.b.countAtProvider('acme')).toBe(N);
          inFlight.push(...ids);
          // Two end, and the next round races for their room.
          for (const id of inFlight.splice(0, 2)) await two.a.updateTask(id, { state: 'success', record: '{}', updatedAt: T0 + round, finalAt: T0 + round });
        }
        expect(await two.a.countQueued('acme')).toBe(40 - N - 2 * 11);
      } finally {
        await two.close();
      }
    });

    it('Idempotency-Key: new, answered, mismatch, in flight; per tenant; taken over when expired or abandoned', async () => {
      const base = { tenantId: 'acme', key: 'k1', bodyHash: 'h1', now: T0, expiredBefore: T0 - 86_400_000, abandonedBefore: T0 - 600_000 };
      expect(await store.claimIdempotencyKey(base)).toEqual({ kind: 'new' });
      expect(await store.claimIdempotencyKey(base)).toEqual({ kind: 'in-flight' });
      expect(await store.claimIdempotencyKey({ ...base, bodyHash: 'h2' })).toEqual({ kind: 'mismatch' });
      expect(await store.claimIdempotencyKey({ ...base, tenantId: 'globex' })).toEqual({ kind: 'new' });
      await store.saveIdempotentAnswer('acme', 'k1', '{"code":200}');
      expect(await store.claimIdempotencyKey(base)).toEqual({ kind: 'answered', answer: '{"code":200}' });
      const later = T0 + 86_400_001;
      expect(await store.claimIdempotencyKey({ ...base, now: later, expiredBefore: later - 86_400_000, abandonedBefore: later - 600_000 })).toEqual({
        kind: 'new',
      });
      // Unanswered and older than the abandonment limit: its request died; taken over.
      expect(await store.claimIdempotencyKey({ ...base, tenantId: 'globex', now: T0 + 600_001, abandonedBefore: T0 + 1 })).toEqual({ kind: 'new' });
      await store.dropIdempotencyKey('globex', 'k1');
      expect(await store.claimIdempotencyKey({ ...base, tenantId: 'globex' })).toEqual({ kind: 'new' });
    });

    it('of requests racing with one new key, exactly one goes ahead', async () => {
      const two = openTwo ? await openTwo() : { a: store, b: store, close: async () => undefined };
      try {
        const base = { tenantId: 'acme', key: 'race', bodyHash: 'h', now: T0, expiredBefore: T0 - 86_400_000, abandonedBefore: T0 - 600_000 };
        const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? two.a : two.b).claimIdempotencyKey(base)));
        expect(claims.filter((c) => c.kind === 'new')).toHaveLength(1);
      } finally {
        await two.close();
      }
    });
  });
}
