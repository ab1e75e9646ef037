// The routes every task goes through — a tenant's createTask and recordInfo, the provider's
// callback — on plain node:http rather than Express. The bench's profile put Express's router,
// its response helpers and body-parser at about a tenth of a createTask's CPU, and most of its
// garbage; these three routes need none of what Express offers. Admin and ops routes stay on
// Express (http.ts hands it everything this does not claim).
//
// A tenant call, in order: auth → (body → validate) → quota → key pool → record → upstream →
// confirm → respond; every refusal is a GatewayError, answered by respond.ts. Every authenticated
// call counts against requestsPerMinute: a createTask in its admission, one refused before it (bad
// body, refused callBackUrl) on its own; and one whose window is known to be full is refused
// before its body is read, checked or its callBackUrl resolved.
import type { IncomingMessage } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Remaining } from '../../quota/types.js';
import type { Principal } from '../auth.js';
import { CALLBACK_PATH, createCallbackReceiver, parseCallbackPath, type CallbackTarget } from '../callbacks/inbound.js';
import type { GatewayContext } from '../context.js';
import { refusal } from '../errors.js';
import { admitCall, countRefusedCall, refuseFullWindow, setRateLimitHeaders } from '../quota.js';
import { sendAnswer, sendJson, sendRefusal, type ApiResponse } from '../respond.js';
import { acceptCreateTask, DROPPED_FIELDS_HEADER, type AcceptedTask } from '../dialect.js';
import { checkCallbackUrl, createTask, type Answer } from '../tasks/create.js';
import { createRecordReader } from '../tasks/read.js';
import { cancelTask } from '../queue/cancel.js';
import { CANCEL_AFTER_HEADER, parseCancelAfter, parsePriority, PRIORITY_HEADER } from '../queue/deadline.js';
import type { QueueOptions } from '../queue/enqueue.js';
import { IDEMPOTENCY_HEADER, withIdempotency } from '../queue/idempotency.js';

export const CREATE_TASK = '/api/v1/jobs/createTask';
export const RECORD_INFO = '/api/v1/jobs/recordInfo';
export const CANCEL_TASK = '/api/v1/jobs/cancelTask';
const CALLBACK_ROUTE = `${CALLBACK_PATH}/:gatewayTaskId/:token`;
const BODY_LIMIT = 1024 * 1024;

export interface ApiRoutes {
  authenticate(authorization: string | undefined): Promise<Principal>;
  readBody(req: IncomingMessage, limitBytes: number): Promise<unknown>;
  isStopping(): boolean;
}

/** Returns a handler that answers the API's routes and says false for any other request. */
export function createApiHandler(ctx: GatewayContext, routes: ApiRoutes) {
  const readTask = createRecordReader(ctx);
  const receiveCallback = createCallbackReceiver(ctx);

  // Tenant calls: refused while stopping, then authenticated before the body is even read.
  async function tenant(req: IncomingMessage, res: ApiResponse): Promise<Principal> {
    if (routes.isStopping()) throw refusal('stopping', 'The gateway is shutting down', { retryAfterSeconds: 1 });
    const principal = await routes.authenticate(req.headers.authorization);
    res.locals.tenantId = principal.tenantId;
    res.locals.httpStatus = principal.settings.httpStatus;
    return principal;
  }

  async function createTaskRoute(req: IncomingMessage, res: ApiResponse): Promise<Answer> {
    const principal = await tenant(req, res);
    refuseFullWindow(ctx.quota, principal.quotas, principal.tenantId, ctx.clock.now(), res);
    let task: AcceptedTask;
    let body: unknown;
    let queueOptions: QueueOptions;
    try {
      body = await routes.readBody(req, BODY_LIMIT);
      task = acceptCreateTask(ctx, principal, body);
      queueOptions = { cancelAfterMs: parseCancelAfter(req.headers[CANCEL_AFTER_HEADER]), priority: parsePriority(req.headers[PRIORITY_HEADER]) };
      await checkCallbackUrl(ctx, principal, task.upstream);
      if (task.dropped.length > 0) res.setHeader(DROPPED_FIELDS_HEADER, task.dropped.join(', '));
    } catch (refusal) {
      return countRefusedCall(ctx.quota, principal.quotas, principal.tenantId, ctx.clock.now(), res, refusal);
    }
    // The response closing before it was written means the caller went away.
    let aborted = false;
    res.once('close', () => {
      aborted = !res.writableFinished;
    });
    const hooks = { onRemaining: (remaining: Remaining[]) => setRateLimitHeaders(res, remaining), aborted: () => aborted };
    return withIdempotency(ctx, principal, req.headers[IDEMPOTENCY_HEADER], body, () => createTask(ctx, principal, task, hooks, queueOptions));
  }

  async function cancelTaskRoute(req: IncomingMessage, res: ApiResponse): Promise<Answer> {
    const principal = await tenant(req, res);
    await admitCall(ctx.quota, principal.quotas, principal.tenantId, ctx.clock.now(), res);
    return cancelTask(ctx, principal, await routes.readBody(req, BODY_LIMIT));
  }

  async function recordInfoRoute(req: IncomingMessage, res: ApiResponse, query: string): Promise<Answer> {
    const principal = await tenant(req, res);
    // Every tenant call counts against requestsPerMinute; a createTask is admitted with its task.
    await admitCall(ctx.quota, principal.quotas, principal.tenantId, ctx.clock.now(), res);
    return readTask(principal, parseQuery(query).taskId);
  }

  async function callbackRoute(req: IncomingMessage, res: ApiResponse, target: CallbackTarget): Promise<void> {
    const payload = await routes.readBody(req, BODY_LIMIT);
    await receiveCallback({ target, payload, headers: req.headers, locals: res.locals, requestId: req.id });
    sendJson(res, 200, { code: 200, msg: 'success', data: null });
  }

  function answer(route: string, req: IncomingMessage, res: ApiResponse, work: Promise<Answer>): void {
    work.then(
      (done) => sendAnswer(ctx, route, res, done),
      (error: unknown) => sendRefusal(ctx, route, res, error, req.id),
    );
  }

  return function handleApi(req: IncomingMessage, res: ApiResponse): boolean {
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark === -1 ? url : url.slice(0, mark);
    if (req.method === 'POST' && path === CREATE_TASK) {
      answer(CREATE_TASK, req, res, createTaskRoute(req, res));
      return true;
    }
    if (req.method === 'POST' && path === CANCEL_TASK) {
      answer(CANCEL_TASK, req, res, cancelTaskRoute(req, res));
      return true;
    }
    if (req.method === 'GET' && path === RECORD_INFO) {
      answer(RECORD_INFO, req, res, recordInfoRoute(req, res, mark === -1 ? '' : url.slice(mark + 1)));
      return true;
    }
    if (req.method === 'POST' && path.startsWith(`${CALLBACK_PATH}/`)) {
      const target = parseCallbackPath(path.slice(CALLBACK_PATH.length + 1));
      if (target === undefined) return false;
      callbackRoute(req, res, target).catch((error: unknown) => sendRefusal(ctx, CALLBACK_ROUTE, res, error, req.id));
      return true;
    }
    return false;
  };
}
