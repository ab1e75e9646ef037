// One class per way a call can go wrong, each with a `code`, so callers branch on `instanceof`
// or `code` and never on message text. Messages never include the API key or request headers.

/** The API refused: the body code (or, with no readable body, the HTTP status) says why. */
export class LiangxinError extends Error {
  override readonly name = 'LiangxinError';
  /** The envelope's `code`; the HTTP status when the body had none. Authoritative. */
  readonly code: number;
  /** The envelope's `msg`. */
  readonly msg: string;
  /** The HTTP status the answer came with (often 200 for a refusal). */
  readonly httpStatus: number;
  /** Which client call failed. */
  readonly operation: string;
  /** From a `Retry-After` header, when the answer carried one. */
  readonly retryAfterMs: number | undefined;
  /** The envelope's `data` when a refusal carried details (the gateway lists failing fields). */
  readonly data: unknown;

  constructor(init: {
    code: number;
    msg: string;
    httpStatus: number;
    operation: string;
    retryAfterMs?: number | undefined;
    data?: unknown;
  }) {
    super(`${init.operation}: ${init.code} ${init.msg} (HTTP ${init.httpStatus})`);
    this.code = init.code;
    this.msg = init.msg;
    this.httpStatus = init.httpStatus;
    this.operation = init.operation;
    this.retryAfterMs = init.retryAfterMs;
    this.data = init.data ?? null;
  }
}

/** No usable answer: the connection failed, or the body was not the JSON envelope. */
export class LiangxinTransportError extends Error {
  override readonly name = 'LiangxinTransportError';
  readonly code = 'TRANSPORT' as const;
  readonly operation: string;
  /** The HTTP status when a response arrived but could not be read. */
  readonly httpStatus: number | undefined;

  constructor(operation: string, reason: string, options: { cause?: unknown; httpStatus?: number } = {}) {
    super(`${operation}: ${reason}`, { cause: options.cause });
    this.operation = operation;
    this.httpStatus = options.httpStatus;
  }
}

/** waitForTask gave up before the task became final. */
export class LiangxinTimeoutError extends Error {
  override readonly name = 'LiangxinTimeoutError';
  readonly code = 'WAIT_TIMEOUT' as const;
  readonly taskId: string;
  readonly elapsedMs: number;
  /** The last state seen, if any poll succeeded. */
  readonly lastState: string | undefined;

  constructor(taskId: string, elapsedMs: number, lastState: string | undefined) {
    super(
      `waitForTask: task ${taskId} is not final after ${Math.round(elapsedMs / 1000)} s` + (lastState ? ` (last state: ${lastState})` : ' (no record yet)'),
    );
    this.taskId = taskId;
    this.elapsedMs = elapsedMs;
    this.lastState = lastState;
  }
}

/** `resultJson` or `param` is not the JSON it should be. */
export class LiangxinParseError extends Error {
  override readonly name = 'LiangxinParseError';
  readonly code = 'BAD_JSON' as const;
  readonly field: string;

  constructor(field: string, cause: unknown) {
    super(`parseResult: ${field} is not valid JSON`, { cause });
    this.field = field;
  }
}

export type WebhookErrorCode = 'MISSING_SIGNATURE' | 'BAD_TIMESTAMP' | 'STALE_TIMESTAMP' | 'BAD_SIGNATURE' | 'BAD_BODY';

/** A callback failed verification; treat it as not sent by the provider. */
export class LiangxinWebhookError extends Error {
  override readonly name = 'LiangxinWebhookError';
  readonly code: WebhookErrorCode;

  constructor(code: WebhookErrorCode, message: string) {
    super(`verifyWebhook: ${message}`);
    this.code = code;
  }
}
