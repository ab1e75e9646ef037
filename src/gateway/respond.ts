// The one place an answer or a refusal becomes an HTTP response in the API's envelope.
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import type { GatewayContext } from './context.js';
import { GatewayError } from './errors.js';
import type { Answer } from './tasks/create.js';

export function routeLabel(req: Request): string {
  return (req.route?.path as string | undefined) ?? 'unmatched';
}

function count(ctx: GatewayContext, req: Request, res: Response, code: number): void {
  ctx.metrics.requests.inc({ route: routeLabel(req), code: String(code), tenant: (res.locals.tenantId as string | undefined) ?? '' });
}

export function sendAnswer(ctx: GatewayContext, req: Request, res: Response, answer: Answer): void {
  Object.assign(res.locals, answer.log);
  count(ctx, req, res, 200);
  res.status(200).json(answer.body);
}

/** Wraps an async handler so its refusals reach the error handler. */
export function handle(fn: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };
}

export function errorHandler(ctx: GatewayContext): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let refusal: GatewayError;
    if (error instanceof GatewayError) refusal = error;
    else if (error?.type === 'entity.parse.failed') refusal = new GatewayError({ code: 400, msg: 'Request body is not valid JSON', reason: 'bad_json' });
    else if (error?.type === 'entity.too.large') refusal = new GatewayError({ code: 413, msg: 'Request body is too large', reason: 'too_large' });
    else {
      ctx.logger.error({ err: error, reqId: req.id }, 'unexpected error');
      refusal = new GatewayError({ code: 500, msg: 'Internal error', reason: 'internal' });
    }
    ctx.metrics.refusals.inc({ reason: refusal.reason });
    count(ctx, req, res, refusal.code);
    if (refusal.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(refusal.retryAfterSeconds));
    res.status(refusal.httpStatus).json({ code: refusal.code, msg: refusal.msg, data: refusal.data });
  };
}
