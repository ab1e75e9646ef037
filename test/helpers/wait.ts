// Waiting in tests without betting on the machine's speed: wait for the thing itself (an event,
// a state to poll), never for a fixed time, and give up only after a ceiling far beyond what a
// busy machine needs. The ceiling sits below vitest's test timeout (vitest.config.ts) so that a
// real hang fails with the name of what never came rather than a bare timeout.
export const HANG_CEILING_MS = 240_000;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something truthy, and returns that. */
export async function pollUntil<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: { intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + HANG_CEILING_MS;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${HANG_CEILING_MS / 1000} s waiting for ${what}`);
    await sleep(options.intervalMs ?? 25);
  }
}

/** A clock that moves only when told to, for code that takes one (`{ now() }`). */
export function manualClock(start = Date.now()): { now(): number; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
  };
}
