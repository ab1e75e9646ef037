// Query-string values the API and admin routes share: times and page sizes. Each parser names
// the parameter in its refusal (through `fail`, so the tenant API answers 400 and the admin API
// 422, each in its own envelope) rather than letting a bad value reach the store.

export type QueryFailure = (path: string, message: string) => Error;

/** A time as Unix ms or an ISO 8601 date (`2026-11-01`) or date-time. */
export function parseTime(name: string, value: unknown, fail: QueryFailure): number | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value);
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  // A safe integer: 10^30 (all digits, no date) would otherwise reach the store's bigint column.
  if (!Number.isSafeInteger(ms)) throw fail(name, 'must be Unix milliseconds or an ISO 8601 date');
  return ms;
}

/** A whole number within [min, max]; `fallback` when absent. */
export function parseLimit(name: string, value: unknown, range: { min: number; max: number; fallback: number }, fail: QueryFailure): number {
  if (value === undefined || value === '') return range.fallback;
  const text = String(value);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) throw fail(name, `must be a whole number from ${range.min} to ${range.max}`);
  return n;
}
