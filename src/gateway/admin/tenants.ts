// /admin/v1/tenants: tenants, their keys and their webhook secret. Secrets never appear in an
// answer except a newly issued tenant key or a newly set webhook secret, once, in that answer.
//
// Config and admin API (tenants.ts states the rule): any change made here to a tenant the config
// defines marks it `source: admin`, and from then on the store wins for it. Deleting a tenant
// the config defines is refused (409): the config would bring it back at the next start.
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { TENANT_SETTING_DEFAULTS, tenantQueueSchema } from '../../config/index.js';
import type { components } from '../../generated/gateway.js';
import type { TenantKeyRow, TenantRow, TenantSettings } from '../../store/types.js';
import { hashKey, keyIdFromHash } from '../auth.js';
import { newWebhookSecret, rotated } from '../callbacks/secrets.js';
import type { GatewayContext } from '../context.js';
import { invalidField, refusal } from '../errors.js';
import { handle } from '../respond.js';
import type { AdminHelpers } from './parts.js';

type Schemas = components['schemas'];

export function tenantView(ctx: GatewayContext, t: TenantRow): Schemas['Tenant'] {
  const settings = { ...TENANT_SETTING_DEFAULTS, ...t.settings };
  return {
    id: t.id,
    models: t.models,
    quotas: t.quotas ?? {},
    validation: { unknownFields: settings.unknownFields },
    errors: { httpStatus: settings.httpStatus },
    // In effect now (JSON leaves out a maxQueued or cancelAfterMs that is none).
    queue: ctx.queueSettings(t.settings?.queue),
    disabled: t.disabled,
    source: t.source,
    hasWebhookSecret: t.hasWebhookSecret === true,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

/** The admin API's per-tenant sections, as the store keeps them (one object of settings). */
type SettingsInput = Pick<Schemas['UpdateTenantRequest'], 'validation' | 'errors' | 'queue'>;

/**
 * A `queue` section checked by the config's own schema (the spec states the same rules; a test
 * holds them together), so a setting the config would refuse cannot come in this way.
 */
function queueOf(input: SettingsInput['queue']): Pick<TenantSettings, 'queue'> {
  if (input === undefined) return {};
  const parsed = tenantQueueSchema.safeParse(input);
  if (parsed.success) return { queue: parsed.data };
  const issue = parsed.error.issues[0]!;
  throw invalidField({ path: ['queue', ...issue.path].join('.'), message: issue.message, keyword: issue.code }, 'admin_validation');
}

/** The stored settings with the given sections over them (`queue` as a whole); undefined when none was given. */
function settingsOf(input: SettingsInput, current: TenantSettings = {}): TenantSettings | undefined {
  if (!input.validation && !input.errors && !input.queue) return undefined;
  return { ...current, ...input.validation, ...input.errors, ...queueOf(input.queue) };
}

function keyView(k: TenantKeyRow): Schemas['TenantKey'] {
  return { id: k.id, label: k.label, source: k.source, createdAt: k.createdAt, revokedAt: k.revokedAt, expiresAt: k.expiresAt ?? null };
}

import { ok } from './parts.js';

export function tenantsRouter(ctx: GatewayContext, { body, tenantOr404 }: AdminHelpers): Router {
  const router = Router();
  const inConfig = (id: string) => ctx.config.tenants.some((t) => t.id === id);

  router.get(
    '/tenants',
    handle(async (_req, res) => {
      res.json(ok((await ctx.store.listTenants()).map((t) => tenantView(ctx, t))));
    }),
  );

  router.post(
    '/tenants',
    handle(async (req, res) => {
      const input = body<Schemas['CreateTenantRequest']>(req, 'CreateTenantRequest');
      if (await ctx.store.getTenant(input.id)) throw refusal('conflict', `Tenant ${input.id} exists`);
      const tenant = await ctx.store.upsertTenant(
        {
          id: input.id,
          models: input.models ?? null,
          quotas: input.quotas ?? null,
          settings: settingsOf(input) ?? null,
          disabled: input.disabled ?? false,
          source: 'admin',
        },
        ctx.clock.now(),
      );
      res.status(201).json(ok(tenantView(ctx, tenant)));
    }),
  );

  router.get(
    '/tenants/:tenantId',
    handle(async (req, res) => {
      res.json(ok(tenantView(ctx, await tenantOr404(req.params.tenantId as string))));
    }),
  );

  router.patch(
    '/tenants/:tenantId',
    handle(async (req, res) => {
      const { validation, errors, queue, ...patch } = body<Schemas['UpdateTenantRequest']>(req, 'UpdateTenantRequest');
      const current = await tenantOr404(req.params.tenantId as string);
      const settings = settingsOf({ validation, errors, queue }, current.settings);
      // The store wins from now on (tenants.ts): the config no longer undoes this at start.
      const tenant = await ctx.store.updateTenant(current.id, { ...patch, ...(settings && { settings }), source: 'admin' }, ctx.clock.now());
      res.json(ok(tenantView(ctx, tenant!)));
    }),
  );

  router.delete(
    '/tenants/:tenantId',
    handle(async (req, res) => {
      const tenant = await tenantOr404(req.params.tenantId as string);
      if (inConfig(tenant.id)) {
        throw refusal(
          'conflict',
          `Tenant ${tenant.id} is defined in the config file: remove it there (it would come back at the next start), or disable it with PATCH`,
        );
      }
      await ctx.store.deleteTenant(tenant.id);
      res.json(ok(null));
    }),
  );

  router.post(
    '/tenants/:tenantId/webhook-secret',
    handle(async (req, res) => {
      const input = body<Schemas['WebhookSecretRequest']>(req, 'WebhookSecretRequest', true);
      const tenant = await tenantOr404(req.params.tenantId as string);
      const now = ctx.clock.now();
      const overlapMs = input.overlapSeconds === undefined ? ctx.config.callbacks.secretOverlapMs : input.overlapSeconds * 1000;
      const secrets = rotated(await ctx.store.getWebhookSecrets(tenant.id), input.secret ?? newWebhookSecret(), now, overlapMs);
      await ctx.store.setWebhookSecrets(tenant.id, secrets, now);
      if (tenant.source !== 'admin') await ctx.store.updateTenant(tenant.id, { source: 'admin' }, now);
      res.locals.tenantId = tenant.id;
      res.json(ok({ tenantId: tenant.id, secret: secrets.current, previousValidUntil: secrets.previousUntil }));
    }),
  );

  router.get(
    '/tenants/:tenantId/keys',
    handle(async (req, res) => {
      const tenant = await tenantOr404(req.params.tenantId as string);
      res.json(ok((await ctx.store.listTenantKeys(tenant.id)).map(keyView)));
    }),
  );

  router.post(
    '/tenants/:tenantId/keys',
    handle(async (req, res) => {
      const input = body<Schemas['IssueKeyRequest']>(req, 'IssueKeyRequest', true);
      const tenant = await tenantOr404(req.params.tenantId as string);
      const secret = `lxg_${randomBytes(24).toString('base64url')}`;
      const hash = hashKey(secret);
      const id = keyIdFromHash(hash);
      await ctx.store.addTenantKey({
        id,
        tenantId: tenant.id,
        hash,
        label: input.label ?? null,
        source: 'admin',
        createdAt: ctx.clock.now(),
        ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
      });
      res.locals.tenantId = tenant.id;
      res.status(201).json(ok({ id, tenantId: tenant.id, secret }));
    }),
  );

  router.patch(
    '/tenants/:tenantId/keys/:keyId',
    handle(async (req, res) => {
      const input = body<Schemas['UpdateKeyRequest']>(req, 'UpdateKeyRequest');
      const tenant = await tenantOr404(req.params.tenantId as string);
      const changed = await ctx.store.updateTenantKey(tenant.id, req.params.keyId as string, input);
      if (!changed) throw refusal('not_found', `Tenant ${tenant.id} has no key ${req.params.keyId}`);
      res.json(ok(null));
    }),
  );

  router.delete(
    '/tenants/:tenantId/keys/:keyId',
    handle(async (req, res) => {
      const tenant = await tenantOr404(req.params.tenantId as string);
      const revoked = await ctx.store.revokeTenantKey(tenant.id, req.params.keyId as string, ctx.clock.now());
      if (!revoked) throw refusal('not_found', `Tenant ${tenant.id} has no key ${req.params.keyId}`);
      res.json(ok(null));
    }),
  );

  return router;
}
