// Every refusal of the gateway is a GatewayError, turned into the API's envelope in one place
// (respond.ts). The refusal catalogue below is the one place a reason's body code and HTTP
// statuses are stated; handlers name a reason.
//
// Clients of the provider expect its wire behaviour: some raise on any non-2xx, others read only
// the body code. So each tenant chooses (`errors.httpStatus`): `provider` answers with the HTTP
// status LiangXin gives for the same situation (invalid parameters HTTP 400, an upstream
// refusal with the status the provider answered it with, "recordInfo is null" inside HTTP 200 as
// the public API documents it), `body` makes the HTTP status equal the body code. Refusals only
// the gateway makes (its auth, quotas, keys, shutdown) keep real HTTP statuses in both modes.
import { isCountLimit, LIMIT_NAMES, type CountLimit } from '../quota/limits.js';
import type { FieldError } from '../spec/field-error.js';
import { formatFieldErrors, type ValidationFailure } from '../spec/validator.js';

export type HttpStatusMode = 'provider' | 'body';

interface CatalogueEntry {
  code: number;
  /** The HTTP status LiangXin answers the same situation with (`provider` mode). */
  provider: number;
}

const same = (code: number): CatalogueEntry => ({ code, provider: code });

/** A count limit of the quota catalogue refuses with 429, one reason per limit (`quota_tasksPerDay`), for metrics. */
function countQuotaRefusals() {
  return Object.fromEntries(LIMIT_NAMES.filter(isCountLimit).map((name) => [`quota_${name}`, same(429)])) as Record<`quota_${CountLimit}`, CatalogueEntry>;
}

/** reason → body code and the provider's HTTP status. Reasons not listed: HTTP status = code. */
export const REFUSALS = {
  // LiangXin's own situations: its statuses ("400 invalid request, missing model, unsupported
  // model, invalid model parameter"; "403 access denied"; "413 request body too large"; "500").
  validation: same(400),
  bad_json: same(400),
  bad_body: same(400),
  too_large: same(413),
  model_not_allowed: same(403),
  store: same(500),
  internal: same(500),
  /** The public API answers an unknown (or just created) task with 422 inside HTTP 200. */
  unknown_task: { code: 422, provider: 200 },
  // Gateway-only: real statuses whatever the mode.
  auth: same(401),
  /** No admin token and no dashboard session (admin/access.ts). */
  admin_auth: same(401),
  ops_auth: same(401),
  not_found: same(404),
  no_route: same(404),
  conflict: same(409),
  budget: same(402),
  paced: same(429),
  ...countQuotaRefusals(),
  quota_unavailable: same(503),
  no_key: same(503),
  maintenance: same(503),
  stopping: same(503),
  /** No configured upstream serves the model (a config gap, not the tenant's mistake). */
  no_upstream: same(503),
  /** The request has no faithful form in the dialect of any upstream that serves its model. */
  untranslatable: same(400),
  upstream_error: same(502),
  upstream_unknown: same(502),
  /** A provider's refusal relayed as it answered it: the code and HTTP status are the provider's (`relayed`). */
  upstream_refused: same(502),
  // A provider's callback to us (callbacks/inbound.ts): what LiangXin's sender sees.
  callback_invalid: same(400),
  callback_signature: same(401),
  callback_unknown: same(404),
  request_timeout: same(408),
  client_closed: same(499),
  aborted: same(499),
  /** Result copies (gateway/results/): a signed link that does not verify or has expired; a copy swept away. */
  result_link: same(403),
  result_gone: same(404),
  /** SSE (gateway/events/): Last-Event-ID that is not an event id of this API. */
  bad_event_id: same(400),
  /** The admin API is the gateway's own: its invalid bodies stay 422 (openapi/gateway.yaml). */
  admin_validation: same(422),
  /** A change made with the dashboard's session cookie but without its CSRF proof (admin/access.ts). */
  csrf: same(403),
  // The admission queue and its headers (issue 16): the gateway's own, real statuses.
  /** The tenant has maxQueued tasks waiting already. */
  queue_full: same(429),
  /** Idempotency-Key reused with another body (IETF httpapi idempotency-key draft). */
  idempotency_mismatch: same(422),
  /** Idempotency-Key of a request still being processed. */
  idempotency_in_flight: same(409),
  /** cancelTask on a task the provider already has (the provider has no cancel). */
  task_at_provider: same(409),
} as const satisfies Record<string, CatalogueEntry>;

export type CatalogueReason = keyof typeof REFUSALS;

export interface GatewayErrorInit {
  /** The envelope's code: the catalogue's, unless the refusal relays a provider's answer (`relayed`). */
  code?: number;
  msg: string;
  /** Details: failing fields, upstream attempts. Never a secret. */
  data?: unknown;
  /** Seconds, for 429/503. */
  retryAfterSeconds?: number;
  /** Why, for metrics (`validation`, `auth`, `no_key`, …): a reason of the catalogue. */
  reason: CatalogueReason;
  /** The provider's HTTP status for this refusal, when it is not the catalogue's (a relayed upstream answer). */
  providerStatus?: number;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: number;
  readonly msg: string;
  readonly data: unknown;
  readonly retryAfterSeconds: number | undefined;
  readonly reason: CatalogueReason;
  /** The HTTP status in `provider` mode. */
  readonly providerStatus: number;

  constructor(init: GatewayErrorInit) {
    const entry: CatalogueEntry = REFUSALS[init.reason];
    const code = init.code ?? entry.code;
    super(`${code} ${init.msg}`);
    this.code = code;
    this.msg = init.msg;
    this.data = init.data ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.reason = init.reason;
    this.providerStatus = init.providerStatus ?? (init.code === undefined ? entry.provider : code);
  }

  /** The HTTP status to answer with, in the tenant's mode. */
  httpStatus(mode: HttpStatusMode): number {
    return mode === 'body' ? this.code : this.providerStatus;
  }
}

/** A catalogued refusal: the handler names the reason and says what happened. */
export function refusal(reason: CatalogueReason, msg: string, extra: Omit<GatewayErrorInit, 'reason' | 'msg' | 'code'> = {}): GatewayError {
  return new GatewayError({ ...extra, reason, msg });
}

/** A provider's refusal passed on as it answered it: its body code and its HTTP status (`provider` mode). */
export function relayed(answer: { code: number; msg: string; httpStatus: number }, data?: unknown): GatewayError {
  return new GatewayError({ reason: 'upstream_refused', code: answer.code, msg: answer.msg, providerStatus: answer.httpStatus, data });
}

/** The answer for an unknown task, another tenant's task and one not visible yet: identical. */
export function recordIsNull(): GatewayError {
  return refusal('unknown_task', 'recordInfo is null');
}

export function secondsFrom(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

type InvalidReason = 'validation' | 'admin_validation';

/**
 * A body that breaks a contract: its first failing fields, in msg and data.errors, and how many
 * failed. The one place the envelope of an invalid request is built (400 on the tenant API, 422
 * on the admin API).
 */
export function invalidRequest(failed: ValidationFailure, reason: InvalidReason = 'validation'): GatewayError {
  const data = { errors: failed.errors, errorCount: failed.errorCount, ...(failed.partial ? { partial: true } : {}) };
  return refusal(reason, `Invalid request: ${formatFieldErrors(failed.errors, failed)}`, { data });
}

/** One field found wrong by a check of the handler's own (not the spec's validator). */
export function invalidField(error: FieldError, reason: InvalidReason = 'validation'): GatewayError {
  return invalidRequest({ ok: false, errors: [error], errorCount: 1 }, reason);
}
