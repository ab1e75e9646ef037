// The memory and Redis backends are two implementations of one set of rules: driven through the
// same sequence of calls, tasks, releases and settles at the same (injected) times, they must
// give identical answers, refusal for refusal, header for header. The sequence crosses a minute's
// end with a full requestsPerMinute window (the sliding window must not let it through twice), a
// UTC day's end and a month's end, leases running out, the budget, and key pacing.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantQuotas } from '../../src/config/index.js';
import { createLocalQuota } from '../../src/quota/local.js';
import { createRedisQuota } from '../../src/quota/redis.js';
import type { Admission, KeyCandidate, QuotaBackend } from '../../src/quota/types.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { needsRedis } from '../helpers/services.js';
import { usdToMicros } from '../../src/pricing/money.js';

const EMPTY = { tasks: 0, actualCostMicros: 0, open: [] };
/** 23:58:00 on the last day of January, UTC: a minute, a day and a month end in the sequence. */
const T0 = Date.UTC(2026, 0, 31, 23, 58, 0);
const LEASE_MS = 90_000;

type Step =
  | { at: number; call: TenantQuotas }
  | { at: number; task: TenantQuotas; slot: string; usd?: number; keys?: KeyCandidate[] }
  | { at: number; release: string; createdAt: number }
  | { at: number; settle: string; usd: number; createdAt: number }
  | { at: number; pick: KeyCandidate[] };

async function run(backend: QuotaBackend, steps: Step[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const step of steps) {
    const at = T0 + step.at;
    if ('call' in step) out.push(await backend.admit('acme', step.call, at));
    else if ('task' in step)
      out.push(
        await backend.admit('acme', step.task, at, {
          slotId: step.slot,
          estimateMicros: usdToMicros(step.usd ?? 0.004),
          leaseMs: LEASE_MS,
          keys: step.keys ?? [],
        }),
      );
    else if ('release' in step) out.push(await backend.release('acme', step.release, T0 + step.createdAt));
    else if ('settle' in step) out.push(await backend.settle('acme', step.settle, usdToMicros(step.usd), T0 + step.createdAt));
    else out.push(await backend.pickKey(step.pick, at));
  }
  return out;
}

let redis: TestRedis;
beforeAll(async () => {
  if (needsRedis.skip) return; // every test here is skipped, saying why
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.close();
});

async function both(steps: Step[]): Promise<unknown[]> {
  const shared = createRedisQuota({
    url: redis.url,
    prefix: `b${randomUUID()}`,
    failOpen: false,
    commandTimeoutMs: 10_000,
    leaseMs: LEASE_MS,
    loadUsage: async () => ({ today: EMPTY, month: EMPTY }),
  });
  try {
    const [inMemory, inRedis] = [await run(createLocalQuota(), steps), await run(shared, steps)];
    expect(inRedis).toEqual(inMemory);
    return inMemory;
  } finally {
    await shared.close();
  }
}

const repeat = <T>(n: number, make: (i: number) => T) => Array.from({ length: n }, (_, i) => make(i));
const oks = (answers: unknown[]) => answers.filter((a) => (a as Admission).ok).length;

describe('memory and Redis answer alike', needsRedis, () => {
  it('requestsPerMinute is a sliding 60 s window: a full burst just before a minute ends is not let through again just after', async () => {
    const rpm = { requestsPerMinute: 120 };
    const answers = await both([
      ...repeat(130, (i) => ({ at: 59_000 + i, call: rpm })), // 120 pass, 10 refused
      ...repeat(130, (i) => ({ at: 61_000 + i, call: rpm })), // the next minute: still the same 60 s
      { at: 119_000, call: rpm }, // the first of the burst has left the window
      { at: 119_000, call: rpm }, // ... and only it
    ]);
    expect(oks(answers.slice(0, 130))).toBe(120);
    expect(oks(answers.slice(130, 260))).toBe(0);
    expect(answers[130]).toMatchObject({ ok: false, limit: 'requestsPerMinute', retryAfterMs: 59_000 - 1_000 });
    expect((answers[130] as Admission).remaining).toEqual([{ limit: 'requestsPerMinute', quota: 120, remaining: 0, resetSeconds: 58, windowSeconds: 60 }]);
    expect(answers.slice(260).map((a) => (a as Admission).ok)).toEqual([true, false]);
    expect((answers[260] as Admission).remaining[0]).toMatchObject({ remaining: 0, resetSeconds: 1 });
  });

  it('every task limit, its refusal and its headers, across a day and a month', async () => {
    const quotas = { requestsPerMinute: 50, tasksPerDay: 4, tasksPerMonth: 5, maxInFlight: 2, budgetUsdPerMonth: 0.1 };
    const keys = [
      { id: 'k1', allowance: 2 },
      { id: 'k2', allowance: 1 },
    ];
    const answers = await both([
      { at: 0, task: quotas, slot: 's1', keys },
      { at: 10, task: quotas, slot: 's2', keys },
      { at: 20, task: quotas, slot: 's3', keys }, // maxInFlight
      { at: 30, release: 's1', createdAt: 0 }, // not created: its slot and the day's count come back
      { at: 40, task: quotas, slot: 's4', keys },
      { at: 45, settle: 's2', usd: 0.09, createdAt: 10 },
      { at: 50, task: quotas, slot: 's5', keys }, // paced: both keys used up for 10 s
      { at: 60, task: quotas, slot: 's6', usd: 0.02 }, // budget: 0.09 spent + 0.004 reserved + 0.02
      { at: 70, task: quotas, slot: 's7' },
      { at: 80, task: quotas, slot: 's8' }, // maxInFlight again
      { at: 91_000, task: quotas, slot: 's9' }, // the leases ran out: nothing in flight
      { at: 91_010, task: quotas, slot: 's10' }, // tasksPerDay: 4 today
      { at: 2 * 60_000 + 1, task: quotas, slot: 's11', usd: 0.001 }, // a new day and month
      { at: 2 * 60_000 + 2, call: quotas },
      ...repeat(4, (i) => ({ at: 2 * 60_000 + 3 + i, pick: keys })),
    ]);
    const outcome = (a: unknown) => (a && typeof a === 'object' && 'limit' in a ? a.limit : (a as Admission | undefined)?.ok);
    expect(answers.map(outcome)).toEqual([
      true,
      true,
      'maxInFlight',
      undefined,
      true,
      undefined,
      'paced',
      'budgetUsdPerMonth',
      true,
      'maxInFlight',
      true,
      'tasksPerDay',
      true,
      true,
      true,
      true,
      true,
      false,
    ]);
    expect(answers[6]).toMatchObject({ retryAfterMs: 10_000 - 50 });
    expect((answers[9] as Admission).remaining).toEqual([
      { limit: 'requestsPerMinute', quota: 50, remaining: 42, resetSeconds: 60, windowSeconds: 60 },
      { limit: 'tasksPerDay', quota: 4, remaining: 1, resetSeconds: 120, windowSeconds: 86_400 },
      { limit: 'tasksPerMonth', quota: 5, remaining: 2, resetSeconds: 120, windowSeconds: 120 },
      { limit: 'maxInFlight', quota: 2, remaining: 0, resetSeconds: 0, windowSeconds: 0 },
      { limit: 'budgetUsdPerMonth', quota: 10, remaining: 0, resetSeconds: 120, windowSeconds: 120 },
    ]);
    expect((answers[12] as Admission).remaining.slice(1, 3).map((r) => r.remaining)).toEqual([3, 4]);
  });

  it('a refused call still counts when a task limit refuses it, not when requestsPerMinute does', async () => {
    const quotas = { requestsPerMinute: 3, tasksPerDay: 1 };
    const answers = await both([
      { at: 0, task: quotas, slot: 'a' },
      { at: 1, task: quotas, slot: 'b' }, // tasksPerDay: counted as a call
      { at: 2, call: quotas },
      { at: 3, call: quotas }, // requestsPerMinute: not counted
      { at: 60_000, call: quotas }, // the first call left the window: one is free
      { at: 60_000, call: quotas },
    ]);
    expect(answers.map((a) => (a as Admission).ok)).toEqual([true, false, true, false, true, false]);
    expect(answers[1]).toMatchObject({ limit: 'tasksPerDay' });
    expect(answers[5]).toMatchObject({ limit: 'requestsPerMinute', retryAfterMs: 1 });
  });

  it('a budget that is not a whole number of cents: USD 1.005 with 5,000 µ$ used leaves 100 cents in both (issue 15)', async () => {
    const quotas = { budgetUsdPerMonth: 1.005 };
    const answers = await both([
      { at: 0, task: quotas, slot: 'r1', usd: 0.005 }, // 5,000 µ$ reserved
      { at: 1, settle: 'r1', usd: 0.005, createdAt: 0 }, // ... and spent
      { at: 2, task: quotas, slot: 'r2', usd: 0 },
      { at: 3, task: quotas, slot: 'r3', usd: 1.0005 }, // 5,000 + 1,000,500 > 1,005,000
    ]);
    const budget = (a: unknown) => (a as Admission).remaining.find((r) => r.limit === 'budgetUsdPerMonth');
    expect(budget(answers[0])).toMatchObject({ quota: 100, remaining: 100 });
    expect(budget(answers[2])).toMatchObject({ quota: 100, remaining: 100 });
    expect(answers[3]).toMatchObject({ ok: false, limit: 'budgetUsdPerMonth' });
  });
});
