// The admission queue on one instance (SQLite): accepted at once, sent as key allowance frees,
// never past it, fairly across tenants, each task at most once. The gateway and the simulator
// share one manual clock: time moves only when the test says so, and after each move the test
// waits for the dispatcher to have done what it can (`idle()`), so nothing depends on the
// machine's speed. Counts are made at the simulator.
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/index.js';
import { ACME_KEY, GLOBEX_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { manualClock } from '../helpers/wait.js';

const zImage = { model: 'z-image' as const, input: { prompt: 'A lighthouse at dawn', aspect_ratio: '16:9' as const } };
const WINDOW_MS = 10_000;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

type Clock = ReturnType<typeof manualClock>;

async function queueStack(clock: Clock, extra: (simUrl: string) => Partial<ConfigInput> = () => ({}), keys = 2, createPer10s = 20) {
  const all = [
    { id: 'key-a', apiKey: 'sk-up-a', createPer10s },
    { id: 'key-b', apiKey: 'sk-up-b', createPer10s },
  ];
  stack = await startStack({
    clock,
    // Realistic phases: no task ends (and calls back) on its own during a test, whose clock
    // moves only by steps; what the queue does is all there is to see.
    simulator: { now: clock.now, createPer10s: 20, timing: 'realistic' },
    config: (simUrl) => ({
      upstream: { baseUrl: simUrl, keys: all.slice(0, keys) },
      queue: { admission: 'queue' },
      tenants: [
        { id: 'acme', apiKeys: [ACME_KEY] },
        { id: 'globex', apiKeys: [GLOBEX_KEY] },
      ],
      ...extra(simUrl),
    }),
  });
  return stack;
}

const create = (s: Stack, key: string, headers: Record<string, string> = {}, body: unknown = zImage) =>
  fetch(`${s.url}/api/v1/jobs/createTask`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code: number; msg: string; data: any } }));

/** Moves the shared clock and lets the dispatcher send what the freed allowance allows. */
async function step(s: Stack, clock: Clock, ms: number) {
  clock.advance(ms);
  await s.gateway.dispatcher!.idle();
}

/** The simulator's tasks by account, in creation order (its clock = the shared one). */
function createdAtByAccount(s: Stack): Map<string, number[]> {
  const by = new Map<string, number[]>();
  for (const t of s.sim.tasks()) by.set(t.accountId, [...(by.get(t.accountId) ?? []), t.createdAt]);
  for (const times of by.values()) times.sort((a, b) => a - b);
  return by;
}

/** The most createTask calls any key's account saw in any 10 s. */
function busiestWindow(times: number[]): number {
  let most = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= WINDOW_MS) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

async function createMany(s: Stack, key: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 50) {
    const answers = await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => create(s, key)));
    for (const a of answers) {
      expect(a).toMatchObject({ status: 200, body: { code: 200, data: { taskId: expect.stringMatching(/^gt_/) } } });
      ids.push(a.body.data.taskId);
    }
  }
  return ids;
}

describe('the admission queue', () => {
  it('a burst of 500 and a trickle, 2 keys: all accepted, ≤ 20 per 10 s per key, none sent twice, the trickle waits no longer than its share', async () => {
    const clock = manualClock(1_780_000_000_000);
    const s = await queueStack(clock);
    const burst = await createMany(s, ACME_KEY, 500);
    const trickle: string[] = [];
    for (let t = 0; s.sim.tasks().length < 500 + trickle.length || trickle.length < 20; t++) {
      if (t % 4 === 0 && trickle.length < 20) trickle.push(...(await createMany(s, GLOBEX_KEY, 1)));
      await step(s, clock, 500);
      expect(t).toBeLessThan(2000);
    }
    const sent = s.sim.tasks();
    expect(sent).toHaveLength(520);
    expect(s.sim.counters().createTask).toBe(520); // the simulator never had to refuse one (429)
    for (const [account, times] of createdAtByAccount(s)) expect(busiestWindow(times), account).toBeLessThanOrEqual(20);

    // Each accepted task was sent exactly once: one provider task per gateway task.
    const rows = await Promise.all([...burst, ...trickle].map((id) => s.store.getTask(id)));
    const providerIds = rows.map((r) => r!.providerTaskId);
    expect(new Set(providerIds).size).toBe(520);
    expect(providerIds.every((id) => sent.some((t) => t.taskId === id))).toBe(true);

    // The trickling tenant's tasks wait for the next unit of allowance that frees, and no longer:
    // no task of the burst is sent between a trickled task's acceptance and its own sending.
    const createdAt = new Map(sent.map((t) => [t.taskId, t.createdAt]));
    const burstSentAt = rows.slice(0, 500).map((r) => createdAt.get(r!.providerTaskId!)!);
    for (const row of rows.slice(500)) {
      const sentAt = createdAt.get(row!.providerTaskId!)!;
      expect(burstSentAt.filter((t) => t > row!.queuedAt! && t < sentAt)).toEqual([]);
    }
  });

  it('weights 3:1 give dispatch shares within 5% of 3:1 over a backlog', async () => {
    const clock = manualClock(1_780_000_000_000);
    const s = await queueStack(clock, () => ({
      tenants: [
        { id: 'acme', apiKeys: [ACME_KEY], queue: { weight: 3 } },
        { id: 'globex', apiKeys: [GLOBEX_KEY], queue: { weight: 1 } },
      ],
    }));
    const start = clock.now();
    const [acme, globex] = [new Set(await createMany(s, ACME_KEY, 300)), new Set(await createMany(s, GLOBEX_KEY, 300))];
    while (s.sim.tasks().length < 240) await step(s, clock, 500);
    // Over the backlog: what was sent once both tenants had tasks waiting (the first units went
    // to acme while globex had none queued yet).
    const sentAt = new Map(s.sim.tasks().map((t) => [t.taskId, t.createdAt]));
    const rows = await Promise.all([...acme, ...globex].map((id) => s.store.getTask(id)));
    const sent = rows.filter((r) => r!.providerTaskId !== null && sentAt.get(r!.providerTaskId)! > start);
    expect(sent.length).toBeGreaterThanOrEqual(160);
    const acmeShare = sent.filter((r) => acme.has(r!.taskId)).length / sent.length;
    expect(Math.abs(acmeShare - 0.75)).toBeLessThanOrEqual(0.05 * 0.75);
  });

  it("recordInfo shows a queued task as waiting, with its place in its tenant's queue and when it was accepted", async () => {
    const clock = manualClock(1_780_000_000_000);
    const s = await queueStack(clock, () => ({}), 1, 1);
    const [first, second, third] = await createMany(s, ACME_KEY, 3);
    await s.gateway.dispatcher!.idle(); // the one unit of allowance: the first task goes
    const read = async (id: string) => (await raw(`${s.url}/api/v1/jobs/recordInfo?taskId=${id}`, { key: ACME_KEY })).body.data;
    expect(await read(first!)).toMatchObject({
      taskId: first,
      state: expect.stringMatching(/waiting|queuing|generating|success/),
      providerTaskId: expect.any(String),
    });
    expect(await read(second!)).toMatchObject({ taskId: second, state: 'waiting', queuePosition: 1, queuedAt: clock.now(), param: JSON.stringify(zImage) });
    expect(await read(third!)).toMatchObject({ taskId: third, state: 'waiting', queuePosition: 2 });
    // A higher priority goes ahead of the tenant's other waiting tasks.
    const urgent = await create(s, ACME_KEY, { 'X-Task-Priority': '5' });
    expect(await read(urgent.body.data.taskId)).toMatchObject({ queuePosition: 1 });
    expect(await read(second!)).toMatchObject({ queuePosition: 2 });
    await step(s, clock, WINDOW_MS);
    expect((await s.store.getTask(urgent.body.data.taskId))!.providerTaskId).not.toBeNull();
    expect((await s.store.getTask(second!))!.state).toBe('queued');
  });

  it('cancelTask ends a queued task for nothing, frees its budget, calls the tenant back; a task at the provider answers 409', async () => {
    const clock = manualClock(1_780_000_000_000);
    // z-image costs USD 0.004: a budget of 0.01 holds two.
    const s = await queueStack(
      clock,
      () => ({
        tenants: [
          { id: 'acme', apiKeys: [ACME_KEY], quotas: { budgetUsdPerMonth: 0.01 } },
          { id: 'globex', apiKeys: [GLOBEX_KEY] },
        ],
      }),
      1,
      1,
    );
    const [sentOne, queued] = await createMany(s, ACME_KEY, 2);
    await s.gateway.dispatcher!.idle();
    expect(await create(s, ACME_KEY)).toMatchObject({ status: 402 }); // two reserved: the budget is full
    const cancel = (taskId: string, key = ACME_KEY) => raw(`${s.url}/api/v1/jobs/cancelTask`, { key, body: { taskId } });
    expect(await cancel(queued!, GLOBEX_KEY)).toMatchObject({ body: { code: 422, msg: 'recordInfo is null' } }); // not theirs
    const cancelled = await cancel(queued!);
    expect(cancelled).toMatchObject({ status: 200, body: { code: 200, data: { taskId: queued, state: 'fail', failCode: 'GATEWAY_CANCELLED' } } });
    expect(await cancel(queued!)).toMatchObject({ status: 200, body: { data: { failCode: 'GATEWAY_CANCELLED' } } }); // twice: the same
    expect(await cancel(sentOne!)).toMatchObject({ status: 409, body: { code: 409, msg: expect.stringMatching(/already at the provider|already final/) } });
    expect(await s.store.getTask(queued!)).toMatchObject({ state: 'fail', actualCostMicros: 0, finalAt: clock.now() });
    expect(await create(s, ACME_KEY)).toMatchObject({ status: 200 }); // its reservation came back
    await step(s, clock, WINDOW_MS);
    expect(s.sim.tasks()).toHaveLength(2); // the cancelled one never went
  });

  it('Cancel-After: a task still queued at its deadline ends fail, unsent, for nothing', async () => {
    const clock = manualClock(1_780_000_000_000);
    const s = await queueStack(clock, () => ({ reconcile: { intervalMs: 20 } }), 1, 1);
    await createMany(s, ACME_KEY, 1);
    const late = await create(s, ACME_KEY, { 'Cancel-After': '5s' });
    expect(late.status).toBe(200);
    expect(await create(s, ACME_KEY, { 'Cancel-After': 'soon' })).toMatchObject({
      status: 400,
      body: { code: 400, msg: expect.stringMatching(/Cancel-After/) },
    });
    await s.gateway.dispatcher!.idle();
    clock.advance(5_000);
    const { pollUntil } = await import('../helpers/wait.js');
    const row = await pollUntil('the deadline', async () => {
      const found = await s.store.getTask(late.body.data.taskId);
      return found?.finalAt ? found : undefined;
    });
    expect(JSON.parse(row.record!)).toMatchObject({ state: 'fail', failCode: 'GATEWAY_DEADLINE' });
    await step(s, clock, WINDOW_MS);
    expect(s.sim.tasks()).toHaveLength(1);
  });

  it('Idempotency-Key: a replay gets the first answer, another body 422, a concurrent one 409 or the same answer', async () => {
    const clock = manualClock(1_780_000_000_000);
    const s = await queueStack(clock);
    const first = await create(s, ACME_KEY, { 'Idempotency-Key': 'order-1' });
    expect(first.status).toBe(200);
    expect(await create(s, ACME_KEY, { 'Idempotency-Key': 'order-1' })).toEqual(first);
    expect(await create(s, ACME_KEY, { 'Idempotency-Key': 'order-1' }, { ...zImage, input: { ...zImage.input, prompt: 'Another' } })).toMatchObject({
      status: 422,
      body: { code: 422 },
    });
    // Keys are per tenant: another tenant's same key is its own.
    expect((await create(s, GLOBEX_KEY, { 'Idempotency-Key': 'order-1' })).body.data.taskId).not.toBe(first.body.data.taskId);
    // A race of 10 on one new key: one task; the others see it in flight (409) or its answer.
    const race = await Promise.all(Array.from({ length: 10 }, () => create(s, ACME_KEY, { 'Idempotency-Key': 'order-2' })));
    const accepted = race.filter((a) => a.status === 200);
    expect(new Set(accepted.map((a) => a.body.data.taskId)).size).toBe(1);
    for (const a of race.filter((a) => a.status !== 200)) expect(a).toMatchObject({ status: 409, body: { code: 409 } });
    expect(await s.store.countTasks()).toBe(3);
    // After 24 h the key may be used afresh.
    clock.advance(24 * 3_600_000 + 1);
    expect((await create(s, ACME_KEY, { 'Idempotency-Key': 'order-1' })).body.data.taskId).not.toBe(first.body.data.taskId);
  });

  it('the typed client: idempotencyKey, cancelTask, and the queue position in onProgress', async () => {
    const clock = manualClock(1_780_000_000_000);
    const s = await queueStack(clock, () => ({}), 1, 1);
    const client = s.client();
    const first = await client.createTask(zImage, { idempotencyKey: 'client-1' });
    expect(await client.createTask(zImage, { idempotencyKey: 'client-1' })).toEqual(first);
    await s.gateway.dispatcher!.idle();
    const queued = await client.createTask(zImage, { idempotencyKey: true, cancelAfter: '1h', priority: 1 });
    const positions: number[] = [];
    const controller = new AbortController();
    const waiting = client.waitForTask(queued.taskId, {
      initialDelayMs: 1,
      signal: controller.signal,
      onProgress: (_r, info) => {
        if (info.queuePosition !== undefined) positions.push(info.queuePosition);
        controller.abort(new Error('seen'));
      },
    });
    await expect(waiting).rejects.toThrow('seen');
    expect(positions).toEqual([1]);
    expect(await client.cancelTask(queued.taskId)).toMatchObject({ taskId: queued.taskId, state: 'fail', failCode: 'GATEWAY_CANCELLED' });
    await expect(client.cancelTask(first.taskId)).rejects.toMatchObject({ code: 409 });
  });

  it('maxQueued caps the waiting tasks (429 maxQueued); maxInFlight counts the tasks at the provider, checked at dispatch', async () => {
    const clock = manualClock(1_780_000_000_000);
    const s = await queueStack(clock, () => ({
      tenants: [
        { id: 'acme', apiKeys: [ACME_KEY], queue: { maxQueued: 2 }, quotas: { maxInFlight: 1 } },
        { id: 'globex', apiKeys: [GLOBEX_KEY] },
      ],
    }));
    const [atProvider, waiting] = await createMany(s, ACME_KEY, 2);
    await s.gateway.dispatcher!.idle();
    // One at the provider (maxInFlight 1): the other stays queued although keys have allowance.
    expect((await s.store.getTask(atProvider!))!.providerTaskId).not.toBeNull();
    expect((await s.store.getTask(waiting!))!.state).toBe('queued');
    await createMany(s, ACME_KEY, 1); // two waiting now
    expect(await create(s, ACME_KEY)).toMatchObject({ status: 429, body: { code: 429, data: { limit: 'maxQueued' } } });
    await step(s, clock, WINDOW_MS);
    expect((await s.store.getTask(waiting!))!.state).toBe('queued'); // the first is still at the provider
    expect(s.sim.tasks()).toHaveLength(1);
  });

  it('maxQueued holds among concurrent requests: never more waiting than the cap', async () => {
    const clock = manualClock(1_780_000_000_000);
    const s = await queueStack(
      clock,
      () => ({
        tenants: [
          { id: 'acme', apiKeys: [ACME_KEY], queue: { maxQueued: 5 } },
          { id: 'globex', apiKeys: [GLOBEX_KEY] },
        ],
      }),
      1,
      1,
    );
    const answers = await Promise.all(Array.from({ length: 20 }, () => create(s, ACME_KEY)));
    const accepted = answers.filter((a) => a.status === 200);
    for (const a of answers.filter((x) => x.status !== 200)) expect(a).toMatchObject({ status: 429, body: { data: { limit: 'maxQueued' } } });
    await s.gateway.dispatcher!.idle();
    expect(await s.store.countQueued('acme')).toBeLessThanOrEqual(5);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(accepted.length).toBeLessThanOrEqual(6); // five waiting, and the one the key's unit took
    expect(await s.store.countTasks()).toBe(accepted.length); // a withdrawn task leaves no row
  });

  it("is the default: with no queue settings, a createTask past the keys' pace is accepted at once and waits its turn", async () => {
    const clock = manualClock(1_780_000_000_000);
    stack = await startStack({
      clock,
      simulator: { now: clock.now, createPer10s: 20, timing: 'realistic' },
      // No `queue` at all (this replaces the helpers' send-at-once one): the schema's default applies.
      config: (simUrl) => ({ upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1 }] }, queue: undefined }),
    });
    const s = stack;
    const [, second] = await createMany(s, ACME_KEY, 2); // both HTTP 200 at once; sent at once, the second would be 429
    await s.gateway.dispatcher!.idle();
    const read = await raw(`${s.url}/api/v1/jobs/recordInfo?taskId=${second}`, { key: ACME_KEY });
    expect(read).toMatchObject({ status: 200, body: { code: 200, data: { taskId: second, state: 'waiting', queuePosition: 1, queuedAt: clock.now() } } });
    expect(s.sim.tasks()).toHaveLength(1);
    await step(s, clock, WINDOW_MS);
    expect(s.sim.tasks()).toHaveLength(2);
  });

  it('admission reject keeps the old behaviour: sent at once, 429 when the keys are at their pace', async () => {
    const clock = manualClock(1_780_000_000_000);
    const s = await queueStack(
      clock,
      () => ({
        tenants: [
          { id: 'acme', apiKeys: [ACME_KEY], queue: { admission: 'reject' } },
          { id: 'globex', apiKeys: [GLOBEX_KEY] },
        ],
      }),
      1,
      2,
    );
    const answers = await Promise.all(Array.from({ length: 3 }, () => create(s, ACME_KEY)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 429]);
    expect(s.sim.tasks()).toHaveLength(2);
  });

  it('queued tasks survive a restart and are sent once', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'lxg-queue-')), 'gateway.db');
    const clock = manualClock(1_780_000_000_000);
    const first = await queueStack(clock, () => ({ store: `sqlite:${file}` }), 1, 1);
    const sim = first.sim;
    const ids = await createMany(first, ACME_KEY, 5);
    await first.gateway.dispatcher!.idle();
    await first.server.close({ graceMs: 100 }); // closes the gateway (and stops its dispatcher)
    await first.store.close();
    stack = undefined;
    const sentBefore = sim.tasks().length;
    expect(sentBefore).toBe(1);
    // A new gateway on the same file, the same simulator (not closed: the first stack's close is skipped).
    const second = await queueStack(
      clock,
      () => ({ store: `sqlite:${file}`, upstream: { baseUrl: sim.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1 }] } }),
      1,
      1,
    );
    for (let i = 0; i < 10; i++) await step(second, clock, WINDOW_MS);
    const rows = await Promise.all(ids.map((id) => second.store.getTask(id)));
    expect(rows.every((r) => r!.providerTaskId !== null)).toBe(true);
    expect(sim.tasks()).toHaveLength(5);
    await sim.close();
  });
});
