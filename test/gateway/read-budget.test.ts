// recordInfo within the provider's limit: a margin under the key's allowance, and the
// provider's 429 on a read as a signal (halve, rest for Retry-After, then one more read per
// clean second). The simulator counts what it refused; gateway and simulator share one manual
// clock, so the provider's windows and the gateway's budget move only when the test says.
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTaskRequest } from '../../src/client/index.js';
import { createReadBudget } from '../../src/gateway/tasks/read-budget.js';
import { startStack, type Stack } from '../helpers/gateway-stack.js';
import { manualClock, pollUntil } from '../helpers/wait.js';

describe('read budget (AIMD)', () => {
  it("allows the margin under the provider's figure per second, and the rest of it as a burst", () => {
    expect(createReadBudget({ perSecond: 10, margin: 0.8 }).status()).toMatchObject({ ceiling: 8, capacity: 2 });
    expect(createReadBudget({ perSecond: 1, margin: 0.8 }).status()).toMatchObject({ ceiling: 1, capacity: 1 });
  });

  it("lets a burst of its capacity out, then one read every 1/allowed s: never more than the provider's figure in a second", () => {
    const budget = createReadBudget({ perSecond: 10, margin: 0.8 });
    expect(Array.from({ length: 20 }, () => budget.take(5000)).filter(Boolean).length).toBe(2);
    expect(budget.nextAt(5000)).toBe(5125);
    expect(budget.take(5124)).toBe(false);
    expect(budget.take(5125)).toBe(true);
    // Asked every millisecond for 5 s: no second (as the provider counts, (t - 1000, t]) holds more than 10.
    const later = createReadBudget({ perSecond: 10, margin: 0.8 });
    const sent: number[] = [];
    for (let t = 0; t < 5000; t++) while (later.take(t)) sent.push(t);
    const busiest = Math.max(...sent.map((t) => sent.filter((u) => u > t - 1000 && u <= t).length));
    expect(busiest).toBeLessThanOrEqual(10);
    expect(sent.length).toBeGreaterThanOrEqual(40); // 8 per second, and the burst
  });

  it('halves on a 429 (once per window), rests for Retry-After, then grows by one per clean second', () => {
    const budget = createReadBudget({ perSecond: 10, margin: 0.8 });
    budget.answered(true, 1000, 3000);
    budget.answered(true, 1001, 3000); // the same burst: no second halving
    expect(budget.status()).toMatchObject({ allowed: 4, restingUntil: 4001, refused: 2 });
    expect(budget.take(4000)).toBe(false);
    expect(budget.take(4001)).toBe(true);
    budget.answered(false, 4001);
    expect(budget.status().allowed).toBe(5);
    budget.answered(false, 4501); // within the same second: no growth yet
    expect(budget.status().allowed).toBe(5);
    for (let t = 5001; t <= 9001; t += 1000) budget.answered(false, t);
    expect(budget.status().allowed).toBe(8); // the ceiling, not beyond
  });
});

describe('reads through the gateway', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
  const TICK_MS = 125;

  /** 12 tasks, visible at once and never final; the provider allows 10 reads per second per key. */
  async function start(believedPerSecond: number) {
    const clock = manualClock();
    stack = await startStack({
      clock,
      simulator: { now: clock.now, createPer10s: 1000, recordInfoPerSecond: 10, timing: { visibleAfterMs: 0, waitingMs: 3_600_000 } },
      config: (simUrl) => ({
        upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1000, recordInfoPerSecond: believedPerSecond }] },
      }),
    });
    const client = stack.client();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await client.createTask(zImage)).taskId);
    return { clock, client, ids };
  }

  /** Every task polled once per tick (1/8 s) for `ticks` ticks; what the provider saw. */
  async function pollFor(ticks: number, s: Awaited<ReturnType<typeof start>>) {
    const budget = () => stack!.gateway.context.upstreams.list[0]!.pool.readStatus()[0]!;
    const before = stack!.sim.counters();
    const takenBefore = budget().taken;
    for (let tick = 0; tick < ticks; tick++) {
      for (const taskId of s.ids) expect((await s.client.getTask(taskId)).state).toBe('waiting');
      // Reads past the budget go out in the background: each must reach the provider before its clock moves on.
      const taken = budget().taken - takenBefore;
      await pollUntil(`${taken} reads at the provider`, () => stack!.sim.counters().recordInfo - before.recordInfo === taken);
      s.clock.advance(TICK_MS);
    }
    const after = stack!.sim.counters();
    return { reads: after.recordInfo - before.recordInfo, refused: after.recordInfo429 - before.recordInfo429 };
  }

  it("stays under the provider's allowance: no read refused", async () => {
    const s = await start(10);
    const seen = await pollFor(40, s); // 5 s
    expect(seen.refused).toBe(0);
    expect(seen.reads).toBe(2 + 39); // the burst, then one per tick (8 per second)
  });

  it("learns a lower limit than configured from the provider's 429s and then keeps almost every read within it", async () => {
    const s = await start(20); // the operator believes 20 per second; the provider allows 10
    const first = await pollFor(8, s);
    expect(first.refused).toBeGreaterThan(0);
    const later = await pollFor(80, s); // 10 s
    expect(later.reads).toBeGreaterThan(50);
    expect(later.refused / later.reads).toBeLessThanOrEqual(0.05);
    // Every poll was answered from what the gateway knows, 429 or not (checked in pollFor).
  });
});
