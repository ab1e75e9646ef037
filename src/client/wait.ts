// The provider's polling advice as code: first poll after 2–3 s, back off, give up after a
// while (10–15 min), and never poll faster than a Retry-After asks. Transient answers (the
// record not visible yet, rate limits, maintenance, 5xx, a dropped connection) keep waiting;
// anything else (a wrong key, no credits) ends the wait at once.
import { LiangxinError, LiangxinTimeoutError, LiangxinTransportError } from './errors.js';
import { isFinalState, type GatewayTaskRecord, type TaskRecord } from './types.js';

export interface WaitOptions {
  signal?: AbortSignal;
  /** Give up after this long; default 15 minutes. */
  timeoutMs?: number;
  /** First poll after this long; default 2500 ms (the provider's advice). */
  initialDelayMs?: number;
  /** The delay grows by this factor after each poll; default 1.5. */
  backoffFactor?: number;
  /** The delay never grows past this; default 30 s. */
  maxDelayMs?: number;
  /** Follow the gateway's task events when the server offers them (default true); false: always poll. */
  events?: boolean;
  /** Called with every record read, final or not. */
  onProgress?: (record: TaskRecord, info: ProgressInfo) => void;
}

export interface ProgressInfo {
  elapsedMs: number;
  attempt: number;
  /** Through the gateway's queue: the task's place in its tenant's queue while it waits there. */
  queuePosition?: number;
}

/** What onProgress is told of a record: the time and attempt, and a queued task's place (gateway only). */
export function progressOf(record: TaskRecord, elapsedMs: number, attempt: number): ProgressInfo {
  const queuePosition = (record as GatewayTaskRecord).queuePosition;
  return { elapsedMs, attempt, ...(typeof queuePosition === 'number' ? { queuePosition } : {}) };
}

/** Body codes that mean "not yet" or "not now" rather than "never". */
const TRANSIENT_CODES = new Set([404, 422, 429, 455, 500, 502, 503, 504]);
/** A dead connection that stays dead is not worth 15 minutes of retries. */
const MAX_CONSECUTIVE_TRANSPORT_ERRORS = 5;

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function waitForTask(
  getTask: (taskId: string, options: { signal?: AbortSignal }) => Promise<TaskRecord>,
  taskId: string,
  options: WaitOptions = {},
): Promise<TaskRecord> {
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  const factor = options.backoffFactor ?? 1.5;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let delay = options.initialDelayMs ?? 2500;
  let attempt = 0;
  let lastState: string | undefined;
  let transportErrors = 0;

  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new LiangxinTimeoutError(taskId, Date.now() - started, lastState);
    await sleep(Math.min(delay, remaining), options.signal);
    if (Date.now() >= deadline) throw new LiangxinTimeoutError(taskId, Date.now() - started, lastState);

    attempt += 1;
    let retryAfterMs = 0;
    try {
      const record = await getTask(taskId, { signal: options.signal });
      transportErrors = 0;
      lastState = record.state;
      options.onProgress?.(record, progressOf(record, Date.now() - started, attempt));
      if (isFinalState(record.state)) return record;
    } catch (error) {
      if (error instanceof LiangxinError && TRANSIENT_CODES.has(error.code)) {
        retryAfterMs = error.retryAfterMs ?? 0;
      } else if (error instanceof LiangxinTransportError && ++transportErrors < MAX_CONSECUTIVE_TRANSPORT_ERRORS) {
        // keep waiting: the next poll may reach it
      } else {
        throw error;
      }
    }
    delay = Math.max(Math.min(delay * factor, maxDelayMs), retryAfterMs);
  }
}
