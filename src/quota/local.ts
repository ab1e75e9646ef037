// Admission for one instance, in memory: the same rules as the Redis backend, made atomic by
// JavaScript's single thread (every check and count happens in one synchronous step). Counters
// are rebuilt from the store at start (`seed`), so a restart does not forget today's tasks, the
// month's spending or the tasks still in flight. Also the fallback of the Redis backend when
// `failOpen` is on (fail-open.ts gives it this instance's share of each limit).
import type { TenantQuotas } from '../config/index.js';
import type { TenantUsage } from '../store/types.js';
import { CALL_LIMITS, exceeds, LIMITS, TASK_LIMITS } from './limits.js';
import { describeRemaining, refusalBy, type Usage } from './remaining.js';
import type { Admission, KeyCandidate, KeyPick, QuotaBackend, Refusal, TaskAdmission } from './types.js';
import { CALL_WINDOW_MS, dayBucket, monthBucket, PACE_WINDOW_MS, pruneWindow } from './windows.js';

interface TenantState {
  /** When each call let through in the sliding window came, oldest first. */
  calls: number[];
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

/** The counts a tenant starts from when rebuilt from the ledger (what `seed` counted). */
export type SeededUsage = Pick<Usage, 'day' | 'month' | 'inFlight' | 'micros'>;

export interface LocalQuota extends QuotaBackend {
  /** Rebuilds a tenant's task counters from the ledger (today's and this month's tasks, open tasks). */
  seed(tenantId: string, usage: { today: TenantUsage; month: TenantUsage }, now: number, leaseMs: number): SeededUsage;
}

const taskState = (): Omit<TenantState, 'calls'> => ({ days: new Map(), months: new Map(), slots: new Map(), reserved: 0, spent: new Map() });

export function createLocalQuota(): LocalQuota {
  const tenants = new Map<string, TenantState>();
  const keyCalls = new Map<string, number[]>();

  function tenant(id: string): TenantState {
    let state = tenants.get(id);
    if (!state) {
      state = { calls: [], ...taskState() };
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

  function usageOf(state: TenantState, now: number): Usage {
    return {
      calls: state.calls.length,
      oldestCall: state.calls[0] ?? 0,
      day: state.days.get(dayBucket(now)) ?? 0,
      month: state.months.get(monthBucket(now)) ?? 0,
      inFlight: state.slots.size,
      micros: (state.spent.get(monthBucket(now)) ?? 0) + state.reserved,
      firstLeaseEnd: state.slots.values().next().value?.expiresAt ?? 0,
    };
  }

  function paceWindow(keyId: string, now: number): number[] {
    let calls = keyCalls.get(keyId);
    if (!calls) {
      calls = [];
      keyCalls.set(keyId, calls);
    }
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

  /** The task's limits, in the catalogue's order (the Redis script's too); the first one reached refuses. */
  function admitTask(state: TenantState, quotas: TenantQuotas, now: number, task: TaskAdmission): Admission {
    const used = usageOf(state, now);
    const estimate = task.estimateMicros;
    for (const name of TASK_LIMITS) {
      if (exceeds(name, quotas, used[LIMITS[name].counter], estimate)) return refusalBy(name, quotas, now, used, false);
    }
    // No usable key at all is the key pool's refusal (503), not pacing: admit without a key.
    let keyId: string | undefined;
    if (task.keys.length > 0) {
      const pick = choose(task.keys, now);
      if (!pick.ok) return { ok: false, limit: 'paced', retryAfterMs: Math.max(1, pick.retryAfterMs), remaining: describeRemaining(quotas, now, used, false) };
      keyId = pick.keyId;
      paceWindow(keyId, now).push(now);
    }
    const day = dayBucket(now);
    const month = monthBucket(now);
    state.days.set(day, used.day + 1);
    state.months.set(month, used.month + 1);
    state.slots.set(task.slotId, { expiresAt: now + task.leaseMs, reserved: estimate });
    state.reserved += estimate;
    return { ok: true, keyId, remaining: describeRemaining(quotas, now, usageOf(state, now), false) };
  }

  function callRefusal(state: TenantState, quotas: TenantQuotas, now: number, callOnly: boolean): Refusal | undefined {
    // Every call limit counts the calls of the sliding window (the catalogue's `calls` counter);
    // the other counts are looked up only for a refusal's headers (this runs on every call).
    const calls = pruneWindow(state.calls, CALL_WINDOW_MS, now).length;
    for (const name of CALL_LIMITS) {
      if (exceeds(name, quotas, calls, 0)) return refusalBy(name, quotas, now, usageOf(state, now), callOnly);
    }
    return undefined;
  }

  return {
    async admit(tenantId, quotas, now, task?: TaskAdmission) {
      const state = tenant(tenantId);
      if (task) purge(state, now);
      const refused = callRefusal(state, quotas, now, !task);
      if (refused) return refused; // not logged: the window holds only the calls let through
      if (quotas.requestsPerMinute != null) state.calls.push(now); // whatever the task's limits say
      if (!task) return { ok: true, remaining: describeRemaining(quotas, now, usageOf(state, now), true) };
      return admitTask(state, quotas, now, task);
    },

    callRefusal(tenantId, quotas, now) {
      const state = tenants.get(tenantId);
      return state && callRefusal(state, quotas, now, true);
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

    seed(tenantId, usage, now, leaseMs) {
      // The calls of the sliding window are not in the ledger: they stay as they are.
      const state = Object.assign(tenant(tenantId), taskState());
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
      const { day, month, inFlight, micros } = usageOf(state, now);
      return { day, month, inFlight, micros };
    },

    async health() {
      return { ok: true };
    },
    async close() {},
  };
}
