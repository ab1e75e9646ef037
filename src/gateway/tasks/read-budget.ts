// The recordInfo budget of one provider key. The provider allows about 10 reads per second per
// key, counted where the reads arrive over a sliding second, not where they leave. Sent in
// bursts (all of a second's reads at its start), a read that arrives a millisecond late lands in
// the next second's count beside the next burst, and is refused: that was most of the gateway's
// 429s. So reads leave evenly, from a token bucket: `allowed` per second (under the provider's
// figure by a margin) and a burst of at most the margin's worth (capacity), so that any second
// holds at most capacity + allowed ≤ the provider's figure, with room for the arrival jitter.
// And it learns from the provider: a read refused 429 halves `allowed` and rests the key's reads
// for the Retry-After; each second of reads answered without a 429 gives one back, up to the
// ceiling (AIMD, as TCP does with its window). A 429 here never rests the key's createTask.

/** The provider counts recordInfo over a second. */
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
  /** Reads that may leave at once (the margin's worth of the provider's second). */
  capacity: number;
  /** Unix ms until which no read goes out (after a 429); 0 when not resting. */
  restingUntil: number;
  /** Reads this key's provider refused with 429 so far. */
  refused: number;
  /** Reads let out so far. */
  taken: number;
}

export function createReadBudget(options: ReadBudgetOptions) {
  const ceiling = Math.max(1, Math.floor(options.perSecond * options.margin));
  // The burst: what the margin leaves of the provider's second, at least one read.
  const capacity = Math.max(1, options.perSecond - ceiling);
  let allowed = ceiling;
  let restingUntil = 0;
  let refused = 0;
  let taken = 0;
  let tokens = capacity;
  let refilledAt: number | undefined;
  /** When allowed was last halved: once per window, the reads in flight come back 429 together. */
  let shrunkAt = -Infinity;
  /** When allowed last changed either way: it grows by one per clean window after that. */
  let changedAt = -Infinity;

  function refill(now: number): void {
    if (refilledAt !== undefined && now > refilledAt) tokens = Math.min(capacity, tokens + ((now - refilledAt) * allowed) / READ_WINDOW_MS);
    if (refilledAt === undefined || now > refilledAt) refilledAt = now;
  }

  return {
    /** Whether a read may go out now; counts it when yes. */
    take(now: number): boolean {
      if (now < restingUntil) return false;
      refill(now);
      if (tokens < 1) return false;
      tokens -= 1;
      taken += 1;
      return true;
    },

    /** How many reads could go out now. */
    available(now: number): number {
      if (now < restingUntil) return 0;
      refill(now);
      return Math.floor(tokens);
    },

    /** When the next read could go out (now when one can). */
    nextAt(now: number): number {
      if (now < restingUntil) return restingUntil;
      refill(now);
      return tokens >= 1 ? now : now + Math.ceil(((1 - tokens) * READ_WINDOW_MS) / allowed);
    },

    /** How a read went: refused for rate (`paced`: the provider's 429) shrinks the budget, anything else lets it regrow. */
    answered(paced: boolean, now: number, retryAfterMs?: number): void {
      if (paced) {
        refused += 1;
        if (now - shrunkAt >= READ_WINDOW_MS) {
          refill(now);
          allowed = Math.max(1, Math.floor(allowed / 2));
          shrunkAt = changedAt = now;
        }
        restingUntil = Math.max(restingUntil, now + Math.max(retryAfterMs ?? 0, MIN_REST_MS));
        return;
      }
      if (allowed < ceiling && now - changedAt >= READ_WINDOW_MS && now >= restingUntil) {
        refill(now);
        allowed += 1;
        changedAt = now;
      }
    },

    status(): ReadBudgetStatus {
      return { allowed, ceiling, capacity, restingUntil, refused, taken };
    },
  };
}

export type ReadBudget = ReturnType<typeof createReadBudget>;
