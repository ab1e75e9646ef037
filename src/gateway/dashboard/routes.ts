// /dashboard: the operator's web UI (its built files) and its session. Signing in trades the
// admin token for a session cookie (session.ts); the page then calls /admin/v1 with the cookie
// and, for changes, the CSRF token it reads from GET /dashboard/session.
import type { TLSSocket } from 'node:tls';
import express, { Router, type Request, type Response } from 'express';
import type { SpecValidator } from '../../spec/validator.js';
import { csrfRefusal, sameOrigin } from '../admin/access.js';
import type { GatewayContext } from '../context.js';
import { invalidRequest, refusal } from '../errors.js';
import { handle } from '../respond.js';
import { assetsHandler } from './assets.js';
import type { Session, Sessions } from './session.js';

export interface DashboardOptions {
  sessions: Sessions;
  gatewaySpec: SpecValidator;
  /** The built files (assets.ts defaultAssetsDir()). */
  assetsDir: string;
}

const sessionData = (session: Session) => ({ csrf: session.csrf, expiresAt: session.expiresAt });

export function dashboardRouter(ctx: GatewayContext, options: DashboardOptions): Router {
  const { sessions } = options;
  const router = Router();
  // Secure when the browser reaches the gateway over https: directly, or through the publicUrl's proxy.
  const secure = (req: Request) => ctx.publicUrl().startsWith('https:') || (req.socket as TLSSocket).encrypted === true;

  router.post(
    '/session',
    express.json({ limit: '4kb' }),
    handle(async (req: Request, res: Response) => {
      // A page of another site must not sign a browser in either (login CSRF).
      if (!sameOrigin(req)) throw refusal('csrf', 'Cross-origin sign-in refused: Origin is not this gateway');
      const checked = options.gatewaySpec.validateSchema<{ token: string }>('SignInRequest', req.body);
      if (!checked.ok) throw invalidRequest(checked, 'admin_validation');
      if (!sessions.isAdminToken(checked.value.token)) throw refusal('admin_auth', 'Wrong admin token');
      const { session, setCookie } = sessions.issue(secure(req));
      res.setHeader('set-cookie', setCookie);
      res.setHeader('cache-control', 'no-store');
      res.json({ code: 200, msg: 'success', data: sessionData(session) });
    }),
  );

  router.get('/session', (req, res, next) => {
    const session = sessions.fromHeaders(req.headers);
    if (!session) return next(refusal('admin_auth', 'Not signed in'));
    res.setHeader('cache-control', 'no-store');
    res.json({ code: 200, msg: 'success', data: sessionData(session) });
  });

  router.delete('/session', (req, res, next) => {
    const session = sessions.fromHeaders(req.headers);
    if (session) {
      const refused = csrfRefusal(req, sessions, session);
      if (refused) return next(refused);
    }
    res.setHeader('set-cookie', sessions.clearCookie(secure(req)));
    res.json({ code: 200, msg: 'success', data: null });
  });

  // The page's own links are relative to /dashboard/: send the bare path there.
  router.get('/', (req, res, next) => (req.originalUrl === '/dashboard' ? res.redirect(301, '/dashboard/') : next()));
  router.use(assetsHandler(options.assetsDir));
  return router;
}
