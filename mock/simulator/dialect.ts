// How the simulated provider words the answers that differ between LiangXin and the public API it
// re-brands: LiangXin's dialect, the canonical one, is the only one today. The public API's (per
// account) is a second object of this shape; nothing else in the simulator knows the difference.
import type { ServerResponse } from 'node:http';
import type { CallbackPayload, TaskRecord } from '../../src/client/types.js';
import { formatFieldErrors, type ValidationFailure } from '../../src/spec/validator.js';
import { envelope, send, type BodyError } from './http.js';

export interface Dialect {
  readonly name: string;
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

/** LiangXin as its own pages document it: real HTTP statuses, a non-envelope 401, 403 for quota. */
export const liangxinDialect: Dialect = {
  name: 'liangxin',
  unauthorized: (res) => send(res, 401, { error: { message: 'invalid token', type: 'new_api_error', code: '' } }),
  invalidInput: (res, failure) => envelope(res, 400, 400, formatFieldErrors(failure.errors, failure)),
  unreadableBody: (res, error) => (error.code === 'BODY_TOO_LARGE' ? envelope(res, 413, 413, error.message) : envelope(res, 400, 400, error.message)),
  insufficientCredits: (res) => envelope(res, 403, 403, 'insufficient quota'),
  noFailure: '', // "Empty unless state is fail"
  // "The same payload shape as recordInfo": code 200 whether the task succeeded or failed.
  callbackPayload: (record) => ({ code: 200, msg: 'success', data: record }),
};
