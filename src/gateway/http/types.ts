// The HTTP shapes the API's steps share: what a handler answers and what a request's handlers tell
// the request log. Kept apart from respond.ts (which turns them into responses) and from the task
// steps (which produce them), so neither imports the other for a type.
import type { ServerResponse } from 'node:http';
import type { HttpStatusMode } from '../errors.js';

/** A handler's answer: the envelope to send, and the ids the request log names. */
export interface Answer {
  body: unknown;
  log?: { taskId?: string; upstreamKeyId?: string; upstreamId?: string };
  /** Response headers of this answer (recordInfo's record age). */
  headers?: Record<string, string>;
}

/** What a request's handlers tell the request log (ops/logging.ts): ids only, never secrets. */
export interface RequestLocals {
  tenantId?: string;
  taskId?: string;
  upstreamKeyId?: string;
  upstreamId?: string;
  /** The tenant's `errors.httpStatus` once it is known; refusals before that use `provider`. */
  httpStatus?: HttpStatusMode;
  /** The route as declared, once answered (the response time histogram's label). */
  route?: string;
  [key: string]: unknown;
}

export type ApiResponse = ServerResponse & { locals: RequestLocals };
