// The HTTP shapes the API's steps share: what a handler answers and what a request's handlers tell
// the request log. Kept apart from respond.ts (which turns them into responses) and from the task
// steps (which produce them), so neither imports the other for a type.
import type { ServerResponse } from 'node:http';
import type { TaskRow } from '../../store/types.js';
import type { HttpStatusMode } from '../errors.js';

/** A task just accepted, as its first event (`created`) shows it: what the row holds so far. */
export type CreatedTask = Pick<TaskRow, 'taskId' | 'providerTaskId' | 'tenantId' | 'callBackUrl' | 'model' | 'param' | 'createdAt'>;

/** A handler's answer: the envelope to send, and the ids the request log names. */
export interface Answer {
  body: unknown;
  log?: { taskId?: string; upstreamKeyId?: string; upstreamId?: string };
  /** A new task (not an Idempotency-Key replay): announced to the event log once answered. */
  created?: CreatedTask;
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
