// One failing field of a body, as every checker of the spec reports it (validator.ts, rules.ts):
// its own module so the checkers share it without importing each other.
export interface FieldError {
  /** Dotted path in the body, e.g. `input.aspect_ratio` (empty for the body itself). */
  path: string;
  /** Why, in words, e.g. `must be one of 16:9, 9:16, 1:1`. */
  message: string;
  /** The JSON Schema keyword that failed (`enum`, `required`, …). */
  keyword: string;
}
