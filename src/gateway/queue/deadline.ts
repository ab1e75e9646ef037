// The `Cancel-After` request header (as Replicate names it): how long a task may wait in the
// queue before it ends `fail` unsent. A duration like `90s`, `5m`, `1h30m`, `250ms`, or a bare
// number of seconds. Bad values are refused naming the header, never ignored.
import { refusal } from '../errors.js';

export const CANCEL_AFTER_HEADER = 'cancel-after';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;

/** Milliseconds, or undefined when the header is absent. */
export function parseCancelAfter(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = (Array.isArray(value) ? value.join(',') : value).trim();
  let ms: number | undefined;
  if (/^\d+(?:\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else if (text !== '') {
    PART.lastIndex = 0;
    let total = 0;
    let end = 0;
    for (let match = PART.exec(text); match !== null; match = PART.exec(text)) {
      total += Number(match[1]) * UNIT_MS[match[2]!]!;
      end = PART.lastIndex;
    }
    if (end === text.length && end > 0) ms = total;
  }
  if (ms === undefined || !Number.isFinite(ms) || ms < 1 || ms > 30 * 86_400_000) {
    const message = 'must be a duration such as 30s, 5m or 1h30m (or a number of seconds), at most 30 days';
    throw refusal('validation', `Invalid request: header Cancel-After ${message}`, {
      data: { errors: [{ path: 'header:Cancel-After', message, keyword: 'format' }], errorCount: 1 },
    });
  }
  return Math.round(ms);
}

/** The optional per-request priority within the tenant's own queue (higher first). */
export const PRIORITY_HEADER = 'x-task-priority';

export function parsePriority(value: string | string[] | undefined): number {
  if (value === undefined) return 0;
  const text = Array.isArray(value) ? value.join(',') : value.trim();
  if (!/^-?\d{1,2}$/.test(text) || Math.abs(Number(text)) > 10) {
    const message = 'must be an integer from -10 to 10';
    throw refusal('validation', `Invalid request: header X-Task-Priority ${message}`, {
      data: { errors: [{ path: 'header:X-Task-Priority', message, keyword: 'format' }], errorCount: 1 },
    });
  }
  return Number(text);
}
