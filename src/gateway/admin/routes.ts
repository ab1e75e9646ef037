// The operator's API under /admin/v1 (who may call it: access.ts): tenants, their keys, the
// provider keys' states. Bodies are validated against openapi/gateway.yaml. Secrets never appear
// in an answer except a newly issued tenant key, once.
import { randomBytes } from 'node:crypto';
import { Router, type Request } from 'express';
import type { SpecValidator } from '../../spec/validator.js';
import { TENANT_SETTING_DEFAULTS } from '../../config/index.js';
import type { components } from '../../generated/gateway.js';
import type { TenantKeyRow, TenantRow, TenantSettings } from '../../store/types.js';
import { hashKey, keyIdFromHash } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { invalidRequest, refusal } from '../errors.js';
import { handle } from '../respond.js';
import { statsRouter } from './stats.js';
import { taskLookupRouter } from './task-lookup.js';
import { usageRouter } from './usage.js';

type Api = components['schemas'];

/** The admin API's envelope around an answer (openapi/gateway.yaml `Ok`). */
const ok = <T>(data: T): Api['Ok'] & { data: T } => ({ code: 200, msg: 'success', data });

function tenantView(t: TenantRow): Api['Tenant'] {
  const settings = { ...TENANT_SETTING_DEFAULTS, ...t.settings };
  return {
    id: t.id,
    models: t.models,
    quotas: t.quotas ?? {},
    validation: { unknownFields: settings.unknownFields },
    errors: { httpStatus: settings.httpStatus },
    disabled: t.disabled,
    source: t.source,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

/** The admin API's per-tenant sections, as the store keeps them (one object of settings). */
type SettingsInput = Pick<Api['CreateTenantRequest'], 'validation' | 'errors'>;

/** The stored settings with the given sections over them; undefined when none was given. */
function settingsOf(input: SettingsInput, current: TenantSettings = {}): TenantSettings | undefined {
  if (!input.validation && !input.errors) return undefined;
  return { ...current, ...input.validation, ...input.errors };
}

function keyView(k: TenantKeyRow): Api['TenantKey'] {
  return { id: k.id, label: k.label, source: k.source, createdAt: k.createdAt, revokedAt: k.revokedAt };
}

export function adminRouter(ctx: GatewayContext, gatewaySpec: SpecValidator): Router {
  const router = Router();

  function body<T>(req: Request, schema: string, optional = false): T {
    const value = req.body === undefined && optional ? {} : req.body;
    const checked = gatewaySpec.validateSchema<T>(schema, value);
    if (!checked.ok) throw invalidRequest(checked, 'admin_validation');
    return checked.value;
  }

  async function tenantOr404(id: string): Promise<TenantRow> {
    const tenant = await ctx.store.getTenant(id);
    if (!tenant) throw refusal('not_found', `No tenant ${id}`);
    return tenant;
  }

  router.get('/tenants', handle(async (_req, res) => {
    res.json(ok((await ctx.store.listTenants()).map(tenantView)));
  }));

  router.post('/tenants', handle(async (req, res) => {
    const input = body<Api['CreateTenantRequest']>(req, 'CreateTenantRequest');
    if (await ctx.store.getTenant(input.id)) throw refusal('conflict', `Tenant ${input.id} exists`);
    const tenant = await ctx.store.upsertTenant({ id: input.id, models: input.models ?? null, quotas: input.quotas ?? null, settings: settingsOf(input) ?? null, disabled: input.disabled ?? false, source: 'admin' }, ctx.clock.now());
    res.status(201).json(ok(tenantView(tenant)));
  }));

  router.patch('/tenants/:tenantId', handle(async (req, res) => {
    const { validation, errors, ...patch } = body<Api['UpdateTenantRequest']>(req, 'UpdateTenantRequest');
    const current = await tenantOr404(req.params.tenantId as string);
    const settings = settingsOf({ validation, errors }, current.settings);
    const tenant = await ctx.store.updateTenant(req.params.tenantId as string, { ...patch, ...(settings && { settings }) }, ctx.clock.now());
    res.json(ok(tenantView(tenant!)));
  }));

  router.get('/tenants/:tenantId/keys', handle(async (req, res) => {
    const tenant = await tenantOr404(req.params.tenantId as string);
    res.json(ok((await ctx.store.listTenantKeys(tenant.id)).map(keyView)));
  }));

  router.post('/tenants/:tenantId/keys', handle(async (req, res) => {
    const input = body<Api['IssueKeyRequest']>(req, 'IssueKeyRequest', true);
    const tenant = await tenantOr404(req.params.tenantId as string);
    const secret = `lxg_${randomBytes(24).toString('base64url')}`;
    const hash = hashKey(secret);
    const id = keyIdFromHash(hash);
    await ctx.store.addTenantKey({ id, tenantId: tenant.id, hash, label: input.label ?? null, source: 'admin', createdAt: ctx.clock.now() });
    res.locals.tenantId = tenant.id;
    res.status(201).json(ok({ id, tenantId: tenant.id, secret }));
  }));

  router.delete('/tenants/:tenantId/keys/:keyId', handle(async (req, res) => {
    const tenant = await tenantOr404(req.params.tenantId as string);
    const revoked = await ctx.store.revokeTenantKey(tenant.id, req.params.keyId as string, ctx.clock.now());
    if (!revoked) throw refusal('not_found', `Tenant ${tenant.id} has no key ${req.params.keyId}`);
    res.json(ok(null));
  }));

  router.get('/upstream-keys', (_req, res) => {
    res.json(ok(ctx.upstreams.health().flatMap((u) => u.keys.map((k) => ({ ...k, upstream: u.id })))));
  });

  router.get('/upstreams', (_req, res) => {
    res.json(ok(ctx.upstreams.health()));
  });

  router.use(usageRouter(ctx));
  router.use(statsRouter(ctx));
  router.use(taskLookupRouter(ctx));

  router.get('/deliveries', handle(async (req, res) => {
    const tenant = typeof req.query.tenant === 'string' && req.query.tenant ? req.query.tenant : undefined;
    const taskId = typeof req.query.taskId === 'string' && req.query.taskId ? req.query.taskId : undefined;
    const limit = Math.min(Math.max(Number(req.query.limit ?? 100) || 100, 1), 1000);
    res.json(ok(await ctx.store.listDeliveries({ tenantId: tenant, taskId, limit })));
  }));

  router.post('/deliveries/:deliveryId/redeliver', handle(async (req, res) => {
    const delivery = await ctx.store.redeliver(req.params.deliveryId as string, ctx.clock.now());
    if (!delivery) throw refusal('not_found', `No delivery ${req.params.deliveryId}`);
    ctx.events.emit('delivery');
    res.json(ok(delivery));
  }));

  return router;
}
