// The recordInfo budget of one provider key: how many reads may go out in any second. The
// provider allows about 10 per second per key, counted where the reads arrive, not where they
// leave: reads that leave evenly can arrive bunched (a slow answer, then several at once), and
// other instances share the same key. So the budget starts under the provider's figure (its
// margin) and learns from the provider: a read refused 429 halves it and rests the key's reads
// for the Retry-After; every second of reads answered without a 429 gives one back, up to the
// ceiling (AIMD, as TCP does with its window). A 429 here never rests the key's createTask.

/** The provider counts recordInfo in windows of one second. */
export const READ_WINDOW_MS = 1000;
/** A 429 without Retry-After still rests the key's reads this long. */
const MIN_REST_MS = 1000;

export interface ReadBudgetOptions {
  /** The provider's recordInfo allowance per second for this key. */
  perSecond: number;
  /** The share of it to use at most (0 < margin ≤ 1). */
  margin: number;
}

export interface ReadBudgetStatus {
  /** Reads allowed per second now (the AIMD window). */
  allowed: number;
  /** The most it grows back to: the provider's allowance times the margin. */
  ceiling: number;
  /** Unix ms until which no read goes out (after a 429); 0 when not resting. */
  restingUntil: number;
  /** Reads this key's provider refused with 429 so far. */
  refused: number;
}

export function createReadBudget(options: ReadBudgetOptions) {
  const ceiling = Math.max(1, Math.floor(options.perSecond * options.margin));
  let allowed = ceiling;
  let restingUntil = 0;
  let refused = 0;
  /** When allowed was last halved: once per window, the reads in flight come back 429 together. */
  let shrunkAt = -Infinity;
  /** When allowed last changed either way: it grows by one per clean window after that. */
  let changedAt = -Infinity;
  // Send times of the reads in the last window, oldest first (a ring would save little: ≤ ceiling).
  const sent: number[] = [];

  function prune(now: number): void {
    let drop = 0;
    while (drop < sent.length && sent[drop]! <= now - READ_WINDOW_MS) drop++;
    if (drop > 0) sent.splice(0, drop);
  }

  return {
    /** Whether a read may go out now; counts it when yes. */
    take(now: number): boolean {
      if (now < restingUntil) return false;
      prune(now);
      if (sent.length >= allowed) return false;
      sent.push(now);
      return true;
    },

    /** How many reads could go out now. */
    available(now: number): number {
      if (now < restingUntil) return 0;
      prune(now);
      return Math.max(0, allowed - sent.length);
    },

    /** When the next read could go out (now when one can). */
    nextAt(now: number): number {
      if (now < restingUntil) return restingUntil;
      prune(now);
      return sent.length < allowed ? now : sent[sent.length - allowed]! + READ_WINDOW_MS;
    },

    /** What the provider answered a read: 429 shrinks the budget, anything else lets it regrow. */
    answered(code: number, now: number, retryAfterMs?: number): void {
      if (code === 429) {
        refused += 1;
        if (now - shrunkAt >= READ_WINDOW_MS) {
          allowed = Math.max(1, Math.floor(allowed / 2));
          shrunkAt = changedAt = now;
        }
        restingUntil = Math.max(restingUntil, now + Math.max(retryAfterMs ?? 0, MIN_REST_MS));
        return;
      }
      if (allowed < ceiling && now - changedAt >= READ_WINDOW_MS && now >= restingUntil) {
        allowed += 1;
        changedAt = now;
      }
    },

    status(): ReadBudgetStatus {
      return { allowed, ceiling, restingUntil, refused };
    },
  };
}

export type ReadBudget = ReturnType<typeof createReadBudget>;
