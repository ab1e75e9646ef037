// The quota step of the data path: asks the quota backend (in memory, or Redis for every
// instance) whether the tenant may make this call, and turns its answer into the envelope's
// refusals and the IETF draft RateLimit headers that every answer to a tenant carries.
import type { ServerResponse } from 'node:http';
import type { Config, TenantQuotas } from '../config/index.js';
import { isCountLimit, LIMITS } from '../quota/limits.js';
import { createLocalQuota } from '../quota/local.js';
import { createRedisQuota } from '../quota/redis.js';
import type { Admission, QuotaUnavailableError, QuotaBackend, Refusal, Remaining } from '../quota/types.js';
import { UNAVAILABLE_RETRY_MS } from '../quota/remaining.js';
import { startOfDay, startOfMonth } from '../quota/windows.js';
import type { Store } from '../store/types.js';
import type { Logger } from 'pino';
import { refusal, secondsFrom, type GatewayError } from './errors.js';

/** A tenant's usage today and this month, from the store's ledger (what every instance wrote). */
export function ledgerUsage(store: Store) {
  return async (tenantId: string, at: number) => {
    const [today, month] = await Promise.all([store.tenantUsage(tenantId, startOfDay(at)), store.tenantUsage(tenantId, startOfMonth(at))]);
    return { today, month };
  };
}

/** Builds the backend the config asks for; the embedded one is rebuilt from the store's ledger. */
export async function createQuotaBackend(config: Config, store: Store, logger: Logger, now: number): Promise<QuotaBackend> {
  const loadUsage = ledgerUsage(store);
  if (config.redis) {
    return createRedisQuota({ ...config.redis, logger, loadUsage, leaseMs: config.tasks.maxLifetimeMs });
  }
  const local = createLocalQuota();
  for (const tenant of await store.listTenants()) {
    local.seed(tenant.id, await loadUsage(tenant.id, now), now, config.tasks.maxLifetimeMs);
  }
  return local;
}

/**
 * RateLimit-Policy: "tasksPerDay";q=100;w=86400, …   and   RateLimit: "tasksPerDay";r=42;t=3600, …
 * (draft-ietf-httpapi-ratelimit-headers: structured-field lists, one item per policy).
 */
export function setRateLimitHeaders(res: ServerResponse, remaining: Remaining[]): void {
  if (remaining.length === 0 || res.headersSent) return;
  res.setHeader('RateLimit-Policy', remaining.map((r) => `"${r.limit}";q=${r.quota}${r.windowSeconds ? `;w=${r.windowSeconds}` : ''}`).join(', '));
  res.setHeader('RateLimit', remaining.map((r) => `"${r.limit}";r=${r.remaining};t=${r.resetSeconds}`).join(', '));
}

/** A refusal of the quota backend, in the envelope. */
export function quotaRefusal(admission: Refusal, quotas: TenantQuotas): GatewayError {
  const retryAfterSeconds = secondsFrom(admission.retryAfterMs);
  const { limit } = admission;
  if (limit === 'unavailable') return quotaUnavailable();
  if (limit === 'paced') return refusal('paced', 'Every provider key is at its pace; try again later', { retryAfterSeconds, data: { limit } });
  if (!isCountLimit(limit))
    return refusal('budget', `This task would take the month past its budget of USD ${quotas[limit]}`, { retryAfterSeconds, data: { limit } });
  return refusal(`quota_${limit}`, `Quota exceeded: ${quotas[limit]} ${LIMITS[limit].what} (${limit})`, { retryAfterSeconds, data: { limit } });
}

/**
 * Redis down or too slow with failOpen off: refuse rather than guess (503, and /readyz says why).
 * What went wrong is in the log; the tenant is told only that it may try again.
 */
export function quotaUnavailable(_error?: QuotaUnavailableError): GatewayError {
  return refusal('quota_unavailable', 'Quotas cannot be checked now; try again shortly', { retryAfterSeconds: secondsFrom(UNAVAILABLE_RETRY_MS) });
}

/** Admits a plain API call (requestsPerMinute); sets the headers; throws the refusal. */
export async function admitCall(quota: QuotaBackend, quotas: TenantQuotas, tenantId: string, now: number, res: ServerResponse): Promise<void> {
  // No per-call limit: nothing to count or refuse, so no round trip (a tenant's polls are the
  // most frequent call; with Redis each would otherwise be one).
  if (quotas.requestsPerMinute == null) return;
  const admission = await callAdmission(quota, quotas, tenantId, now);
  setRateLimitHeaders(res, admission.remaining);
  if (!admission.ok) throw quotaRefusal(admission, quotas);
}

/** A call counted against requestsPerMinute; a window known to be full refuses without a round trip. */
async function callAdmission(quota: QuotaBackend, quotas: TenantQuotas, tenantId: string, now: number): Promise<Admission> {
  return quota.callRefusal(tenantId, quotas, now) ?? quota.admit(tenantId, quotas, now);
}

/**
 * Before a createTask's body is read and checked (and its callBackUrl resolved): a caller whose
 * requestsPerMinute window is known to be full is refused at once, for nothing.
 */
export function refuseFullWindow(quota: QuotaBackend, quotas: TenantQuotas, tenantId: string, now: number, res: ServerResponse): void {
  if (quotas.requestsPerMinute == null) return;
  const refusal = quota.callRefusal(tenantId, quotas, now);
  if (!refusal) return;
  setRateLimitHeaders(res, refusal.remaining);
  throw quotaRefusal(refusal, quotas);
}

/**
 * A createTask refused before its admission (invalid body, refused callBackUrl) is a call all the
 * same: it counts against requestsPerMinute. Answers the refusal, or the 429 if the call is over
 * the limit; when the count cannot be made (quota store unavailable) the refusal stands.
 */
export async function countRefusedCall(
  quota: QuotaBackend,
  quotas: TenantQuotas,
  tenantId: string,
  now: number,
  res: ServerResponse,
  refusal: unknown,
): Promise<never> {
  if (quotas.requestsPerMinute == null) throw refusal;
  const admission = await callAdmission(quota, quotas, tenantId, now);
  setRateLimitHeaders(res, admission.remaining);
  if (!admission.ok && admission.limit === 'requestsPerMinute') throw quotaRefusal(admission, quotas);
  throw refusal;
}
