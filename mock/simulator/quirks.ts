// Parses quirk names (see options.ts) from an account's list and a request's
// `X-Simulator-Quirks` header into one set of switches. Unknown names are refused loudly, so a
// typo in a test does not silently test nothing.
import { loadLiangxinSpec } from '../../src/spec/document.js';

export type CallbackQuirk = 'lost' | 'late' | 'duplicate' | 'out-of-order';

export interface Quirks {
  /** Answer with this code inside HTTP 200. */
  error?: number;
  /** Answer with this real HTTP status. */
  http?: number;
  fail: boolean;
  slowMs: number;
  callback: Set<CallbackQuirk>;
}

/** Any code the spec lets the body carry (its `ErrorCode`); as a real status, gateways' 502–504 too. */
const ERROR_CODES = new Set(loadLiangxinSpec().components.schemas.ErrorCode!.enum as number[]);
const HTTP_CODES = new Set([...ERROR_CODES, 502, 503, 504]);
const CALLBACK_QUIRKS = new Set<CallbackQuirk>(['lost', 'late', 'duplicate', 'out-of-order']);

export class QuirkError extends Error {
  readonly code = 'BAD_QUIRK';
}

export function parseQuirks(names: Iterable<string>): Quirks {
  const quirks: Quirks = { fail: false, slowMs: 0, callback: new Set() };
  for (const raw of names) {
    const name = raw.trim();
    if (!name) continue;
    const [key, value = ''] = name.split('=', 2) as [string, string?];
    const number = Number(value);
    if (key === 'fail' && value === '') quirks.fail = true;
    else if (key === 'error' && ERROR_CODES.has(number)) quirks.error = number;
    else if (key === 'http' && HTTP_CODES.has(number)) quirks.http = number;
    else if (key === 'slow' && Number.isInteger(number) && number >= 0) quirks.slowMs = number;
    else if (key === 'callback' && CALLBACK_QUIRKS.has(value as CallbackQuirk)) quirks.callback.add(value as CallbackQuirk);
    else throw new QuirkError(`unknown simulator quirk "${name}"`);
  }
  return quirks;
}

/** The header a request uses to ask for quirks of its own: `X-Simulator-Quirks: fail, slow=200`. */
export const QUIRKS_HEADER = 'x-simulator-quirks';

export function quirksFromHeader(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.split(',').filter((s) => s.trim() !== '');
}
