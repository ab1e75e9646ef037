// /healthz (the process answers), /readyz (the store answers, some upstream has a key that can
// serve, and some upstream answered its last probe: ops/probe.ts), /metrics (Prometheus).
//
// /healthz says only "ok" or "stopping", so it is open on every listener: load balancers and
// liveness probes drain on it and carry no token. /readyz and /metrics name tenants (metric
// labels), provider keys and what is failing, so the config decides who sees them (`ops`):
// a listener of their own (`ops.listen`; the tenant listener then answers 404 for them), a token
// (`ops.token`), or neither when the gateway listens on loopback only (schema.ts enforces that).
import { Router, type NextFunction, type Request, type Response } from 'express';
import { redactMessage } from '../../store/url.js';
import { bearerMatches } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { refusal } from '../errors.js';
import type { UpstreamProbes } from './probe.js';
import { upstreamReadiness } from './readiness.js';

export interface OpsAccess {
  /** Serve /readyz and /metrics on this listener (false on the tenant listener when ops.listen is set). */
  served: boolean;
  /** Required as `Authorization: Bearer <token>` on /readyz and /metrics when set. */
  token?: string;
}

/** Store and Redis errors may quote their connection URL: never with its password. */
function shown(ctx: GatewayContext, message: string): string {
  const urls = [ctx.config.store, ctx.config.redis?.url].filter((url): url is string => url !== undefined);
  return urls.reduce((text, url) => redactMessage(text, url), message);
}

export function opsRouter(ctx: GatewayContext, isStopping: () => boolean, access: OpsAccess, probe?: UpstreamProbes): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.status(isStopping() ? 503 : 200).json({ status: isStopping() ? 'stopping' : 'ok' });
  });

  if (!access.served) return router;

  const { token } = access;
  if (token !== undefined) {
    router.use(['/readyz', '/metrics'], (req: Request, _res: Response, next: NextFunction) => {
      if (bearerMatches(req.headers.authorization, token)) return next();
      next(refusal('ops_auth', 'Ops token required: Authorization: Bearer <ops.token>'));
    });
  }

  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await ctx.store.ping();
      checks.store = 'ok';
    } catch (error) {
      checks.store = `unreachable: ${shown(ctx, (error as Error).message)}`;
    }
    checks.upstreamKeys = upstreamReadiness(ctx.upstreams.health());
    if (probe) {
      const probed = await probe.current();
      checks.upstream = probed.ok ? 'ok' : probed.detail;
    }
    const quota = await ctx.quota.health();
    if (quota.ok) checks.quota = 'ok';
    else {
      const reason = shown(ctx, quota.reason);
      checks.quota = ctx.config.redis?.failOpen ? `degraded (${reason}): per-instance limits (failOpen)` : reason;
    }
    if (isStopping()) checks.lifecycle = 'stopping';
    const ready = Object.values(checks).every((v) => v === 'ok' || v.startsWith('degraded'));
    res.status(ready ? 200 : 503).json({ ready, checks });
  });

  router.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', ctx.metrics.registry.contentType);
    res.send(await ctx.metrics.registry.metrics());
  });

  return router;
}
