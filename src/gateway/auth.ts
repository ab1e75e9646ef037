// Step 1 of the data path: who is calling. Tenant keys are compared by their SHA-256 and looked
// up in the store, or in the key cache (auth-cache/), which every change to tenants or keys
// clears on every instance, so a revoke (or a disabled tenant) takes effect at once everywhere;
// while the cache cannot hear of changes (its bus is down) every call goes to the store. The
// checks (revoked, disabled) run on every call, cached or not. The secret itself is never
// stored, logged or echoed.
import { createHash, timingSafeEqual } from 'node:crypto';
import { TENANT_SETTING_DEFAULTS } from '../config/index.js';
import type { DialectSettings, KeyLookup, QuotaSettings, Store, TenantSettings } from '../store/types.js';
import type { KeyCache } from './auth-cache/key-cache.js';
import { refusal } from './errors.js';

export interface Principal {
  tenantId: string;
  keyId: string;
  /** Model allow-list; null = every model. */
  models: string[] | null;
  /** The tenant's quotas (config or admin API), read with the key: no extra lookup per call. */
  quotas: QuotaSettings;
  /** The tenant's settings: the dialect's with their defaults filled in, and its own queue settings. */
  settings: Required<DialectSettings> & Pick<TenantSettings, 'queue'>;
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

export interface AuthCache {
  cache: KeyCache<Principal>;
  /** Whether changes made on other instances are heard now; when not, the cache is bypassed. */
  live(): boolean;
}

/** Built once per key lookup (then kept with it): quotas and settings decoded, defaults filled in. */
function principalOf(found: KeyLookup): Principal {
  return Object.freeze({
    tenantId: found.tenantId,
    keyId: found.keyId,
    models: found.models,
    quotas: Object.freeze(found.quotas ?? {}),
    settings: Object.freeze({ ...TENANT_SETTING_DEFAULTS, ...found.settings }),
    hasWebhookSecret: found.hasWebhookSecret,
  });
}

/** `now` is the gateway's clock: a key's expiry (expiresAt) is judged by it, on every call (cached or not). */
export function createAuthenticator(store: Store, cached?: AuthCache, now: () => number = Date.now) {
  async function lookup(hash: string): Promise<{ found: KeyLookup; principal: Principal } | undefined> {
    const useCache = cached?.cache.enabled === true && cached.live();
    if (useCache) {
      const hit = cached.cache.get(hash);
      if (hit) return hit;
    }
    const generation = cached?.cache.generation() ?? 0;
    const found = await store.findKeyByHash(hash);
    if (!found) return undefined; // unknown keys are never kept: a scan cannot fill the cache
    const entry = { found, principal: principalOf(found) };
    if (useCache) cached.cache.set(hash, generation, entry);
    return entry;
  }

  return async function authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw unauthorized('Missing Authorization: Bearer <tenant key>');
    const entry = await lookup(hashKey(match[1]!));
    // One message for unknown, revoked, expired and disabled: a caller learns nothing about other keys.
    const expired = entry?.found.expiresAt != null && entry.found.expiresAt <= now();
    if (!entry || entry.found.revoked || expired || entry.found.tenantDisabled) throw unauthorized('Invalid or revoked API key');
    return entry.principal;
  };
}
