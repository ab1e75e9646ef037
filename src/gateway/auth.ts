// Step 1 of the data path: who is calling. Tenant keys are compared by their SHA-256, looked up
// in the store on every request, so a revoke (or a disabled tenant) takes effect at once on
// every instance; the secret itself is never stored, logged or echoed.
import { createHash, timingSafeEqual } from 'node:crypto';
import { TENANT_SETTING_DEFAULTS } from '../config/index.js';
import type { QuotaSettings, Store, TenantSettings } from '../store/types.js';
import { refusal } from './errors.js';

export interface Principal {
  tenantId: string;
  keyId: string;
  /** Model allow-list; null = every model. */
  models: string[] | null;
  /** The tenant's quotas (config or admin API), read with the key: no extra lookup per call. */
  quotas: QuotaSettings;
  /** The tenant's dialect settings, defaults filled in. */
  settings: Required<TenantSettings>;
  /** Whether the tenant can sign callbacks (a callBackUrl needs it); absent = no. */
  hasWebhookSecret?: boolean;
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A config entry is either `sha256:<hex>` or the secret itself. */
export function hashFromConfig(entry: string): string {
  return entry.startsWith('sha256:') ? entry.slice('sha256:'.length).toLowerCase() : hashKey(entry);
}

/** A short public id for a key, derived from its hash: the same key has the same id everywhere. */
export function keyIdFromHash(hash: string): string {
  return `tk_${hash.slice(0, 12)}`;
}

/**
 * Whether an Authorization header carries `Bearer <secret>`, for the operator's own tokens (admin,
 * ops). Both sides are hashed so the comparison is constant-time whatever their lengths.
 */
export function bearerMatches(authorization: string | undefined, secret: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return false;
  return timingSafeEqual(createHash('sha256').update(match[1]!).digest(), createHash('sha256').update(secret).digest());
}

const unauthorized = (msg: string) => refusal('auth', msg);

/** `now` is the gateway's clock: a key's expiry (expiresAt) is judged by it. */
export function createAuthenticator(store: Store, now: () => number = Date.now) {
  return async function authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw unauthorized('Missing Authorization: Bearer <tenant key>');
    const found = await store.findKeyByHash(hashKey(match[1]!));
    // One message for unknown, revoked, expired and disabled: a caller learns nothing about other keys.
    const expired = found?.expiresAt != null && found.expiresAt <= now();
    if (!found || found.revoked || expired || found.tenantDisabled) throw unauthorized('Invalid or revoked API key');
    return {
      tenantId: found.tenantId,
      keyId: found.keyId,
      models: found.models,
      quotas: found.quotas ?? {},
      settings: { ...TENANT_SETTING_DEFAULTS, ...found.settings },
      hasWebhookSecret: found.hasWebhookSecret,
    };
  };
}
