// The one place an answer or a refusal becomes an HTTP response in the API's envelope, for the
// plain node:http routes (http/api.ts) and the Express ones (admin, ops) alike.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import type { GatewayContext } from './context.js';
import { GatewayError, refusal } from './errors.js';
import { notJson, requestAborted, tooLarge } from './http/body.js';
import type { Answer, ApiResponse } from './http/types.js';

export type { ApiResponse, RequestLocals } from './http/types.js';

/** The route's path as declared (a metric label: bounded, no ids). */
export function routeLabel(req: Request): string {
  return (req.route?.path as string | undefined) ?? 'unmatched';
}

/**
 * The route an answered request took, for the response time histogram: the API's (set when it
 * answered), else Express's mount point and declared path (`/admin/v1/tenants/:tenantId`).
 */
export function answeredRoute(req: IncomingMessage, res: ApiResponse): string {
  if (res.locals.route !== undefined && res.locals.route !== 'unmatched') return res.locals.route;
  const express = req as Partial<Request>;
  const declared = express.route?.path as string | undefined;
  return declared === undefined ? 'unmatched' : `${express.baseUrl ?? ''}${declared}`;
}

function count(ctx: GatewayContext, route: string, res: ApiResponse, code: number): void {
  res.locals.route = route;
  ctx.metrics.requests.inc({ route, code: String(code), tenant: res.locals.tenantId ?? '' });
}

/** JSON with its length, in one write. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendAnswer(ctx: GatewayContext, route: string, res: ApiResponse, answer: Answer): void {
  Object.assign(res.locals, answer.log);
  if (answer.headers) for (const name in answer.headers) res.setHeader(name, answer.headers[name]!);
  count(ctx, route, res, 200);
  sendJson(res, 200, answer.body);
}

/**
 * Any error as the envelope: a GatewayError as it says, a body-parser error as what the sender
 * did (400, 413, 499 gone), anything else as 500 (logged).
 */
export function sendRefusal(ctx: GatewayContext, route: string, res: ApiResponse, error: unknown, requestId?: string): void {
  const refusal = toRefusal(error, res);
  if (refusal.code === 500 && !(error instanceof GatewayError)) ctx.logger.error({ err: error, reqId: requestId }, 'unexpected error');
  ctx.metrics.refusals.inc({ reason: refusal.reason });
  count(ctx, route, res, refusal.code);
  if (res.headersSent || res.destroyed) {
    // Nothing more can be said on this response; end it so the caller is not left hanging.
    res.end();
    return;
  }
  if (refusal.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(refusal.retryAfterSeconds));
  // Refused before its body was read: Node would read the rest to reuse the connection, and a
  // sender could drip it until the request timeout. Close it instead.
  if (res.req && !res.req.complete) res.setHeader('connection', 'close');
  sendJson(res, refusal.httpStatus(res.locals.httpStatus ?? 'provider'), { code: refusal.code, msg: refusal.msg, data: refusal.data });
}

/** body-parser's refusals (Express routes), by its error type; its own messages may echo headers. */
const badBody = (msg: string) => () => refusal('bad_body', msg);
const BODY_PARSER = new Map<unknown, () => GatewayError>([
  ['entity.parse.failed', notJson],
  ['entity.too.large', tooLarge],
  ['request.size.invalid', badBody('Request body is shorter or longer than its Content-Length')],
  ['encoding.unsupported', badBody('Request body encoding is not supported (identity, gzip or deflate)')],
  ['charset.unsupported', badBody('Request body charset is not supported (utf-8)')],
]);

function toRefusal(error: unknown, res: ApiResponse): GatewayError {
  if (error instanceof GatewayError) return error;
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'request.aborted') return requestAborted(res.req);
  const known = BODY_PARSER.get(type);
  if (known) return known();
  return refusal('internal', 'Internal error');
}

/** Wraps an async Express handler so its refusals reach the error handler. */
export function handle(fn: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };
}

export function errorHandler(ctx: GatewayContext): ErrorRequestHandler {
  return (error, req, res, _next) => {
    sendRefusal(ctx, routeLabel(req), res as unknown as ApiResponse, error, req.id);
  };
}
