// What an instance admits on its own while Redis is gone and `failOpen` is on. Starting every
// instance's counters from zero let each of them spend a tenant's whole day again. Instead, when
// a tenant is first seen in an outage, its counts are rebuilt from the store (the ledger every
// instance writes: today's and this month's tasks, the open tasks, the month's cost), and each
// instance enforces its share of what was left: (limit − used) ÷ instances, rounded down, with
// the instances as Redis last counted them (an instance that never reached Redis counts itself
// alone; the RateLimit headers show the share). Together they stay within every task limit and the
// budget, except for tasks admitted through Redis just before it went and not recorded yet.
// requestsPerMinute has no ledger: each instance allows limit ÷ instances (at least 1) per 60 s
// from the outage's start. A new outage (or a new UTC day) rebuilds from the store again.
import type { Logger } from 'pino';
import type { TenantQuotas } from '../config/index.js';
import type { TenantUsage } from '../store/types.js';
import { createLocalQuota, type LocalQuota, type SeededUsage } from './local.js';
import { unavailable } from './remaining.js';
import type { Admission, KeyCandidate, KeyPick, Refusal, TaskAdmission } from './types.js';
import { dayBucket } from './windows.js';
import { LIMIT_NAMES, LIMITS, limitCount } from './limits.js';

export interface FailOpenOptions {
  loadUsage(tenantId: string, now: number): Promise<{ today: TenantUsage; month: TenantUsage }>;
  leaseMs: number;
  /** Instances sharing the limits, as last counted. */
  instances(): number;
  logger?: Logger;
}

export interface FailOpen {
  admit(tenantId: string, quotas: TenantQuotas, now: number, task?: TaskAdmission): Promise<Admission>;
  callRefusal(tenantId: string, quotas: TenantQuotas, now: number): Refusal | undefined;
  pickKey(keys: KeyCandidate[], now: number): Promise<KeyPick>;
  release(tenantId: string, slotId: string, createdAt: number): Promise<void>;
  settle(tenantId: string, slotId: string | null, costMicros: number, createdAt: number): Promise<void>;
  /** Redis is back: forget this outage's counts (the next one starts from the store again). */
  end(): void;
}

interface Seed {
  day: string;
  used: SeededUsage;
  instances: number;
}

/**
 * The limits this instance enforces alone, in the config's units. A call limit has no ledger
 * (no seed): limit ÷ instances, at least 1. A task limit: what was used, plus this instance's
 * share of what is left, counted in the counter's unit (micro-dollars for money).
 */
export function shareOf(quotas: TenantQuotas, seed: Pick<Seed, 'used' | 'instances'> | undefined, instances: number): TenantQuotas {
  const shares: TenantQuotas = {};
  for (const name of LIMIT_NAMES) {
    const limit = limitCount(name, quotas);
    const { scope, counter, fromCount } = LIMITS[name];
    if (limit === undefined) continue;
    if (scope === 'call') shares[name] = fromCount(Math.max(1, Math.floor(limit / instances)));
    else if (seed) {
      const used = seed.used[counter];
      shares[name] = fromCount(used + Math.floor(Math.max(0, limit - used) / seed.instances));
    }
  }
  return shares;
}

export function createFailOpen(options: FailOpenOptions): FailOpen {
  let local: LocalQuota = createLocalQuota();
  const seeds = new Map<string, Promise<Seed>>();

  /** The tenant's counts from the store, once per outage and UTC day (concurrent callers share it). */
  function seeded(tenantId: string, now: number): Promise<Seed> {
    const day = dayBucket(now);
    const known = seeds.get(tenantId);
    return known ? known.then((seed) => (seed.day === day ? seed : load(tenantId, now, day))) : load(tenantId, now, day);
  }

  function load(tenantId: string, now: number, day: string): Promise<Seed> {
    const into = local; // an outage that ends meanwhile discards it
    const loading = options.loadUsage(tenantId, now).then((usage) => {
      const used = into.seed(tenantId, usage, now, options.leaseMs);
      const instances = options.instances();
      options.logger?.warn({ tenantId, ...used, instances }, 'quota: failOpen: counts rebuilt from the store; this instance enforces its share');
      return { day, used, instances };
    });
    seeds.set(tenantId, loading);
    loading.catch(() => {
      if (seeds.get(tenantId) === loading) seeds.delete(tenantId);
    });
    return loading;
  }

  return {
    async admit(tenantId, quotas, now, task) {
      if (!task) return local.admit(tenantId, shareOf(quotas, undefined, options.instances()), now);
      let seed: Seed;
      try {
        seed = await seeded(tenantId, now);
      } catch (error) {
        // Neither Redis nor the store: nothing to count from, and the task could not be recorded.
        options.logger?.error({ err: error, tenantId }, 'quota: failOpen: the store cannot say what the tenant used; refusing');
        return unavailable(quotas, now, false);
      }
      return local.admit(tenantId, shareOf(quotas, seed, options.instances()), now, task);
    },
    callRefusal: (tenantId, quotas, now) => local.callRefusal(tenantId, shareOf(quotas, undefined, options.instances()), now),
    pickKey: (keys, now) => local.pickKey(keys, now),
    release: (tenantId, slotId, createdAt) => local.release(tenantId, slotId, createdAt),
    settle: (tenantId, slotId, costMicros, createdAt) => local.settle(tenantId, slotId, costMicros, createdAt),
    end() {
      local = createLocalQuota();
      seeds.clear();
    },
  };
}
