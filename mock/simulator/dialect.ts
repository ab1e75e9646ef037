// How the simulated provider words the answers that differ between LiangXin and the public
// Market API it re-brands, and which contract it validates with. LiangXin's dialect is the
// canonical one; an account may speak the Market API's (`dialect: market`). Nothing else in the
// simulator knows the difference.
import type { ServerResponse } from 'node:http';
import type { CallbackPayload, TaskRecord } from '../../src/client/types.js';
import { aliasTable } from '../../src/providers/market/aliases.js';
import { liangxinModelOf } from '../../src/providers/market/translate.js';
import { loadMarketSpec } from '../../src/spec/document.js';
import { createSpecValidator, formatFieldErrors, type SpecValidator, type ValidationFailure } from '../../src/spec/validator.js';
import { envelope, send, type BodyError } from './http.js';
import type { DialectName } from './options.js';

export interface Dialect {
  readonly name: DialectName;
  /** The contract createTask bodies are checked against. */
  validator(): SpecValidator;
  /** The LiangXin model a model id of this dialect denotes (prices, defaults, media). */
  liangxinModel(model: string): string;
  /** A missing or wrong API key. */
  unauthorized(res: ServerResponse): void;
  /** A body the spec refuses (missing or unsupported model, invalid parameter). */
  invalidInput(res: ServerResponse, failure: ValidationFailure): void;
  /** A body that is too large or not JSON. */
  unreadableBody(res: ServerResponse, error: BodyError): void;
  /** The account's credits do not cover the task. */
  insufficientCredits(res: ServerResponse): void;
  /** `failCode` and `failMsg` of a record that has not failed. */
  readonly noFailure: '' | null;
  /** What is posted to callBackUrl for a final record. */
  callbackPayload(record: TaskRecord): CallbackPayload;
}

/** Built on first use: a simulator whose accounts never speak a dialect does not compile its contract. */
function lazy(make: () => SpecValidator): () => SpecValidator {
  let made: SpecValidator | undefined;
  return () => (made ??= make());
}

const unreadable = (res: ServerResponse, error: BodyError) =>
  error.code === 'BODY_TOO_LARGE' ? envelope(res, 413, 413, error.message) : envelope(res, 400, 400, error.message);

/** LiangXin as its own pages document it: real HTTP statuses, a non-envelope 401, 403 for quota. */
function liangxin(validator: () => SpecValidator): Dialect {
  return {
    name: 'liangxin',
    validator,
    liangxinModel: (model) => model,
    unauthorized: (res) => send(res, 401, { error: { message: 'invalid token', type: 'new_api_error', code: '' } }),
    invalidInput: (res, failure) => envelope(res, 400, 400, formatFieldErrors(failure.errors, failure)),
    unreadableBody: unreadable,
    insufficientCredits: (res) => envelope(res, 403, 403, 'insufficient quota'),
    noFailure: '', // "Empty unless state is fail"
    // "The same payload shape as recordInfo": code 200 whether the task succeeded or failed.
    callbackPayload: (record) => ({ code: 200, msg: 'success', data: record }),
  };
}

/**
 * The public Market API (openapi/market.yaml): its ids and fields, and its errors as the envelope
 * inside HTTP 200 (validation 422, a wrong key 401, spent credits 402); a failed task's callback
 * carries code 501.
 */
function market(): Dialect {
  const table = aliasTable();
  return {
    name: 'market',
    validator: lazy(() => createSpecValidator(loadMarketSpec())),
    liangxinModel: (model) => liangxinModelOf(model, table),
    unauthorized: (res) => envelope(res, 200, 401, 'You do not have access permissions'),
    invalidInput: (res, failure) => envelope(res, 200, 422, formatFieldErrors(failure.errors, failure)),
    unreadableBody: unreadable,
    insufficientCredits: (res) => envelope(res, 200, 402, 'Credits insufficient'),
    noFailure: null,
    callbackPayload: (record) =>
      record.state === 'fail' ? { code: 501, msg: record.failMsg ?? 'Generation failed', data: record } : { code: 200, msg: 'success', data: record },
  };
}

/** One simulator's dialects, by name; LiangXin's validator is the simulator's own. */
export function createDialects(liangxinValidator: SpecValidator): Record<DialectName, Dialect> {
  return { liangxin: liangxin(() => liangxinValidator), market: market() };
}
