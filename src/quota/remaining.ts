// What a refusal asks to wait and what is left of each quota (the RateLimit headers), worked out
// in one place from what a backend counted: the memory and Redis backends keep their counts
// differently, and must still give the same answer to the same sequence of calls.
import type { TenantQuotas } from '../config/index.js';
import { CALL_LIMITS, LIMIT_NAMES, LIMITS, limitCount, type LimitName, type LimitWindow } from './limits.js';
import type { Refusal, Remaining } from './types.js';
import { CALL_WINDOW_MS, DAY_MS, IN_FLIGHT_RETRY_MS, startOfNextDay, startOfNextMonth } from './windows.js';

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

/**
 * Per kind of window: when a limit's count resets (the RateLimit `t`), how long a refusal asks to
 * wait (Retry-After), and the window's length in seconds (RateLimit-Policy `w`, 0: none).
 * requestsPerMinute resets when the oldest call counted leaves the 60 s window.
 */
const WINDOWS: Record<LimitWindow, { resetMs(now: number, used: Usage): number; waitMs(now: number, used: Usage): number; seconds(now: number): number }> = {
  minute: {
    resetMs: (now, used) => (used.calls > 0 ? used.oldestCall + CALL_WINDOW_MS - now : 0),
    waitMs: (now, used) => used.oldestCall + CALL_WINDOW_MS - now,
    seconds: () => CALL_WINDOW_MS / 1000,
  },
  day: {
    resetMs: (now) => startOfNextDay(now) - now,
    waitMs: (now) => startOfNextDay(now) - now,
    seconds: () => DAY_MS / 1000,
  },
  month: {
    resetMs: (now) => startOfNextMonth(now) - now,
    waitMs: (now) => startOfNextMonth(now) - now,
    seconds: (now) => seconds(startOfNextMonth(now) - now),
  },
  lease: {
    resetMs: () => 0,
    // A slot frees when a task ends; the oldest one at the latest when its lease runs out.
    waitMs: (now, used) => (used.firstLeaseEnd > 0 ? Math.min(IN_FLIGHT_RETRY_MS, used.firstLeaseEnd - now) : IN_FLIGHT_RETRY_MS),
    seconds: () => 0,
  },
};

/**
 * What is left of each quota the tenant has, in the catalogue's order and header units; for a
 * plain call (`callOnly`), of the call limits alone. The one place both backends' answers are
 * worked out, so they cannot round differently.
 */
export function describeRemaining(quotas: TenantQuotas, now: number, used: Usage, callOnly: boolean): Remaining[] {
  const out: Remaining[] = [];
  for (const name of callOnly ? CALL_LIMITS : LIMIT_NAMES) {
    const quota = limitCount(name, quotas);
    if (quota !== undefined) out.push(remaining(name, quota, used, now));
  }
  return out;
}

/** One limit's RateLimit item: the quota and what is left, in header units (whole cents for money, rounded down). */
export function remaining(name: LimitName, quota: number, used: Usage, now: number): Remaining {
  const { counter, window, toHeader } = LIMITS[name];
  const { resetMs, seconds: windowSeconds } = WINDOWS[window];
  return {
    limit: name,
    quota: toHeader(quota),
    remaining: Math.max(0, toHeader(quota - used[counter])),
    resetSeconds: seconds(resetMs(now, used)),
    windowSeconds: windowSeconds(now),
  };
}

/** A refusal by one of the tenant's limits. */
export function refusalBy(limit: LimitName, quotas: TenantQuotas, now: number, used: Usage, callOnly: boolean): Refusal {
  return {
    ok: false,
    limit,
    retryAfterMs: Math.max(1, WINDOWS[LIMITS[limit].window].waitMs(now, used)),
    remaining: describeRemaining(quotas, now, used, callOnly),
  };
}

/**
 * The store of the counts cannot answer: nothing can be admitted for now. The RateLimit headers
 * still name every policy, each with nothing left until the Retry-After.
 */
export function unavailable(quotas: TenantQuotas, now: number, callOnly: boolean): Refusal {
  const remaining = describeRemaining(quotas, now, NO_USAGE, callOnly).map((r) => ({ ...r, remaining: 0, resetSeconds: seconds(UNAVAILABLE_RETRY_MS) }));
  return { ok: false, limit: 'unavailable', retryAfterMs: UNAVAILABLE_RETRY_MS, remaining };
}
