// The routes every task goes through — a tenant's createTask and recordInfo, the provider's
// callback — on plain node:http rather than Express. The bench's profile put Express's router,
// its response helpers and body-parser at about a tenth of a createTask's CPU, and most of its
// garbage; these three routes need none of what Express offers. Admin and ops routes stay on
// Express (http.ts hands it everything this does not claim).
//
// A tenant call, in order: auth → (body → validate) → quota + upstream and key → record →
// upstreams (routing, failover) → confirm → respond; every refusal is a GatewayError, answered by
// respond.ts. Every authenticated
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
import { checkCallbackUrl, createTask } from '../tasks/create.js';
import type { Answer } from './types.js';
import { createRecordReader } from '../tasks/read.js';
import { cancelTask } from '../queue/cancel.js';
import { CANCEL_AFTER_HEADER, parseCancelAfter, parsePriority, PRIORITY_HEADER } from '../queue/deadline.js';
import type { QueueOptions } from '../queue/enqueue.js';
import { IDEMPOTENCY_HEADER, withIdempotency } from '../queue/idempotency.js';
import type { GatewaySpan } from '../ops/tracing.js';
import { listTaskPage, parseTaskList, tenantTaskView } from '../tasks/list.js';
import { RESULTS_PATH } from '../results/links.js';
import { createHeldCalls, EVENTS_PATH, preferenceApplied, preferredWait, type Hold, type TaskEvents } from '../events/index.js';
import { EVENTS_HEADER } from '../../client/events.js';

export const CREATE_TASK = '/api/v1/jobs/createTask';
export const RECORD_INFO = '/api/v1/jobs/recordInfo';
export const CANCEL_TASK = '/api/v1/jobs/cancelTask';
export const LIST_TASKS = '/api/v1/jobs/list';

/** A bad query parameter of the tenant API: 400, named, in the envelope. */
const badParameter = (path: string, message: string) =>
  refusal('validation', `Invalid request: ${path} ${message}`, { data: { errors: [{ path, message, keyword: 'format' }], errorCount: 1 } });

const CALLBACK_ROUTE = `${CALLBACK_PATH}/:gatewayTaskId/:token`;
const RESULTS_ROUTE = `${RESULTS_PATH}/:taskId/:index`;
const BODY_LIMIT = 1024 * 1024;

export interface ApiRoutes {
  authenticate(authorization: string | undefined): Promise<Principal>;
  readBody(req: IncomingMessage, limitBytes: number): Promise<unknown>;
  isStopping(): boolean;
  /** Live task events (SSE, Prefer: wait); without them neither is offered. */
  events?: TaskEvents;
}

/** Returns a handler that answers the API's routes and says false for any other request. */
export function createApiHandler(ctx: GatewayContext, routes: ApiRoutes) {
  const readTask = createRecordReader(ctx);
  const receiveCallback = createCallbackReceiver(ctx);
  const held = routes.events ? createHeldCalls(ctx, routes.events.hub) : undefined;

  // Tenant calls: refused while stopping, then authenticated before the body is even read.
  async function tenant(req: IncomingMessage, res: ApiResponse): Promise<Principal> {
    if (routes.isStopping()) throw refusal('stopping', 'The gateway is shutting down', { retryAfterSeconds: 1 });
    const principal = await routes.authenticate(req.headers.authorization);
    res.locals.tenantId = principal.tenantId;
    res.locals.httpStatus = principal.settings.httpStatus;
    return principal;
  }

  async function createTaskRoute(req: IncomingMessage, res: ApiResponse, span: GatewaySpan): Promise<Answer> {
    const principal = await tenant(req, res);
    span.set({ 'lxg.tenant': principal.tenantId });
    refuseFullWindow(ctx.quota, principal.quotas, principal.tenantId, ctx.clock.now(), res);
    let task: AcceptedTask;
    let body: unknown;
    let queueOptions: QueueOptions;
    // The gateway's added latency (the dashboard's overview): from the body read to the answer,
    // less the provider's time (none for a queued task: its answer waits for no provider).
    let started = 0;
    try {
      body = await routes.readBody(req, BODY_LIMIT);
      started = performance.now();
      task = acceptCreateTask(ctx, principal, body);
      span.set({ 'lxg.model': task.upstream.model });
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
    let upstreamMs = 0;
    const hooks = {
      onRemaining: (remaining: Remaining[]) => setRateLimitHeaders(res, remaining),
      aborted: () => aborted,
      upstreamMs: (ms: number) => (upstreamMs += ms),
    };
    const run = async () => {
      const answer = await withIdempotency(ctx, principal, req.headers[IDEMPOTENCY_HEADER], body, () => createTask(ctx, principal, task, hooks, queueOptions));
      ctx.metrics.addedSeconds.observe(Math.max(0, performance.now() - started - upstreamMs) / 1000);
      return announce(answer);
    };
    const hold = holdOf(req, res);
    return hold ? held!.createTask(principal, hold, run) : run();
  }

  /** A created task's first event (the event log's `created`). */
  function announce(answer: Answer): Answer {
    if (answer.created) ctx.events.emit('created', answer.created);
    return answer;
  }

  /** What a request's `Prefer: wait` asks for, when events are offered; the answer says it was honoured. */
  function holdOf(req: IncomingMessage, res: ApiResponse): Hold | undefined {
    const seconds = routes.events ? preferredWait(req.headers.prefer, ctx.config.events.maxWaitSeconds) : undefined;
    if (seconds === undefined) return undefined;
    res.setHeader('preference-applied', preferenceApplied(seconds));
    // The caller going away ends the wait (nobody is left to answer), and so does shutdown.
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    return { seconds, signal: AbortSignal.any([controller.signal, routes.events!.stopping]) };
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
    const taskId = parseQuery(query).taskId;
    const hold = typeof taskId === 'string' ? holdOf(req, res) : undefined;
    return hold ? held!.recordInfo(principal, taskId as string, hold, () => readTask(principal, taskId)) : readTask(principal, taskId);
  }

  async function eventsRoute(req: IncomingMessage, res: ApiResponse, query: string): Promise<void> {
    const principal = await tenant(req, res);
    await admitCall(ctx.quota, principal.quotas, principal.tenantId, ctx.clock.now(), res);
    await routes.events!.stream(principal, req, res, new URLSearchParams(query));
  }

  // The tenant's own tasks only: the store query is scoped by the authenticated tenant.
  async function listRoute(req: IncomingMessage, res: ApiResponse, query: string): Promise<Answer> {
    const principal = await tenant(req, res);
    await admitCall(ctx.quota, principal.quotas, principal.tenantId, ctx.clock.now(), res);
    const filters = parseTaskList(parseQuery(query), badParameter);
    const page = await listTaskPage(ctx.store, { ...filters, tenantId: principal.tenantId }, tenantTaskView);
    return { body: { code: 200, msg: 'success', data: page } };
  }

  async function callbackRoute(req: IncomingMessage, res: ApiResponse, target: CallbackTarget): Promise<void> {
    const payload = await routes.readBody(req, BODY_LIMIT);
    await receiveCallback({ target, payload, headers: req.headers, locals: res.locals, requestId: req.id });
    sendJson(res, 200, { code: 200, msg: 'success', data: null });
  }

  /**
   * A createTask in its trace (ops/tracing.ts): a SERVER span, child of the tenant's traceparent
   * when it sent one, current while the task is recorded and sent (the row keeps its traceparent).
   */
  function traced(req: IncomingMessage, res: ApiResponse, work: (span: GatewaySpan) => Promise<Answer>): Promise<Answer> {
    const given = req.headers.traceparent;
    const span = ctx.tracing.start('createTask', {
      kind: 'server',
      parent: typeof given === 'string' ? given : undefined,
      attributes: { 'http.route': CREATE_TASK },
    });
    return ctx.tracing
      .within(span, () => work(span))
      .then(
        (done) => {
          span.set({ 'lxg.task_id': done.log?.taskId ?? '', 'lxg.upstream_key': done.log?.upstreamKeyId ?? '' });
          return done;
        },
        (error: unknown) => {
          span.set({ 'lxg.refusal': (error as { reason?: string }).reason ?? 'internal' });
          span.fail(error);
          throw error;
        },
      )
      .finally(() => span.end());
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
    // Clients learn from any answer that live events are offered (the client's waitForTask follows them).
    if (routes.events && (path === CREATE_TASK || path === RECORD_INFO)) res.setHeader(EVENTS_HEADER, EVENTS_PATH);
    if (req.method === 'POST' && path === CREATE_TASK) {
      answer(
        CREATE_TASK,
        req,
        res,
        traced(req, res, (span) => createTaskRoute(req, res, span)),
      );
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
    if (req.method === 'GET' && path === LIST_TASKS) {
      answer(LIST_TASKS, req, res, listRoute(req, res, mark === -1 ? '' : url.slice(mark + 1)));
      return true;
    }
    if (req.method === 'GET' && path === EVENTS_PATH && routes.events) {
      eventsRoute(req, res, mark === -1 ? '' : url.slice(mark + 1)).catch((error: unknown) => sendRefusal(ctx, EVENTS_PATH, res, error, req.id));
      return true;
    }
    if (req.method === 'GET' && ctx.results?.serve && path.startsWith(`${RESULTS_PATH}/`)) {
      const serve = ctx.results.serve;
      serve(req, res, path.slice(RESULTS_PATH.length + 1), new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1))).catch((error: unknown) =>
        sendRefusal(ctx, RESULTS_ROUTE, res, error, req.id),
      );
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
