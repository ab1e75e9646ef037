// /healthz (the process answers), /readyz (the store answers and a provider key can serve),
// /metrics (Prometheus). No authentication: they say nothing secret.
import { Router } from 'express';
import type { GatewayContext } from '../context.js';

export function opsRouter(ctx: GatewayContext, isStopping: () => boolean): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.status(isStopping() ? 503 : 200).json({ status: isStopping() ? 'stopping' : 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await ctx.store.ping();
      checks.store = 'ok';
    } catch (error) {
      checks.store = `unreachable: ${(error as Error).message}`;
    }
    if (ctx.pool.hasUsableKey()) checks.upstreamKeys = 'ok';
    else {
      const resting = ctx.pool.status().map((k) => `${k.id}: ${k.state}`).join(', ');
      checks.upstreamKeys = ctx.pool.inMaintenance() ? 'provider in maintenance' : `no usable key: ${resting}`;
    }
    const quota = await ctx.quota.health();
    if (quota.ok) checks.quota = 'ok';
    else checks.quota = ctx.config.redis?.failOpen ? `degraded (${quota.reason}): per-instance limits (failOpen)` : quota.reason;
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
