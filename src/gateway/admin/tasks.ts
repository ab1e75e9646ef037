// GET /admin/v1/tasks: every tenant's tasks (or one's), newest first, with what only the operator
// sees: the provider's task id, the provider key that created it, costs. tasks/list.ts pages it.
import { Router } from 'express';
import type { GatewayContext } from '../context.js';
import { invalidField } from '../errors.js';
import { handle } from '../respond.js';
import { adminTaskView, listTaskPage, parseTaskList } from '../tasks/list.js';

const invalid = (path: string, message: string) => invalidField({ path, message, keyword: 'format' }, 'admin_validation');

export function tasksRouter(ctx: GatewayContext): Router {
  const router = Router();
  router.get(
    '/tasks',
    handle(async (req, res) => {
      const tenant = typeof req.query.tenant === 'string' && req.query.tenant !== '' ? req.query.tenant : undefined;
      const filters = parseTaskList(req.query as Record<string, unknown>, invalid);
      const page = await listTaskPage(ctx.store, { ...filters, ...(tenant !== undefined && { tenantId: tenant }) }, adminTaskView);
      res.json({ code: 200, msg: 'success', data: page });
    }),
  );
  return router;
}
