// The operator's API under /admin/v1 (who may call it: access.ts): tenants and their keys (admin/tenants.ts),
// provider keys (admin/upstream-keys.ts), tasks (admin/tasks.ts), usage, deliveries. Bodies are
// validated against openapi/gateway.yaml. Secrets never appear in an answer except a newly
// issued tenant key or webhook secret, once.
import { Router, type Request } from 'express';
import type { SpecValidator } from '../../spec/validator.js';
import type { GatewayContext } from '../context.js';
import { invalidRequest, refusal } from '../errors.js';
import { handle } from '../respond.js';
import type { UpstreamKeySync } from '../upstream-keys.js';
import { ConfigError } from '../../config/index.js';
import { ReloadUnavailableError, type Reloader } from '../reload.js';
import { type AdminHelpers, ok } from './parts.js';
import { statsRouter } from './stats.js';
import { taskLookupRouter } from './task-lookup.js';
import { tasksRouter } from './tasks.js';
import { tenantsRouter } from './tenants.js';
import { upstreamKeysRouter } from './upstream-keys.js';
import { usageRouter } from './usage.js';

export interface AdminParts {
  keySync: UpstreamKeySync;
  reloader: Reloader;
}

export function adminRouter(ctx: GatewayContext, gatewaySpec: SpecValidator, parts: AdminParts): Router {
  const router = Router();

  const helpers: AdminHelpers = {
    body<T>(req: Request, schema: string, optional = false): T {
      const value = req.body === undefined && optional ? {} : req.body;
      const checked = gatewaySpec.validateSchema<T>(schema, value);
      if (!checked.ok) throw invalidRequest(checked, 'admin_validation');
      return checked.value;
    },
    async tenantOr404(id) {
      const tenant = await ctx.store.getTenant(id);
      if (!tenant) throw refusal('not_found', `No tenant ${id}`);
      return tenant;
    },
  };

  router.use(tenantsRouter(ctx, helpers));
  router.use(upstreamKeysRouter(ctx, helpers, parts.keySync));
  router.use(tasksRouter(ctx));
  router.use(taskLookupRouter(ctx));
  router.use(statsRouter(ctx));
  router.use(usageRouter(ctx));
  router.get(
    '/deliveries',
    handle(async (req, res) => {
      const tenant = typeof req.query.tenant === 'string' && req.query.tenant ? req.query.tenant : undefined;
      const taskId = typeof req.query.taskId === 'string' && req.query.taskId ? req.query.taskId : undefined;
      const limit = Math.min(Math.max(Number(req.query.limit ?? 100) || 100, 1), 1000);
      res.json(ok(await ctx.store.listDeliveries({ tenantId: tenant, taskId, limit })));
    }),
  );

  router.post(
    '/deliveries/:deliveryId/redeliver',
    handle(async (req, res) => {
      const delivery = await ctx.store.redeliver(req.params.deliveryId as string, ctx.clock.now());
      if (!delivery) throw refusal('not_found', `No delivery ${req.params.deliveryId}`);
      ctx.events.emit('delivery');
      res.json(ok(delivery));
    }),
  );

  // The config file again (reload.ts); a bad file is refused with its error, the running config kept.
  router.post(
    '/reload',
    handle(async (_req, res) => {
      try {
        res.json(ok(await parts.reloader.reload()));
      } catch (error) {
        if (error instanceof ConfigError) throw refusal('admin_validation', `The config file was not reloaded, the running config is kept: ${error.message}`);
        if (error instanceof ReloadUnavailableError) throw refusal('conflict', error.message);
        throw error;
      }
    }),
  );

  return router;
}
