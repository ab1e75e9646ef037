// The seam between the gateway and a provider's API: everything that differs from one upstream
// dialect to another (endpoints, auth, what a body code means, the record format, the cost of a
// task, the callback scheme) sits behind this interface, one folder per dialect (liangxin/,
// market/). The gateway's core (tasks/, quota/, store/, the outbox) reads only what these return:
// verdicts, gateway TaskRecords and micro-dollars, never a provider's body code.
// Nothing here imports the gateway or the store.
import type { CreateTaskRequest, TaskRecord } from '../client/types.js';

/** What the upstream client read from one HTTP answer (the envelope when there was one). */
export interface ProviderAnswer {
  httpStatus: number;
  /** The body code when the body was an envelope; else the HTTP status. */
  code: number;
  msg: string;
  data: unknown;
  retryAfterMs: number | undefined;
}

/** What an answer says about the key that sent it (or, for `maintenance`, about the whole upstream). */
export type KeyEffect = 'none' | 'active' | 'cooling' | 'exhausted' | 'disabled' | 'maintenance';

/**
 * What a createTask answer means, from the provider's body-code table:
 * - `started`: whether a task exists upstream: `no` only when the answer proves none was started;
 * - `next`: who may take the task now: another key of this upstream, another upstream, or nobody
 *   (the request itself was judged; anyone would judge it the same). Anything but `none` requires
 *   `started: 'no'`: a task is never sent twice (the table test checks every row);
 * - `tenant`: what the tenant is answered when nobody else takes it.
 */
export interface CodeRule {
  started: 'yes' | 'no' | 'unknown';
  key: KeyEffect;
  next: 'key' | 'upstream' | 'none';
  tenant: TenantAnswer;
  /** Why, for the key's reason and logs (never a secret). */
  note: string;
}

export type TenantAnswer =
  /** The task was started: its id is the answer. */
  | 'created'
  /** The provider judged the request: relayed as it said it (its code, message and HTTP status). */
  | 'relay'
  /** The upstream cannot take tasks now (503 maintenance). */
  | 'maintenance'
  /** No key can serve (503, or 429 when paced). */
  | 'no_key'
  /** Its fate is unknown (502): recorded in doubt, never resent. */
  | 'unknown';

/** A createTask answer, read: the provider's task id, or the rule that applies. */
export type CreateVerdict =
  | { kind: 'created'; taskId: string }
  | { kind: 'not-created'; rule: CodeRule; code: number; msg: string; httpStatus: number; retryAfterMs: number | undefined };

/** A recordInfo answer, read. */
export type ReadVerdict =
  | { kind: 'record'; record: TaskRecord }
  /** The provider does not show the task (yet): "recordInfo is null". */
  | { kind: 'not-visible' }
  /** `paced`: refused for rate (the gateway's read budget for this key shrinks; its createTask is untouched). */
  | { kind: 'unavailable'; reason: string; key: KeyEffect; paced: boolean; retryAfterMs: number | undefined };

/** What this provider's callback says, once authentic: the gateway's record, or why it is not one. */
export type CallbackVerdict = { ok: true; record: TaskRecord } | { ok: false; why: string };

/** The gateway's (LiangXin's, canonical) body in this provider's dialect, or why it has none. */
export type Translated = { ok: true; body: unknown } | { ok: false; path: string; why: string };

export interface Provider {
  /** The dialect's name, as config `upstreams[].provider` names it. */
  readonly name: string;
  readonly endpoints: { createTask: string; recordInfo(taskId: string): string };
  /** The request headers that authenticate a call with this key. */
  auth(apiKey: string): Record<string, string>;
  /** Whether this provider can express the (LiangXin) model at all. */
  serves(model: string): boolean;
  /** The gateway's validated body (LiangXin's dialect, the gateway's callback URL in it) for this provider. */
  translate(body: CreateTaskRequest): Translated;
  /** The body-code table applied to a createTask answer. */
  readCreate(answer: ProviderAnswer): CreateVerdict;
  /** A recordInfo answer, its record validated and in the gateway's terms. */
  readRecord(answer: ProviderAnswer): ReadVerdict;
  /** A callback body, validated, as the gateway's record (signature checked apart: `verifySignature`). */
  readCallback(payload: unknown): CallbackVerdict;
  /** Throws when the callback's signature does not verify with the account's HMAC key. */
  verifySignature(
    payload: unknown,
    headers: Record<string, string | string[] | undefined>,
    hmacKey: string,
    options: { toleranceSeconds: number; now: number },
  ): void;
  /** What a final task cost, integer micro-dollars, when the provider reports it (undefined: unknown). */
  costMicros(record: TaskRecord): number | undefined;
}
