// recordInfo within the provider's limit: a margin under the key's allowance, and the
// provider's 429 on a read as a signal (halve, rest for Retry-After, then one more read per
// clean second). The simulator counts what it refused; gateway and simulator share one manual
// clock, so the provider's windows and the gateway's budget move only when the test says.
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTaskRequest } from '../../src/client/index.js';
import { createReadBudget } from '../../src/gateway/tasks/read-budget.js';
import { startStack, type Stack } from '../helpers/gateway-stack.js';
import { manualClock } from '../helpers/wait.js';

describe('read budget (AIMD)', () => {
  it('starts at the margin under the allowance, never below one read', () => {
    expect(createReadBudget({ perSecond: 10, margin: 0.8 }).status().ceiling).toBe(8);
    expect(createReadBudget({ perSecond: 1, margin: 0.8 }).status().ceiling).toBe(1);
  });

  it('lets at most `allowed` reads out in any second', () => {
    const budget = createReadBudget({ perSecond: 10, margin: 0.8 });
    const taken = Array.from({ length: 20 }, () => budget.take(5000)).filter(Boolean).length;
    expect(taken).toBe(8);
    expect(budget.nextAt(5000)).toBe(6000);
    expect(budget.take(5999)).toBe(false);
    expect(budget.take(6000)).toBe(true);
  });

  it('halves on a 429 (once per window), rests for Retry-After, then grows by one per clean second', () => {
    const budget = createReadBudget({ perSecond: 10, margin: 0.8 });
    budget.answered(429, 1000, 3000);
    budget.answered(429, 1001, 3000); // the same burst: no second halving
    expect(budget.status()).toMatchObject({ allowed: 4, restingUntil: 4001, refused: 2 });
    expect(budget.take(4000)).toBe(false);
    expect(budget.take(4001)).toBe(true);
    budget.answered(200, 4001);
    expect(budget.status().allowed).toBe(5);
    budget.answered(200, 4501); // within the same second: no growth yet
    expect(budget.status().allowed).toBe(5);
    for (let t = 5001; t <= 9001; t += 1000) budget.answered(200, t);
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

  /** 30 tasks, visible at once and never final; the provider allows 10 reads per second per key. */
  async function start(believedPerSecond: number) {
    const clock = manualClock();
    stack = await startStack({
      clock,
      simulator: { now: clock.now, createPer10s: 1000, recordInfoPerSecond: 10, timing: { visibleAfterMs: 0, waitingMs: 3_600_000 } },
      config: (simUrl) => ({ upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1000, recordInfoPerSecond: believedPerSecond }] } }),
    });
    const client = stack.client();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await client.createTask(zImage)).taskId);
    return { clock, client, ids };
  }

  /** Every task polled once per second for `seconds` seconds; what the provider saw. */
  async function pollFor(seconds: number, s: Awaited<ReturnType<typeof start>>) {
    const before = stack!.sim.counters();
    for (let second = 0; second < seconds; second++) {
      for (const taskId of s.ids) expect((await s.client.getTask(taskId)).state).toBe('waiting');
      s.clock.advance(1000);
    }
    const after = stack!.sim.counters();
    return { reads: after.recordInfo - before.recordInfo, refused: after.recordInfo429 - before.recordInfo429 };
  }

  it('stays under the provider\'s allowance: no read refused', async () => {
    const s = await start(10);
    const seen = await pollFor(10, s);
    expect(seen.refused).toBe(0);
    expect(seen.reads).toBe(80); // 8 per second: the margin
  });

  it('learns a lower limit than configured from the provider\'s 429s and then keeps almost every read within it', async () => {
    const s = await start(20); // the operator believes 20 per second; the provider allows 10
    const first = await pollFor(1, s);
    expect(first.refused).toBeGreaterThan(0);
    const later = await pollFor(20, s);
    expect(later.reads).toBeGreaterThan(100);
    expect(later.refused / later.reads).toBeLessThanOrEqual(0.05);
    // Every poll was answered from what the gateway knows, 429 or not (checked in pollFor).
  });
});
