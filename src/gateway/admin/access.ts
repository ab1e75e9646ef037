// Who may call /admin/v1: the admin token as `Authorization: Bearer`, or the dashboard's session
// cookie (dashboard/session.ts). With the cookie, a change (any method but GET/HEAD) must prove
// it comes from the dashboard's own page: X-CSRF-Token, and an Origin (when the browser sends one)
// naming the host it was sent to. The cookie is SameSite=Strict besides.
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { bearerMatches } from '../auth.js';
import type { Session, Sessions } from '../dashboard/session.js';
import { refusal, type GatewayError } from '../errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** Whether the request's Origin, when it has one, is the host it was sent to. */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Why a session's request may not go on, or undefined when it may. */
export function csrfRefusal(req: IncomingMessage, sessions: Sessions, session: Session): GatewayError | undefined {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return undefined;
  if (!sameOrigin(req)) return refusal('csrf', 'Cross-origin change refused: Origin is not this gateway');
  if (!sessions.csrfMatches(session, req.headers)) return refusal('csrf', 'A change with the dashboard session needs its X-CSRF-Token header');
  return undefined;
}

/** Express middleware for /admin/v1: the token, or a session (with CSRF proof for changes). */
export function adminAccess(token: string, sessions?: Sessions) {
  return (req: Request, res: Response, next: NextFunction) => {
    res.locals.admin = true;
    if (bearerMatches(req.headers.authorization, token)) return next();
    const session = sessions?.fromHeaders(req.headers);
    if (session) return next(csrfRefusal(req, sessions!, session));
    next(refusal('admin_auth', 'Admin token required'));
  };
}
