// Times (Unix milliseconds) and money (micro-dollars) live in bigint columns. A fraction must never
// reach one: PostgreSQL refuses it (`invalid input syntax for type bigint`) and SQLite quietly
// keeps it, so the same bug failed on one dialect and corrupted rows on the other (a jittered
// retry time did both). Every time and money value the store writes or compares passes through
// `whole`, so the refusal is the same, early and named on both dialects. Callers round at their
// own edge (they know which way: a retry time up, a price to the nearest micro); the store only
// refuses, it never guesses.

/** A value for a time or money column that is not a whole number the column can hold. */
export class StoreValueError extends Error {
  override readonly name = 'StoreValueError';
  readonly code = 'STORE_VALUE_NOT_WHOLE' as const;
  constructor(
    /** The field of the row (or the argument) that was refused. */
    readonly field: string,
    value: unknown,
  ) {
    super(`store: ${field} must be a whole number (Unix ms or micro-dollars) within ±2^53, got ${String(value)}`);
  }
}

/** The value itself when it is a safe integer; otherwise a StoreValueError naming `field`. */
export function whole(field: string, value: number): number {
  if (!Number.isSafeInteger(value)) throw new StoreValueError(field, value);
  return value;
}

/** The same, for a nullable column (undefined counts as null). */
export function wholeOrNull(field: string, value: number | null | undefined): number | null {
  return value === null || value === undefined ? null : whole(field, value);
}

/** Checks the named fields of a row (null allowed) and returns the row unchanged. */
export function wholeFields<T extends object>(row: T, fields: ReadonlyArray<keyof T & string>): T {
  for (const field of fields) wholeOrNull(field, row[field] as number | null | undefined);
  return row;
}
