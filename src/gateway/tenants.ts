// Applies the config's tenants and keys to the store, at start and at every reload. Config keys
// are only ever stored hashed; keys and tenants created through the admin API live in the store
// alone.
//
// The rule between the two (README "Config and admin API"): the store wins once a tenant was
// changed through the admin API. Such a change marks the row `source: admin`, and from then on
// its models, quotas, settings (queue settings too), disabled and webhook secret are left alone here, so a tenant
// disabled during an incident is not enabled again by the next deploy. Its config keys are
// still added (keys only ever add; a revoked one stays revoked). To hand the tenant back to the
// config, delete it through the admin API after removing it from the config, or edit the store.
import type { Config } from '../config/index.js';
import type { Store } from '../store/types.js';
import { hashFromConfig, keyIdFromHash } from './auth.js';
import { rotated } from './callbacks/secrets.js';

export interface SeedOptions {
  /** How long a webhook secret replaced in the config still signs (callbacks.secretOverlapMs). */
  secretOverlapMs: number;
}

export async function seedTenants(store: Store, tenants: Config['tenants'], now: number, options: SeedOptions): Promise<void> {
  for (const tenant of tenants) {
    const stored = await store.getTenant(tenant.id);
    if (stored?.source !== 'admin') {
      await store.upsertTenant(
        {
          id: tenant.id,
          models: tenant.models ? [...tenant.models] : null,
          quotas: tenant.quotas ? { ...tenant.quotas } : null,
          settings: {
            unknownFields: tenant.validation.unknownFields,
            httpStatus: tenant.errors.httpStatus,
            ...(tenant.queue && { queue: { ...tenant.queue } }),
          },
          disabled: tenant.disabled,
          source: 'config',
        },
        now,
      );
      await applyConfigSecret(store, tenant.id, tenant.webhookSecret, now, options.secretOverlapMs);
    } else if (tenant.queue && stored.settings?.queue === undefined) {
      // Changed through the admin API before the store kept queue settings: the config's were
      // the ones in effect, so they are carried over once (a tenant given `queue` there has one).
      await store.updateTenant(tenant.id, { settings: { ...stored.settings, queue: { ...tenant.queue } } }, now);
    }
    for (const entry of tenant.apiKeys) {
      const hash = hashFromConfig(entry);
      await store.addTenantKey({ id: keyIdFromHash(hash), tenantId: tenant.id, hash, label: 'config', source: 'config', createdAt: now });
    }
  }
}

/** The config's secret becomes the current one; one it replaces keeps signing for the overlap. */
async function applyConfigSecret(store: Store, tenantId: string, secret: string | undefined, now: number, overlapMs: number): Promise<void> {
  const current = await store.getWebhookSecrets(tenantId);
  if (secret === undefined) {
    if (current) await store.setWebhookSecrets(tenantId, null, now);
    return;
  }
  if (current?.current === secret) return;
  await store.setWebhookSecrets(tenantId, rotated(current, secret, now, overlapMs), now);
}
