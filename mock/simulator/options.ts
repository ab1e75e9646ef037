// What a simulator can be told: its accounts, its clock speed and its quirks.
// The quirk names are the same per account (`quirks`) and per request (`X-Simulator-Quirks`).

/** How long each phase of a task lasts, in ms. */
export interface Timing {
  /** recordInfo answers `422 recordInfo is null` for this long after createTask. */
  visibleAfterMs: number;
  waitingMs: number;
  queuingMs: number;
  /** generating phase of image models */
  generatingMs: number;
  /** generating phase of video models (those priced per second: pricing/prices.ts makesVideo) */
  videoGeneratingMs: number;
  /** how much later a `callback=late` callback arrives */
  lateCallbackMs: number;
}

export const TIMINGS = {
  /** Tests: a task ends within a quarter of a second. */
  fast: { visibleAfterMs: 10, waitingMs: 20, queuingMs: 20, generatingMs: 60, videoGeneratingMs: 120, lateCallbackMs: 300 },
  /** The quick start: long enough to watch the states go by. */
  demo: { visibleAfterMs: 500, waitingMs: 1000, queuingMs: 1000, generatingMs: 3000, videoGeneratingMs: 6000, lateCallbackMs: 5000 },
  /** Close to the provider's real pace. */
  realistic: { visibleAfterMs: 1500, waitingMs: 2000, queuingMs: 4000, generatingMs: 15_000, videoGeneratingMs: 90_000, lateCallbackMs: 60_000 },
} as const satisfies Record<string, Timing>;

export type TimingName = keyof typeof TIMINGS;

/**
 * Quirks, by name (the same list per account or per request):
 * - `error=401|402|403|433|455|500|505|…` (any code of the spec's ErrorCode): answer every call
 *   with that code inside HTTP 200, as the public API does
 * - `http=429|455|500|502|503|…`: answer every call with that real HTTP status (envelope too)
 * - `fail`: tasks end in `fail` with failCode 501 (generation failed)
 * - `slow=MS`: answer after MS milliseconds
 * - `callback=lost|late|duplicate|out-of-order`: lost: never sent; late: sent `lateCallbackMs`
 *   after the end; duplicate: sent twice; out-of-order: the final callback, then a stale
 *   `generating` one with an older updateTime
 */
export type Quirk = string;

export interface SimulatorAccount {
  apiKey: string;
  /** Credits (1 credit = USD 0.005); each task costs its price and a failed task is refunded. Default 1,000,000. */
  credits?: number;
  /** When set, callbacks carry X-Webhook-Timestamp and X-Webhook-Signature. */
  hmacKey?: string;
  /** After this many tasks, createTask answers 433 (sub-key usage limit exceeded). */
  taskLimit?: number;
  quirks?: Quirk[];
  /**
   * Which API the account speaks: `liangxin` (default; LiangXin's ids, fields and statuses) or
   * `market` (the public Market API LiangXin re-brands: its ids and fields, errors inside HTTP 200).
   */
  dialect?: DialectName;
}

export type DialectName = 'liangxin' | 'market';

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Default: one account `sk-sim-dev` with 1,000,000 credits. */
  accounts?: SimulatorAccount[];
  /** A preset or exact phase lengths; default `fast`. */
  timing?: TimingName | Partial<Timing>;
  /** createTask calls per account per 10 s before HTTP 429; default 20 (the provider's). */
  createPer10s?: number;
  /** recordInfo calls per account per second before HTTP 429; default 10. */
  recordInfoPerSecond?: number;
  /** Origin used in result URLs; default the listening URL. */
  publicUrl?: string;
  /** Start in maintenance (every call answers 455). */
  maintenance?: boolean;
  /** How a call with no valid key is answered (no account, so no account's dialect); default liangxin. */
  dialect?: DialectName;
  /** Time source; default Date.now. Phases are computed from it, so a test clock moves tasks on. */
  now?: () => number;
  /**
   * Hosts besides this machine's (loopback: 127.0.0.0/8, ::1, localhost) that callbacks may be
   * delivered to, as written in the callBackUrl; `'*'` for any. Default none: a callBackUrl
   * elsewhere is skipped, and said so (in `callbacks`, and once per host on `warn`).
   */
  allowCallbackHosts?: readonly string[];
  /** Where the simulator says what it did not do (a skipped callback); default stderr. */
  warn?: (line: string) => void;
}

export const DEFAULT_ACCOUNT: Required<Pick<SimulatorAccount, 'apiKey' | 'credits'>> = { apiKey: 'sk-sim-dev', credits: 1_000_000 };
