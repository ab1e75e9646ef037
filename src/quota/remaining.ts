// What a refusal asks to wait and what is left of each quota (the RateLimit headers), worked out
// in one place from what a backend counted: the memory and Redis backends keep their counts
// differently, and must still give the same answer to the same sequence of calls.
import type { TenantQuotas } from '../config/index.js';
import type { LimitName, Refusal, Remaining } from './types.js';
import { CALL_WINDOW_MS, IN_FLIGHT_RETRY_MS, startOfNextDay, startOfNextMonth } from './windows.js';
import { usdToMicros } from '../pricing/money.js';

/** A tenant's counts, as a backend has them (after the admission it answers). */
export interface Usage {
  /** Calls let through in the sliding window, and when the oldest of them came (0: none). */
  calls: number;
  oldestCall: number;
  day: number;
  month: number;
  inFlight: number;
  /** Micro-dollars spent this month plus those reserved by tasks in flight. */
  micros: number;
  /** When the oldest in-flight slot frees itself (0: none, or not asked for). */
  firstLeaseEnd: number;
}

export const NO_USAGE: Usage = Object.freeze({ calls: 0, oldestCall: 0, day: 0, month: 0, inFlight: 0, micros: 0, firstLeaseEnd: 0 });

/** How long a caller is asked to wait when the quota store cannot answer. */
export const UNAVAILABLE_RETRY_MS = 1000;

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
/** RateLimit fields carry integers: the budget is counted in US cents. */
const cents = (micros: number) => Math.floor(micros / 10_000);

/**
 * What is left of each quota the tenant has; for a plain call (`callOnly`), of requestsPerMinute
 * alone. requestsPerMinute resets (`t`) when the oldest call counted leaves the 60 s window.
 */
export function describeRemaining(quotas: TenantQuotas, now: number, used: Usage, callOnly: boolean): Remaining[] {
  const out: Remaining[] = [];
  const add = (limit: LimitName, quota: number, left: number, resetMs: number, windowSeconds: number) =>
    out.push({ limit, quota, remaining: Math.max(0, left), resetSeconds: seconds(resetMs), windowSeconds });
  const rpm = quotas.requestsPerMinute;
  if (rpm != null) add('requestsPerMinute', rpm, rpm - used.calls, used.calls > 0 ? used.oldestCall + CALL_WINDOW_MS - now : 0, CALL_WINDOW_MS / 1000);
  if (callOnly) return out;
  const toMonthEnd = startOfNextMonth(now) - now;
  if (quotas.tasksPerDay != null) add('tasksPerDay', quotas.tasksPerDay, quotas.tasksPerDay - used.day, startOfNextDay(now) - now, 86_400);
  if (quotas.tasksPerMonth != null) add('tasksPerMonth', quotas.tasksPerMonth, quotas.tasksPerMonth - used.month, toMonthEnd, seconds(toMonthEnd));
  if (quotas.maxInFlight != null) add('maxInFlight', quotas.maxInFlight, quotas.maxInFlight - used.inFlight, 0, 0);
  if (quotas.budgetUsdPerMonth != null) {
    const budget = usdToMicros(quotas.budgetUsdPerMonth);
    add('budgetUsdPerMonth', cents(budget), cents(budget - used.micros), toMonthEnd, seconds(toMonthEnd));
  }
  return out;
}

/** Milliseconds until `limit` may allow a call again. */
function waitFor(limit: LimitName, now: number, used: Usage): number {
  switch (limit) {
    case 'requestsPerMinute':
      return used.oldestCall + CALL_WINDOW_MS - now;
    case 'tasksPerDay':
      return startOfNextDay(now) - now;
    case 'maxInFlight':
      return used.firstLeaseEnd > 0 ? Math.min(IN_FLIGHT_RETRY_MS, used.firstLeaseEnd - now) : IN_FLIGHT_RETRY_MS;
    default:
      return startOfNextMonth(now) - now;
  }
}

/** A refusal by one of the tenant's limits. */
export function refusalBy(limit: LimitName, quotas: TenantQuotas, now: number, used: Usage, callOnly: boolean): Refusal {
  return { ok: false, limit, retryAfterMs: Math.max(1, waitFor(limit, now, used)), remaining: describeRemaining(quotas, now, used, callOnly) };
}

/**
 * The store of the counts cannot answer: nothing can be admitted for now. The RateLimit headers
 * still name every policy, each with nothing left until the Retry-After.
 */
export function unavailable(quotas: TenantQuotas, now: number, callOnly: boolean): Refusal {
  const remaining = describeRemaining(quotas, now, NO_USAGE, callOnly).map((r) => ({ ...r, remaining: 0, resetSeconds: seconds(UNAVAILABLE_RETRY_MS) }));
  return { ok: false, limit: 'unavailable', retryAfterMs: UNAVAILABLE_RETRY_MS, remaining };
}
