// Polls that tell the truth: more tasks polled than the provider's read budget can refresh, and
// every poll still answers the task's record (never "recordInfo is null") with how old it may be;
// the budget goes to the polled tasks whose record is oldest, so every task is refreshed in turn,
// and none is spent on a task whose callback is due to come. Gateway and simulator share one
// manual clock: the budget refills only when the test moves it.
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTaskRequest } from '../../src/client/index.js';
import { createPollPriority } from '../../src/gateway/tasks/poll-priority.js';
import { RECORD_AGE_HEADER } from '../../src/gateway/tasks/read.js';
import type { TaskRow } from '../../src/store/types.js';
import { ACME_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { manualClock, pollUntil } from '../helpers/wait.js';

const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };

describe('poll priority', () => {
  const row = (taskId: string, createdAt: number, extra: Partial<TaskRow> = {}) =>
    ({ taskId, upstreamKeyId: 'key-a', model: 'z-image', createdAt, updatedAt: 0, record: null, finalAt: null, ...extra }) as TaskRow;

  it('reads inline while the budget covers the polled tasks, queues past it', () => {
    const clock = manualClock(10_000);
    const priority = createPollPriority(clock.now);
    expect(priority.polled(row('a', 0), 2)).toBe('read');
    expect(priority.polled(row('b', 0), 2)).toBe('read');
    expect(priority.polled(row('c', 0), 2)).toBe('queue');
  });

  it('ranks the oldest record first, and tasks near their usual end double', () => {
    const clock = manualClock(100_000);
    const priority = createPollPriority(clock.now);
    // The model usually takes 10 s (learnt from one that ended); no callbacks are arriving.
    priority.learnt(row('done', 90_000), true);
    priority.polled(row('young', 99_000), 0); // age 1 s, 1 s in: far from its end
    priority.polled(row('old', 95_000, { record: '{}', updatedAt: 96_000 }), 0); // age 4 s, 5 s in
    priority.polled(row('ending', 91_500, { record: '{}', updatedAt: 98_000 }), 0); // age 2 s, 8.5 s in: near its end, doubled to 4 s (a tie: polled first wins)
    expect(priority.next('key-a', 3, () => false).map((r) => r.taskId)).toEqual(['old', 'ending', 'young']);
    clock.advance(1000);
    expect(priority.next('key-a', 1, () => false).map((r) => r.taskId)).toEqual(['ending']); // 3 s × 2 beats 5 s
  });

  it('spends no read on a task before its usual end while callbacks arrive; after it, reads it', () => {
    const clock = manualClock(100_000);
    const priority = createPollPriority(clock.now);
    priority.learnt(row('done', 90_000), true); // usually 10 s
    priority.callbackArrived();
    expect(priority.polled(row('running', 95_000), 10)).toBe('skip');
    expect(priority.next('key-a', 5, () => false)).toEqual([]);
    clock.advance(6000); // past its usual end: its callback is late
    expect(priority.polled(row('running', 95_000), 10)).toBe('read');
  });

  it('reads a task again only once tasks.minReadIntervalMs has passed since it was learnt', () => {
    const clock = manualClock(10_000);
    const priority = createPollPriority(clock.now, () => 1000);
    const running = row('a', 0);
    expect(priority.polled(running, 10)).toBe('read');
    priority.learnt(running, false);
    clock.advance(999);
    expect(priority.polled(running, 10)).toBe('skip');
    expect(priority.next('key-a', 5, () => false)).toEqual([]); // nor is it handed a queued read
    clock.advance(1);
    expect(priority.polled(running, 10)).toBe('read');
    expect(priority.next('key-a', 5, () => false).map((r) => r.taskId)).toEqual(['a']);
  });

  it('forgets tasks nobody polls any more', () => {
    const clock = manualClock(0);
    const priority = createPollPriority(clock.now);
    priority.polled(row('a', 0), 1);
    clock.advance(60_000);
    priority.polled(row('b', 0), 1);
    expect(priority.demanded('key-a')).toBe(1);
  });
});

describe('polling more tasks than the budget reads', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('answers every poll with the record and its age, refreshes every task in turn, within the budget', async () => {
    const clock = manualClock();
    stack = await startStack({
      clock,
      simulator: { now: clock.now, createPer10s: 1000, recordInfoPerSecond: 10, timing: { visibleAfterMs: 0, waitingMs: 3_600_000 } },
      config: (simUrl) => ({ upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1000, recordInfoPerSecond: 10 }] } }),
    });
    const client = stack.client();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await client.createTask(zImage)).taskId);
    const started = stack.sim.counters().recordInfo;
    const taken = () => stack!.gateway.context.upstreams.list[0]!.pool.readStatus()[0]!.taken;
    const takenBefore = taken();
    const ticks = 48; // 6 s of 1/8 s: 40 tasks, 8 reads per second, every task read within 5 s
    const ages: number[] = [];
    for (let tick = 1; tick <= ticks; tick++) {
      for (const taskId of ids) {
        const answer = await raw(`${stack.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: ACME_KEY });
        expect(answer.body).toMatchObject({ code: 200, data: { taskId, state: 'waiting' } });
        ages.push(Number(answer.headers.get(RECORD_AGE_HEADER)));
      }
      // The reads go out in the background: each must reach the provider before the clock moves on.
      const sent = taken() - takenBefore;
      await pollUntil(`${sent} reads at the provider`, () => stack!.sim.counters().recordInfo - started === sent);
      clock.advance(125);
    }
    const counters = stack.sim.counters();
    expect(counters.recordInfo - started).toBe(2 + ticks - 1); // the burst, then one per tick
    expect(counters.recordInfo429).toBe(0);
    expect(ages.every((age) => Number.isInteger(age) && age >= 0)).toBe(true);
    expect(Math.max(...ages.slice(-40))).toBeLessThanOrEqual(6000); // no task's record older than the rotation
    // Every task was read from the provider at least once (its record is stored).
    for (const taskId of ids) expect((await stack.store.getTask(taskId))?.record).toBeTruthy();
  });

  it('answers a task polled again within tasks.minReadIntervalMs from its stored record, with its age, and reads it after', async () => {
    const clock = manualClock();
    stack = await startStack({
      clock,
      simulator: { now: clock.now, timing: { visibleAfterMs: 0, waitingMs: 3_600_000 } },
      config: (simUrl) => ({ upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a' }] }, tasks: { minReadIntervalMs: 1000 } }),
    });
    const { taskId } = await stack.client().createTask(zImage);
    const poll = () => raw(`${stack!.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: ACME_KEY });
    const started = stack.sim.counters().recordInfo;
    const first = await poll();
    expect(first.headers.get(RECORD_AGE_HEADER)).toBe('0');
    expect(stack.sim.counters().recordInfo - started).toBe(1);
    clock.advance(400);
    for (let i = 0; i < 5; i++) {
      const again = await poll();
      expect(again.body).toMatchObject({ code: 200, data: { taskId, state: 'waiting' } });
      expect(again.headers.get(RECORD_AGE_HEADER)).toBe('400');
    }
    expect(stack.sim.counters().recordInfo - started).toBe(1);
    clock.advance(600);
    expect((await poll()).headers.get(RECORD_AGE_HEADER)).toBe('0');
    expect(stack.sim.counters().recordInfo - started).toBe(2);
  });
});
