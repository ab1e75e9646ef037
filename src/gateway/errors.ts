// Every refusal of the gateway is a GatewayError, turned into the API's envelope in one place
// (respond.ts). The HTTP status equals the body code, so plain HTTP clients and the typed client
// (which reads the body code) understand it alike.
import { formatFieldErrors, type ValidationFailure } from '../spec/validator.js';

export interface GatewayErrorInit {
  /** The envelope's code, and the HTTP status unless `httpStatus` says otherwise. */
  code: number;
  msg: string;
  /** Details: failing fields, upstream attempts. Never a secret. */
  data?: unknown;
  /** Seconds, for 429/503. */
  retryAfterSeconds?: number;
  /** Why, for metrics (`validation`, `auth`, `no_key`, `rate`, …). */
  reason: string;
  httpStatus?: number;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: number;
  readonly httpStatus: number;
  readonly msg: string;
  readonly data: unknown;
  readonly retryAfterSeconds: number | undefined;
  readonly reason: string;

  constructor(init: GatewayErrorInit) {
    super(`${init.code} ${init.msg}`);
    this.code = init.code;
    this.httpStatus = init.httpStatus ?? init.code;
    this.msg = init.msg;
    this.data = init.data ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.reason = init.reason;
  }
}

/** The answer for an unknown task, another tenant's task and one not visible yet: identical. */
export function recordIsNull(): GatewayError {
  return new GatewayError({ code: 422, msg: 'recordInfo is null', reason: 'unknown_task' });
}

export function secondsFrom(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** A body that breaks a contract: its first failing fields, in msg and data.errors, and how many failed. */
export function invalidRequest(failed: ValidationFailure): GatewayError {
  const data = { errors: failed.errors, errorCount: failed.errorCount, ...(failed.partial ? { partial: true } : {}) };
  return new GatewayError({ code: 422, msg: `Invalid request: ${formatFieldErrors(failed.errors, failed)}`, data, reason: 'validation' });
}
