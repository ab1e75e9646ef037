// The quota catalogue (src/quota/limits.ts) is the one statement of the limits: the config schema,
// the RateLimit headers, the backends' checks and the Lua arguments all come from it. These tests
// hold the derived parts to it without a Redis (backends.test.ts drives both backends alike).
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { components } from '../../src/generated/gateway.js';
import { loadGatewaySpec } from '../../src/spec/document.js';
import { quotas as quotasSchema } from '../../src/config/schema.js';
import { CALL_LIMITS, exceeds, LIMIT_NAMES, LIMITS, TASK_LIMITS, type LimitName } from '../../src/quota/limits.js';
import { describeRemaining, NO_USAGE } from '../../src/quota/remaining.js';
import { admitArgs } from '../../src/quota/scripts.js';
import { shareOf } from '../../src/quota/fail-open.js';
import { REFUSALS } from '../../src/gateway/errors.js';

const T0 = Date.UTC(2026, 0, 31, 23, 58, 0);
const ALL = { requestsPerMinute: 60, tasksPerDay: 100, tasksPerMonth: 1000, maxInFlight: 5, budgetUsdPerMonth: 1.005 };

describe('the quota catalogue', () => {
  it('is the config schema: its keys, in its order, each described', () => {
    expect(Object.keys(quotasSchema.shape)).toEqual(LIMIT_NAMES);
    for (const name of LIMIT_NAMES) expect(quotasSchema.shape[name].description).toBe(LIMITS[name].schema.description);
    expect(quotasSchema.safeParse({ tasksPerDay: 1.5 }).success).toBe(false);
    expect(quotasSchema.safeParse({ budgetUsdPerMonth: 1.005 }).success).toBe(true);
    expect(quotasSchema.safeParse({ perFortnight: 1 }).success).toBe(false);
  });

  it("is the admin API's Quotas (openapi/gateway.yaml): the same keys, in the same order", () => {
    expectTypeOf<keyof components['schemas']['Quotas']>().toEqualTypeOf<LimitName>();
    const quotas = loadGatewaySpec().components.schemas.Quotas as { properties: Record<string, unknown> };
    expect(Object.keys(quotas.properties)).toEqual(LIMIT_NAMES);
  });

  it('splits calls from tasks, and every limit is either', () => {
    expect(CALL_LIMITS).toEqual(['requestsPerMinute']);
    expect([...CALL_LIMITS, ...TASK_LIMITS].sort()).toEqual([...LIMIT_NAMES].sort());
  });

  it('gives the headers in its order and units: a budget of USD 1.005 with 5,000 µ$ used is 100 cents, 100 left', () => {
    const remaining = describeRemaining(ALL, T0, { ...NO_USAGE, micros: 5_000 }, false);
    expect(remaining.map((r) => r.limit)).toEqual(LIMIT_NAMES);
    expect(remaining.at(-1)).toEqual({ limit: 'budgetUsdPerMonth', quota: 100, remaining: 100, resetSeconds: 120, windowSeconds: 120 });
    expect(describeRemaining(ALL, T0, NO_USAGE, true).map((r) => r.limit)).toEqual(CALL_LIMITS);
  });

  it('refuses at the limit: a count when it is reached, money when the estimate would pass it', () => {
    expect(exceeds('tasksPerDay', ALL, 99, 0)).toBe(false);
    expect(exceeds('tasksPerDay', ALL, 100, 0)).toBe(true);
    expect(exceeds('budgetUsdPerMonth', ALL, 5_000, 1_000_000)).toBe(false);
    expect(exceeds('budgetUsdPerMonth', ALL, 5_000, 1_000_001)).toBe(true);
    expect(exceeds('maxInFlight', {}, 1_000, 0)).toBe(false);
    expect(exceeds('maxInFlight', { maxInFlight: 0 }, 0, 0)).toBe(true);
  });

  it('lays out the Lua arguments: the limits in its order, in the counter units, -1 when off', () => {
    const args = admitArgs(T0, { tasksPerDay: 3, budgetUsdPerMonth: 1.005 }, { estimateMicros: 4_000, id: 'slot', expiresAt: T0 + 1, allowances: [2, 1] });
    expect(args).toEqual([T0, 1, 4_000, 'slot', T0 + 1, 2, -1, 3, -1, -1, 1_005_000, 2, 1]);
    expect(admitArgs(T0, { requestsPerMinute: 7 }, { id: 'call' })).toEqual([T0, 0, 0, 'call', 0, 0, 7, -1, -1, -1, -1]);
  });

  it('shares every limit among instances in fail-open, in the config units', () => {
    const used = { day: 10, month: 10, inFlight: 1, micros: 5_000 };
    expect(shareOf(ALL, { used, instances: 2 }, 2)).toEqual({
      requestsPerMinute: 30,
      tasksPerDay: 55,
      tasksPerMonth: 505,
      maxInFlight: 3,
      budgetUsdPerMonth: 0.505,
    });
    expect(shareOf(ALL, undefined, 4)).toEqual({ requestsPerMinute: 15 });
  });

  it('has a refusal in the gateway catalogue for every count limit (429), and money is the budget (402)', () => {
    const reasons = REFUSALS as Record<string, { code: number } | undefined>;
    for (const name of LIMIT_NAMES) {
      if (LIMITS[name].kind === 'count') expect(reasons[`quota_${name}`]?.code).toBe(429);
      else expect(reasons[`quota_${name}`]).toBeUndefined();
    }
    expect(REFUSALS.budget.code).toBe(402);
  });
});
