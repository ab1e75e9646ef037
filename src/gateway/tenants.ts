// Applies the config's tenants and keys to the store at start. Config keys are only ever stored
// hashed; keys and tenants created through the admin API live in the store alone.
import type { Config } from '../config/index.js';
import type { Store } from '../store/types.js';
import { hashFromConfig, keyIdFromHash } from './auth.js';

export async function seedTenants(store: Store, tenants: Config['tenants'], now: number): Promise<void> {
  for (const tenant of tenants) {
    await store.upsertTenant(
      {
        id: tenant.id,
        models: tenant.models ? [...tenant.models] : null,
        quotas: tenant.quotas ? { ...tenant.quotas } : null,
        settings: { unknownFields: tenant.validation.unknownFields, httpStatus: tenant.errors.httpStatus },
        disabled: tenant.disabled,
        source: 'config',
      },
      now,
    );
    for (const entry of tenant.apiKeys) {
      const hash = hashFromConfig(entry);
      await store.addTenantKey({ id: keyIdFromHash(hash), tenantId: tenant.id, hash, label: 'config', source: 'config', createdAt: now });
    }
  }
}
