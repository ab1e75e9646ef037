// How many gateway instances share the Redis: each beats every few seconds and learns how many
// beat recently. Only failOpen uses the figure: when Redis is gone, each instance enforces its
// share of the limits (a limit divided by the instances last seen), so together they stay
// within the limit. The beat is its own small call, never part of an admission.

export interface InstanceCount {
  /** The instances seen at the last beat that landed (at least this one). */
  count(): number;
  /** Beats now (the connection is (re)established). */
  beat(): void;
  stop(): void;
}

/** Between beats; an instance not heard from in three beats is no longer counted. */
export const HEARTBEAT_MS = 5000;
export const STALE_AFTER_BEATS = 3;

/** `send` beats once and resolves to the number of live instances Redis counts. */
export function trackInstances(send: () => Promise<number>, intervalMs = HEARTBEAT_MS): InstanceCount {
  let count = 1;
  let beating = false;
  const beat = () => {
    if (beating) return;
    beating = true;
    send().then(
      (seen) => {
        count = Math.max(1, seen);
        beating = false;
      },
      () => {
        beating = false; // Redis down: keep what was seen last, which is what failOpen needs
      },
    );
  };
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return {
    count: () => count,
    beat,
    stop: () => clearInterval(timer),
  };
}
