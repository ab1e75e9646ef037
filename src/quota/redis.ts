// Admission shared by every instance through Redis: one Lua script per admission (scripts.ts).
// When Redis does not answer, the gateway fails closed (QuotaUnavailableError → 503) unless the
// operator chose failOpen, in which case this instance falls back to its own in-memory limits
// until Redis is back; ioredis reconnects by itself.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { TenantQuotas } from '../config/index.js';
import { createLocalQuota } from './local.js';
import type { TenantUsage } from '../store/types.js';
import { ADMIT, PICK_KEY, RELEASE, SEED, SETTLE } from './scripts.js';
import { QuotaUnavailableError, type Admission, type KeyCandidate, type LimitName, type QuotaBackend, type Remaining, type TaskAdmission } from './types.js';
import { DAY_MS, dayBucket, MINUTE_MS, minuteBucket, monthBucket, startOfNextMonth, toMicros } from './windows.js';

export interface RedisQuotaOptions {
  url: string;
  prefix: string;
  failOpen: boolean;
  commandTimeoutMs: number;
  /** The tenant's usage from the ledger, to rebuild its counters in a Redis that lost them. */
  loadUsage(tenantId: string, now: number): Promise<{ today: TenantUsage; month: TenantUsage }>;
  /** How long a rebuilt in-flight slot lasts from its task's creation. */
  leaseMs: number;
  logger?: Logger;
}

type ScriptRedis = Redis & {
  lxgAdmit(...args: Array<string | number>): Promise<[number, string, number, number, number, number, number, number]>;
  lxgPick(...args: Array<string | number>): Promise<[number, number]>;
  lxgRelease(...args: Array<string | number>): Promise<number>;
  lxgSettle(...args: Array<string | number>): Promise<number>;
  lxgSeed(...args: Array<string | number>): Promise<number>;
};

const off = (limit: number | undefined) => (limit === undefined ? -1 : limit);

export function createRedisQuota(options: RedisQuotaOptions): QuotaBackend & { redis: Redis } {
  const redis = new Redis(options.url, {
    // Fail fast while disconnected instead of queueing: an admission must answer now.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(options.commandTimeoutMs, 1000),
    retryStrategy: (times) => Math.min(100 * times, 1000),
    lazyConnect: false,
  }) as ScriptRedis;
  redis.defineCommand('lxgAdmit', { lua: ADMIT });
  redis.defineCommand('lxgPick', { lua: PICK_KEY });
  redis.defineCommand('lxgRelease', { lua: RELEASE });
  redis.defineCommand('lxgSettle', { lua: SETTLE });
  redis.defineCommand('lxgSeed', { lua: SEED });
  // Errors are reported through the calls; without a listener ioredis would print each reconnect.
  redis.on('error', () => undefined);

  const fallback = options.failOpen ? createLocalQuota() : undefined;
  let degraded = false;

  const p = options.prefix;
  const tenantKey = (tenantId: string, suffix: string) => `${p}:t:{${tenantId}}:${suffix}`;
  const keyWindow = (keyId: string) => `${p}:pace:${keyId}`;

  /**
   * Commands fail at once while the connection is not ready (no offline queue); a connection being
   * made (at start, or Redis just back) is worth waiting for, up to the command timeout.
   */
  function whenReady(): Promise<void> {
    if (redis.status === 'ready' || redis.status === 'end') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, options.commandTimeoutMs);
      redis.once('ready', done);
    });
  }

  /** Runs a Redis call; on failure falls back (failOpen) or refuses. */
  async function guarded<T>(call: () => Promise<T>, local: (() => Promise<T>) | undefined): Promise<T> {
    try {
      await whenReady();
      const result = await call();
      if (degraded) {
        degraded = false;
        options.logger?.warn('quota: Redis answers again; shared limits are back');
      }
      return result;
    } catch (error) {
      if (!degraded) {
        degraded = true;
        options.logger?.error({ err: error }, fallback ? 'quota: Redis unavailable; falling back to per-instance limits (failOpen)' : 'quota: Redis unavailable; refusing (fail closed)');
      }
      if (local) return local();
      throw new QuotaUnavailableError(`quota store unavailable: ${(error as Error).message}`);
    }
  }

  /** What is left of each quota; for a plain call (`callOnly`), of requestsPerMinute alone. */
  function remaining(quotas: TenantQuotas, now: number, used: { rpm: number; day: number; month: number; inFlight: number; micros: number }, callOnly: boolean): Remaining[] {
    const secs = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
    const out: Remaining[] = [];
    const nextMonth = startOfNextMonth(now);
    const add = (limit: LimitName, quota: number | undefined, usedNow: number, resetMs: number, windowSeconds: number) => {
      if (quota !== undefined) out.push({ limit, quota, remaining: Math.max(0, quota - usedNow), resetSeconds: secs(resetMs), windowSeconds });
    };
    add('requestsPerMinute', quotas.requestsPerMinute, used.rpm, (minuteBucket(now) + 1) * MINUTE_MS - now, 60);
    if (callOnly) return out;
    add('tasksPerDay', quotas.tasksPerDay, used.day, (Math.floor(now / DAY_MS) + 1) * DAY_MS - now, 86_400);
    add('tasksPerMonth', quotas.tasksPerMonth, used.month, nextMonth - now, secs(nextMonth - now));
    add('maxInFlight', quotas.maxInFlight, used.inFlight, 0, 0);
    if (quotas.budgetUsdPerMonth !== undefined) {
      const cents = Math.floor(toMicros(quotas.budgetUsdPerMonth) / 10_000);
      out.push({ limit: 'budgetUsdPerMonth', quota: cents, remaining: Math.max(0, cents - Math.ceil(used.micros / 10_000)), resetSeconds: secs(nextMonth - now), windowSeconds: secs(nextMonth - now) });
    }
    return out;
  }

  async function seed(tenantId: string, now: number): Promise<void> {
    const { today, month } = await options.loadUsage(tenantId, now);
    const open = month.open.flatMap((t) => {
      const expiresAt = t.createdAt + options.leaseMs;
      return expiresAt > now ? [t.slotId ?? t.taskId, expiresAt, t.estimatedCostMicros ?? 0] : [];
    });
    const seeded = await redis.lxgSeed(
      6,
      tenantKey(tenantId, 'seeded'),
      tenantKey(tenantId, `day:${dayBucket(now)}`),
      tenantKey(tenantId, `month:${monthBucket(now)}`),
      tenantKey(tenantId, 'slots'),
      tenantKey(tenantId, 'reserved'),
      tenantKey(tenantId, `spent:${monthBucket(now)}`),
      today.tasks,
      month.tasks,
      month.actualCostMicros,
      ...open,
    );
    if (seeded) options.logger?.info({ tenantId, day: today.tasks, month: month.tasks, open: open.length / 3 }, 'quota: rebuilt counters in Redis from the ledger');
  }

  return {
    redis,

    admit(tenantId, quotas, now, task?: TaskAdmission) {
      return guarded<Admission>(async () => {
        const keys = [
          tenantKey(tenantId, `rpm:${minuteBucket(now)}`),
          tenantKey(tenantId, `day:${dayBucket(now)}`),
          tenantKey(tenantId, `month:${monthBucket(now)}`),
          tenantKey(tenantId, 'slots'),
          tenantKey(tenantId, 'reserved'),
          tenantKey(tenantId, `spent:${monthBucket(now)}`),
          tenantKey(tenantId, 'seeded'),
          ...(task?.keys ?? []).map((k) => keyWindow(k.id)),
        ];
        const args = [
          now,
          off(quotas.requestsPerMinute),
          task ? 1 : 0,
          off(quotas.tasksPerDay),
          off(quotas.tasksPerMonth),
          off(quotas.maxInFlight),
          quotas.budgetUsdPerMonth === undefined ? -1 : toMicros(quotas.budgetUsdPerMonth),
          task ? task.estimateMicros : 0,
          task?.slotId ?? '',
          task ? now + task.leaseMs : 0,
          (minuteBucket(now) + 1) * MINUTE_MS - now,
          (Math.floor(now / DAY_MS) + 1) * DAY_MS - now,
          startOfNextMonth(now) - now,
          task?.keys.length ?? 0,
          task?.slotId ?? randomUUID(),
          ...(task?.keys ?? []).map((k) => k.allowance),
        ];
        let [status, detail, wait, rpm, day, month, inFlight, micros] = await redis.lxgAdmit(keys.length, ...keys, ...args);
        if (status === 3) {
          // First task admission of this tenant since Redis started: rebuild, then admit again.
          await seed(tenantId, now);
          [status, detail, wait, rpm, day, month, inFlight, micros] = await redis.lxgAdmit(keys.length, ...keys, ...args);
        }
        const left = remaining(quotas, now, { rpm, day, month, inFlight, micros }, !task);
        if (status === 1) return { ok: true, keyId: task && Number(detail) > 0 ? task.keys[Number(detail) - 1]!.id : undefined, remaining: left };
        if (status === 2) return { ok: false, limit: 'paced', retryAfterMs: Math.max(1, wait), remaining: left };
        return { ok: false, limit: detail as LimitName, retryAfterMs: Math.max(1, wait), remaining: left };
      }, fallback && (() => fallback.admit(tenantId, quotas, now, task)));
    },

    pickKey(keys: KeyCandidate[], now) {
      return guarded(async () => {
        if (keys.length === 0) return { ok: false as const, retryAfterMs: 10_000 };
        const [index, wait] = await redis.lxgPick(keys.length, ...keys.map((k) => keyWindow(k.id)), now, randomUUID(), ...keys.map((k) => k.allowance));
        return index > 0 ? { ok: true as const, keyId: keys[index - 1]!.id } : { ok: false as const, retryAfterMs: Math.max(1, wait) };
      }, fallback && (() => fallback.pickKey(keys, now)));
    },

    release(tenantId, slotId, createdAt) {
      return guarded(async () => {
        await redis.lxgRelease(4, tenantKey(tenantId, 'slots'), tenantKey(tenantId, 'reserved'), tenantKey(tenantId, `day:${dayBucket(createdAt)}`), tenantKey(tenantId, `month:${monthBucket(createdAt)}`), slotId);
      }, fallback && (() => fallback.release(tenantId, slotId, createdAt)));
    },

    settle(tenantId, slotId, costMicros, createdAt) {
      return guarded(async () => {
        await redis.lxgSettle(3, tenantKey(tenantId, 'slots'), tenantKey(tenantId, 'reserved'), tenantKey(tenantId, `spent:${monthBucket(createdAt)}`), slotId ?? '', costMicros);
      }, fallback && (() => fallback.settle(tenantId, slotId, costMicros, createdAt)));
    },

    async health() {
      if (redis.status !== 'ready') return { ok: false, reason: `redis ${redis.status}` };
      try {
        await redis.ping();
        return { ok: true };
      } catch (error) {
        return { ok: false, reason: `redis: ${(error as Error).message}` };
      }
    },

    async close() {
      redis.disconnect();
    },
  };
}

