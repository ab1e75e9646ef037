// Which polled tasks get the provider's scarce recordInfo budget (about 10 reads per second per
// key, tasks/read-budget.ts). Arrival order spends it on whoever polls fastest; this spends it
// where a read is most likely to bring news: tasks a tenant is polling right now, the ones whose
// stored record is oldest first, doubled for a task near the end its model usually takes.
// While the provider's callbacks are arriving, a task that has not reached its model's usual
// duration is not read at all: its callback will say when it ends. Per instance and in memory:
// a poll that lands elsewhere is ranked there; nothing here must survive a restart.
import type { TaskRow } from '../../store/types.js';

/** ctx.events: a provider callback was applied (`row`, `record`); the priority learns from it. */
export const PROVIDER_CALLBACK_EVENT = 'provider-callback';

/** A poll keeps its task in demand this long (tenants poll every few hundred ms to seconds). */
const DEMAND_MS = 5000;
/** Callbacks count as arriving while the last one is at most this old. */
const CALLBACKS_FRESH_MS = 60_000;
/** Weight of the newest duration in a model's usual one (an exponential moving average). */
const DURATION_WEIGHT = 0.2;
/** Within this share of its usual duration from the end, a task's claim doubles. */
const NEAR_END_SHARE = 0.2;

interface Demand {
  row: TaskRow;
  polledAt: number;
  /** When this instance last learnt the task's record from the provider (a read or a callback). */
  learntAt?: number;
}

/**
 * `minReadIntervalMs`: a task this instance learnt less than this long ago needs no read yet
 * (tasks.minReadIntervalMs; a function, so a reloaded config applies at the next poll).
 */
export function createPollPriority(now: () => number, minReadIntervalMs: () => number = () => 0) {
  /** Per provider key (reads go with the key that created the task): task id → its demand. */
  const demand = new Map<string, Map<string, Demand>>();
  const usualMs = new Map<string, number>();
  let lastCallbackAt = -Infinity;
  let prunedAt = -Infinity;

  /** Tasks nobody polls any more leave (what keeps this bounded by the tasks being polled). */
  function prune(t: number): void {
    if (t - prunedAt < DEMAND_MS) return;
    prunedAt = t;
    for (const ofKey of demand.values()) for (const [taskId, d] of ofKey) if (t - d.polledAt > DEMAND_MS) ofKey.delete(taskId);
  }

  /** The oldest the served record can be: when it was last learnt, as far as this instance knows. */
  function knownAt(row: TaskRow): number {
    if (row.finalAt !== null) return row.finalAt;
    // Never younger than it is: without a read here, the provider's own update time of the record.
    const fallback = row.record ? row.updatedAt : row.createdAt;
    return Math.max(fallback, demand.get(row.upstreamKeyId)?.get(row.taskId)?.learntAt ?? fallback);
  }

  /** Whether this instance learnt the task's record so lately that a read would bring nothing new. */
  const fresh = (d: Demand | undefined, t: number): boolean => d?.learntAt !== undefined && t - d.learntAt < minReadIntervalMs();

  /** A task's claim on a read now; below zero when it needs none (its callback will come first). */
  function score(row: TaskRow, t: number): number {
    const age = Math.max(0, t - knownAt(row));
    const usual = usualMs.get(row.model);
    if (usual === undefined) return age;
    const end = row.createdAt + usual;
    if (t - lastCallbackAt <= CALLBACKS_FRESH_MS && t < end) return -1;
    return t >= end - usual * NEAR_END_SHARE ? age * 2 : age;
  }

  return {
    knownAt,

    /**
     * A tenant polled this open task: keep it in demand, and say whether a read now is worth
     * it (`read`), whether the budget is contended so the read should wait its turn (`queue`),
     * or whether none is needed (`skip`).
     */
    polled(row: TaskRow, readsPerSecond: number): 'read' | 'queue' | 'skip' {
      const t = now();
      prune(t);
      let ofKey = demand.get(row.upstreamKeyId);
      if (!ofKey) {
        ofKey = new Map();
        demand.set(row.upstreamKeyId, ofKey);
      }
      const known = ofKey.get(row.taskId);
      if (known) Object.assign(known, { row, polledAt: t });
      else ofKey.set(row.taskId, { row, polledAt: t });
      if (fresh(known, t) || score(row, t) < 0) return 'skip';
      return ofKey.size > readsPerSecond ? 'queue' : 'read';
    },

    /** Up to `n` tasks in demand for this key, the strongest claim first (expired ones dropped). */
    next(keyId: string, n: number, exclude: (taskId: string) => boolean): TaskRow[] {
      const ofKey = demand.get(keyId);
      if (!ofKey || n <= 0) return [];
      const t = now();
      const ranked: Array<{ row: TaskRow; claim: number; learntAt: number }> = [];
      for (const [taskId, d] of ofKey) {
        if (t - d.polledAt > DEMAND_MS) ofKey.delete(taskId);
        else if (!exclude(taskId) && !fresh(d, t)) {
          const claim = score(d.row, t);
          if (claim >= 0) ranked.push({ row: d.row, claim, learntAt: d.learntAt ?? -Infinity });
        }
      }
      // Equal claims: a task this instance has not read yet first, then the one read longest ago.
      ranked.sort((a, b) => b.claim - a.claim || a.learntAt - b.learntAt);
      return ranked.slice(0, n).map((r) => r.row);
    },

    /** The provider showed this task's record now (a read, or its callback). */
    learnt(row: Pick<TaskRow, 'taskId' | 'upstreamKeyId' | 'model' | 'createdAt'>, final: boolean): void {
      const t = now();
      const ofKey = demand.get(row.upstreamKeyId);
      if (!final) {
        const d = ofKey?.get(row.taskId);
        if (d) d.learntAt = t;
        return;
      }
      ofKey?.delete(row.taskId);
      // How long its model takes, as this gateway saw it (its own clock, not the provider's).
      const took = t - row.createdAt;
      if (took > 0) {
        const usual = usualMs.get(row.model);
        usualMs.set(row.model, usual === undefined ? took : usual + DURATION_WEIGHT * (took - usual));
      }
    },

    /** A provider callback arrived: callbacks are flowing. */
    callbackArrived(): void {
      lastCallbackAt = now();
    },

    /** For tests and metrics: how many tasks are in demand per key. */
    demanded(keyId: string): number {
      return demand.get(keyId)?.size ?? 0;
    },
  };
}

export type PollPriority = ReturnType<typeof createPollPriority>;
