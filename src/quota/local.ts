// Admission for one instance, in memory: the same rules as the Redis backend, made atomic by
// JavaScript's single thread (every check and count happens in one synchronous step). Counters
// are rebuilt from the store at start (`seed`), so a restart does not forget today's tasks, the
// month's spending or the tasks still in flight. Also the fallback of the Redis backend when
// `failOpen` is on: then each instance enforces the limits on its own.
import type { TenantQuotas } from '../config/index.js';
import type { TenantUsage } from '../store/types.js';
import type { Admission, KeyCandidate, KeyPick, LimitName, QuotaBackend, Remaining, TaskAdmission } from './types.js';
import { dayBucket, minuteBucket, monthBucket, PACE_WINDOW_MS, pruneWindow, startOfNextMonth, toMicros, DAY_MS, MINUTE_MS } from './windows.js';

interface TenantState {
  minute: number;
  minuteCount: number;
  days: Map<string, number>;
  months: Map<string, number>;
  /**
   * slotId → when it frees itself, and the micro-dollars it reserves. Every lease is as long, so
   * insertion order is expiry order: purging stops at the first slot still held.
   */
  slots: Map<string, { expiresAt: number; reserved: number }>;
  /** The sum of the slots' reservations, kept as they come and go (no scan per admission). */
  reserved: number;
  spent: Map<string, number>;
}

/** How long a refusal for the in-flight limit asks to wait: a slot frees when a task ends. */
const IN_FLIGHT_RETRY_MS = 5000;

export function createLocalQuota(): QuotaBackend & { seed(tenantId: string, usage: { today: TenantUsage; month: TenantUsage }, now: number, leaseMs: number): void } {
  const tenants = new Map<string, TenantState>();
  const keyCalls = new Map<string, number[]>();

  function tenant(id: string): TenantState {
    let state = tenants.get(id);
    if (!state) {
      state = { minute: 0, minuteCount: 0, days: new Map(), months: new Map(), slots: new Map(), reserved: 0, spent: new Map() };
      tenants.set(id, state);
    }
    return state;
  }

  function purge(state: TenantState, now: number): void {
    for (const [slotId, slot] of state.slots) {
      if (slot.expiresAt > now) return;
      free(state, slotId);
    }
  }

  /** Frees a slot and its reservation; false when it was already free. */
  function free(state: TenantState, slotId: string): boolean {
    const slot = state.slots.get(slotId);
    if (!slot) return false;
    state.slots.delete(slotId);
    state.reserved -= slot.reserved;
    return true;
  }

  /** What is left of each quota; for a plain call (`callOnly`), of requestsPerMinute alone. */
  function remaining(state: TenantState, quotas: TenantQuotas, now: number, callOnly = false): Remaining[] {
    const out: Remaining[] = [];
    const nextDay = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
    const nextMonth = startOfNextMonth(now);
    const secs = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
    if (quotas.requestsPerMinute) {
      const used = state.minute === minuteBucket(now) ? state.minuteCount : 0;
      out.push({ limit: 'requestsPerMinute', quota: quotas.requestsPerMinute, remaining: Math.max(0, quotas.requestsPerMinute - used), resetSeconds: secs((minuteBucket(now) + 1) * MINUTE_MS - now), windowSeconds: 60 });
    }
    if (callOnly) return out;
    if (quotas.tasksPerDay) {
      const used = state.days.get(dayBucket(now)) ?? 0;
      out.push({ limit: 'tasksPerDay', quota: quotas.tasksPerDay, remaining: Math.max(0, quotas.tasksPerDay - used), resetSeconds: secs(nextDay - now), windowSeconds: 86_400 });
    }
    if (quotas.tasksPerMonth) {
      const used = state.months.get(monthBucket(now)) ?? 0;
      out.push({ limit: 'tasksPerMonth', quota: quotas.tasksPerMonth, remaining: Math.max(0, quotas.tasksPerMonth - used), resetSeconds: secs(nextMonth - now), windowSeconds: secs(nextMonth - now) });
    }
    if (quotas.maxInFlight) {
      out.push({ limit: 'maxInFlight', quota: quotas.maxInFlight, remaining: Math.max(0, quotas.maxInFlight - state.slots.size), resetSeconds: 0, windowSeconds: 0 });
    }
    if (quotas.budgetUsdPerMonth) {
      const budget = toMicros(quotas.budgetUsdPerMonth);
      const used = (state.spent.get(monthBucket(now)) ?? 0) + state.reserved;
      // In cents: RateLimit fields carry integers.
      out.push({ limit: 'budgetUsdPerMonth', quota: Math.floor(budget / 10_000), remaining: Math.max(0, Math.floor((budget - used) / 10_000)), resetSeconds: secs(nextMonth - now), windowSeconds: secs(nextMonth - now) });
    }
    return out;
  }


  function paceWindow(keyId: string, now: number): number[] {
    let calls = keyCalls.get(keyId);
    if (!calls) keyCalls.set(keyId, (calls = []));
    return pruneWindow(calls, PACE_WINDOW_MS, now);
  }

  /** The key with most allowance left; nothing is counted (the caller counts the chosen one). */
  function choose(keys: KeyCandidate[], now: number): KeyPick {
    let best: { id: string; left: number } | undefined;
    let soonest = Infinity;
    for (const key of keys) {
      const calls = paceWindow(key.id, now);
      const left = key.allowance - calls.length;
      if (left > 0 && (!best || left > best.left)) best = { id: key.id, left };
      else if (left <= 0 && calls.length > 0) soonest = Math.min(soonest, calls[0]! + PACE_WINDOW_MS - now);
    }
    return best ? { ok: true, keyId: best.id } : { ok: false, retryAfterMs: soonest === Infinity ? PACE_WINDOW_MS : soonest };
  }

  function refuse(limit: LimitName, retryAfterMs: number, state: TenantState, quotas: TenantQuotas, now: number, callOnly = false): Admission {
    return { ok: false, limit, retryAfterMs: Math.max(1, retryAfterMs), remaining: remaining(state, quotas, now, callOnly) };
  }

  return {
    async admit(tenantId, quotas, now, task?: TaskAdmission) {
      const state = tenant(tenantId);
      const minute = minuteBucket(now);
      if (state.minute !== minute) Object.assign(state, { minute, minuteCount: 0 });
      state.minuteCount += 1; // refused calls count too: they were made
      if (quotas.requestsPerMinute && state.minuteCount > quotas.requestsPerMinute) {
        return refuse('requestsPerMinute', (minute + 1) * MINUTE_MS - now, state, quotas, now, !task);
      }
      if (!task) return { ok: true, remaining: remaining(state, quotas, now, true) };

      purge(state, now);
      const day = dayBucket(now);
      const month = monthBucket(now);
      if (quotas.tasksPerDay && (state.days.get(day) ?? 0) >= quotas.tasksPerDay) {
        return refuse('tasksPerDay', (Math.floor(now / DAY_MS) + 1) * DAY_MS - now, state, quotas, now);
      }
      if (quotas.tasksPerMonth && (state.months.get(month) ?? 0) >= quotas.tasksPerMonth) {
        return refuse('tasksPerMonth', startOfNextMonth(now) - now, state, quotas, now);
      }
      if (quotas.maxInFlight && state.slots.size >= quotas.maxInFlight) {
        const earliest = state.slots.values().next().value!.expiresAt; // the oldest lease
        return refuse('maxInFlight', Math.min(IN_FLIGHT_RETRY_MS, earliest - now), state, quotas, now);
      }
      const estimate = task.estimateMicros;
      if (quotas.budgetUsdPerMonth && (state.spent.get(month) ?? 0) + state.reserved + estimate > toMicros(quotas.budgetUsdPerMonth)) {
        return refuse('budgetUsdPerMonth', startOfNextMonth(now) - now, state, quotas, now);
      }
      // No usable key at all is the key pool's refusal (503), not pacing: admit without a key.
      let keyId: string | undefined;
      if (task.keys.length > 0) {
        const pick = choose(task.keys, now);
        if (!pick.ok) return { ok: false, limit: 'paced', retryAfterMs: pick.retryAfterMs, remaining: remaining(state, quotas, now) };
        keyId = pick.keyId;
        paceWindow(keyId, now).push(now);
      }
      state.days.set(day, (state.days.get(day) ?? 0) + 1);
      state.months.set(month, (state.months.get(month) ?? 0) + 1);
      state.slots.set(task.slotId, { expiresAt: now + task.leaseMs, reserved: estimate });
      state.reserved += estimate;
      return { ok: true, keyId, remaining: remaining(state, quotas, now) };
    },

    async pickKey(keys, now) {
      const pick = choose(keys, now);
      if (pick.ok) paceWindow(pick.keyId, now).push(now);
      return pick;
    },

    async release(tenantId, slotId, createdAt) {
      const state = tenant(tenantId);
      if (!free(state, slotId)) return; // already freed: count it back only once
      const day = dayBucket(createdAt);
      const month = monthBucket(createdAt);
      state.days.set(day, Math.max(0, (state.days.get(day) ?? 0) - 1));
      state.months.set(month, Math.max(0, (state.months.get(month) ?? 0) - 1));
    },

    async settle(tenantId, slotId, costMicros, createdAt) {
      const state = tenant(tenantId);
      if (slotId) free(state, slotId);
      const month = monthBucket(createdAt);
      state.spent.set(month, (state.spent.get(month) ?? 0) + costMicros);
    },

    /** Rebuilds a tenant's counters from the ledger (today's and this month's tasks, open tasks). */
    seed(tenantId, usage, now, leaseMs) {
      const state = tenant(tenantId);
      state.days.set(dayBucket(now), usage.today.tasks);
      state.months.set(monthBucket(now), usage.month.tasks);
      state.spent.set(monthBucket(now), usage.month.actualCostMicros);
      for (const open of [...usage.month.open].sort((x, y) => x.createdAt - y.createdAt)) {
        const expiresAt = open.createdAt + leaseMs;
        if (expiresAt <= now) continue;
        const reserved = open.estimatedCostMicros ?? 0;
        state.slots.set(open.slotId ?? open.taskId, { expiresAt, reserved });
        state.reserved += reserved;
      }
    },

    async health() {
      return { ok: true };
    },
    async close() {},
  };
}

