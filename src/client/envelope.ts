// The one place that turns an HTTP answer into data or a LiangxinError. The provider answers
// refusals both ways (an error code inside HTTP 200, or a real HTTP 4xx/5xx), so the body code
// decides, and the HTTP status only fills in when there is no readable body. LiangXin's 401 is
// not the envelope but `{"error":{"message":…,"type":…,"code":…}}`: its status is the code and
// its message the msg.
import { LiangxinError, LiangxinTransportError } from './errors.js';

interface Envelope {
  code: number;
  msg?: string;
  data?: unknown;
}

/** LiangXin's AuthError body (the spec's `AuthError`). */
interface ErrorBody {
  error: { message: string; type?: unknown; code?: unknown };
}

function isEnvelope(body: unknown): body is Envelope {
  return typeof body === 'object' && body !== null && typeof (body as Envelope).code === 'number';
}

function isErrorBody(body: unknown): body is ErrorBody {
  const error = typeof body === 'object' && body !== null ? (body as Partial<ErrorBody>).error : undefined;
  return typeof error === 'object' && error !== null && typeof error.message === 'string';
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Returns `data` of a successful envelope, throws LiangxinError for any refusal.
 * `body` is what openapi-fetch parsed (`data` for 2xx, `error` otherwise).
 */
export function unwrapEnvelope<T>(operation: string, response: Response, body: unknown): T {
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  if (isEnvelope(body)) {
    if (body.code === 200 && response.ok) return body.data as T;
    throw new LiangxinError({
      code: body.code === 200 ? response.status : body.code,
      msg: body.msg ?? response.statusText,
      httpStatus: response.status,
      operation,
      retryAfterMs,
      data: body.data,
    });
  }
  if (!response.ok && isErrorBody(body)) {
    // `data` keeps the rest of it (`type`, `code`) for callers who branch on it.
    const { message, ...rest } = body.error;
    throw new LiangxinError({ code: response.status, msg: message, httpStatus: response.status, operation, retryAfterMs, data: rest });
  }
  if (!response.ok) {
    // A proxy's HTML error page or an empty body: the status is all we know.
    throw new LiangxinError({
      code: response.status,
      msg: response.statusText || 'HTTP error',
      httpStatus: response.status,
      operation,
      retryAfterMs,
    });
  }
  throw new LiangxinTransportError(operation, `HTTP ${response.status} without a JSON envelope`, {
    httpStatus: response.status,
  });
}
