// Calendar windows, in UTC: every instance and the store agree on which day and month a task
// was counted in, whatever the server's time zone.

/**
 * requestsPerMinute is a sliding window: at most that many calls are let through in any 60 s
 * (not per calendar minute, which lets a burst across a minute's end through twice).
 */
export const CALL_WINDOW_MS = 60_000;
export const DAY_MS = 86_400_000;
export const PACE_WINDOW_MS = 10_000;
/** How long a refusal for the in-flight limit asks to wait: a slot frees when a task ends. */
export const IN_FLIGHT_RETRY_MS = 5000;

// Every admission names its day and month; formatting a date each time showed in the profile,
// so the names are kept for the day they were last asked for.
let namedDay = Number.NaN;
let dayName = '';
let monthName = '';

function nameDay(ms: number): void {
  const day = Math.floor(ms / DAY_MS);
  if (day === namedDay) return;
  const iso = new Date(day * DAY_MS).toISOString();
  namedDay = day;
  dayName = iso.slice(0, 10).replace(/-/g, '');
  monthName = iso.slice(0, 7).replace('-', '');
}

export function dayBucket(ms: number): string {
  nameDay(ms);
  return dayName;
}

export function monthBucket(ms: number): string {
  nameDay(ms);
  return monthName;
}

export function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function startOfNextDay(ms: number): number {
  return startOfDay(ms) + DAY_MS;
}

export function startOfMonth(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function startOfNextMonth(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Drops the calls that left a sliding window of `windowMs` (timestamps, oldest first). */
export function pruneWindow(calls: number[], windowMs: number, now: number): number[] {
  let drop = 0;
  while (drop < calls.length && calls[drop]! <= now - windowMs) drop++;
  if (drop > 0) calls.splice(0, drop);
  return calls;
}
