// GET /admin/v1/usage on both dialects: money leaves the gateway as exact integers of
// micro-dollars and USD text formatted from them, never a float sum (issue 13 saw
// 0.22000000000000006; 55 tasks at USD 0.004 summed as floats give 0.22000000000000017).
// Bad time bounds are a 422 naming the field. The admission queue's tasks are counted by where
// they went (queued, dispatched) and how the gateway ended them unsent (cancelled, expired).
import { afterEach, describe, expect, it } from 'vitest';
import { UNSENT_FAIL_CODES } from '../../src/client/types.js';
import { ACME_KEY, ADMIN_TOKEN, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { freshPostgres, type FreshPostgres } from '../helpers/postgres.js';
import { manualClock, pollUntil } from '../helpers/wait.js';

let stack: Stack | undefined;
let postgres: FreshPostgres | undefined;
afterEach(async () => {
  await stack?.close();
  await postgres?.drop();
  stack = postgres = undefined;
});

const T0 = 1_760_000_000_000;
const stores = {
  SQLite: async () => 'sqlite::memory:',
  PostgreSQL: async () => {
    postgres = await freshPostgres();
    return postgres.url;
  },
};

async function usage(s: Stack, query: string, accept = 'application/json') {
  const response = await fetch(`${s.url}/admin/v1/usage${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept } });
  return { status: response.status, text: await response.text() };
}

/** Polls until the probe gives a value (the suite's one ceiling: never the machine's speed). */
const until = pollUntil;

for (const [dialect, storeUrl] of Object.entries(stores)) {
  describe(`usage on ${dialect}`, () => {
    it('sums in micro-dollars and shows USD formatted from them, in JSON and CSV', async () => {
      const s = await startWith(await storeUrl());
      for (let i = 0; i < 55; i++) {
        await s.store.insertTask(storedTask(`t-${i}`, 4_000));
        await s.store.updateTask(`t-${i}`, { state: 'success', record: '{}', updatedAt: T0 + 10, finalAt: T0 + 10, actualCostMicros: 4_000 });
      }
      const json = await usage(s, '?tenant=acme');
      expect(json.status).toBe(200);
      expect(JSON.parse(json.text).data).toEqual([
        {
          tenantId: 'acme',
          group: 'z-image',
          tasks: 55,
          succeeded: 55,
          failed: 0,
          open: 0,
          estimatedUsd: '0.22',
          actualUsd: '0.22',
          estimatedUsdMicros: 220_000,
          actualUsdMicros: 220_000,
          queued: 0,
          dispatched: 55,
          cancelled: 0,
          expired: 0,
        },
      ]);
      expect(json.text).not.toMatch(/0\.2200000/);
      const csv = await usage(s, '?tenant=acme&groupBy=day', 'text/csv');
      expect(csv.text).toBe(
        'tenantId,group,tasks,succeeded,failed,open,estimatedUsd,actualUsd,estimatedUsdMicros,actualUsdMicros,queued,dispatched,cancelled,expired\nacme,2025-10-09,55,55,0,0,0.22,0.22,220000,220000,0,55,0,0\n',
      );
      // The CSV's columns are the JSON row's fields, in its order (the contract's).
      expect(csv.text.split('\n')[0]).toBe(Object.keys(JSON.parse(json.text).data[0]).join(','));
    });

    it('settles a real task to what the provider charged, in whole micro-dollars', async () => {
      const s = await startWith(await storeUrl());
      const created = await raw(`${s.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } } });
      const taskId = created.body.data.taskId as string;
      const row = await until('the task to end', async () => {
        await raw(`${s.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: ACME_KEY });
        const stored = await s.store.getTask(taskId);
        return stored?.finalAt !== null ? stored : undefined;
      });
      // z-image: USD 0.004 estimated; the simulator charges 0.8 credits × USD 0.005.
      expect(row).toMatchObject({ state: 'success', estimatedCostMicros: 4_000, actualCostMicros: 4_000 });
      const [summed] = JSON.parse((await usage(s, '?tenant=acme')).text).data;
      expect(summed).toMatchObject({ estimatedUsd: '0.004', actualUsd: '0.004', estimatedUsdMicros: 4_000, actualUsdMicros: 4_000 });
    });

    it('counts queued, dispatched, cancelled and expired tasks apart; failed is only what failed at the provider', async () => {
      const clock = manualClock(1_780_000_000_000);
      // One send per 10 s: the first task goes, the others wait (the clock moves only by steps).
      const s = await startWith(await storeUrl(), {
        clock,
        simulator: { now: clock.now },
        config: (simUrl) => ({
          upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1 }] },
          queue: { admission: 'queue' },
          reconcile: { intervalMs: 20 },
        }),
      });
      const create = (headers: Record<string, string> = {}) =>
        fetch(`${s.url}/api/v1/jobs/createTask`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ACME_KEY}`, 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } }),
        }).then(async (r) => ((await r.json()) as { data: { taskId: string } }).data.taskId);
      const sent = await create();
      await s.gateway.dispatcher!.idle();
      const late = await create({ 'Cancel-After': '5s' });
      const cancelled = await create();
      const waiting = await create();
      await s.gateway.dispatcher!.idle();
      const ended = await raw(`${s.url}/api/v1/jobs/cancelTask`, { key: ACME_KEY, body: { taskId: cancelled } });
      expect(ended.body.data).toMatchObject({ state: 'fail', failCode: UNSENT_FAIL_CODES.cancelled });
      clock.advance(5_000); // past the Cancel-After; the key's 10 s have not passed, so nothing more is sent
      const expired = await until('the deadline', async () => {
        const row = await s.store.getTask(late);
        return row?.finalAt ? row : undefined;
      });
      expect(JSON.parse(expired.record!)).toMatchObject({ failCode: UNSENT_FAIL_CODES.expired });
      await until('the sent task to succeed', async () => {
        await raw(`${s.url}/api/v1/jobs/recordInfo?taskId=${sent}`, { key: ACME_KEY });
        return (await s.store.getTask(sent))?.state === 'success' || undefined;
      });
      expect((await s.store.getTask(waiting))!.state).toBe('queued');
      const [row] = JSON.parse((await usage(s, '?tenant=acme')).text).data;
      expect(row).toMatchObject({ tasks: 4, succeeded: 1, failed: 0, cancelled: 1, expired: 1, open: 1, queued: 1, dispatched: 1, actualUsdMicros: 4_000 });
      const csv = (await usage(s, '?tenant=acme', 'text/csv')).text.split('\n')[1]!.split(',');
      expect(csv.slice(2, 6)).toEqual(['4', '1', '0', '1']); // tasks, succeeded, failed, open
      expect(csv.slice(-4)).toEqual(['1', '1', '1', '1']); // queued, dispatched, cancelled, expired
    });

    it.each([
      ['from', '?from=1000000000000000000000000000000'],
      ['to', '?to=275760-09-14'],
      ['from', '?from=soon'],
    ])('refuses a %s the store cannot compare with 422 naming it (%s)', async (field, query) => {
      const s = await startWith(await storeUrl());
      const answer = await usage(s, query);
      expect(answer.status).toBe(422);
      expect(JSON.parse(answer.text)).toMatchObject({ code: 422, data: { errors: [{ path: field }] } });
    });
  });
}

async function startWith(store: string, options: Parameters<typeof startStack>[0] = {}): Promise<Stack> {
  stack = await startStack({ ...options, config: (simUrl) => ({ store, ...options.config?.(simUrl) }) });
  return stack;
}

function storedTask(taskId: string, estimatedCostMicros: number) {
  return {
    taskId,
    tenantId: 'acme',
    upstreamKeyId: 'key-a',
    model: 'z-image',
    callBackUrl: null,
    state: 'waiting' as const,
    record: null,
    createdAt: T0,
    updatedAt: 0,
    finalAt: null,
    slotId: null,
    estimatedCostMicros,
    actualCostMicros: null,
    callbackTokenHash: null,
    nextCheckAt: null,
    checks: 0,
  };
}
