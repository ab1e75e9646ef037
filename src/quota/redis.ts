// Admission shared by every instance through Redis: one Lua script per admission (scripts.ts).
// When Redis does not answer within commandTimeoutMs, the gateway fails closed (an `unavailable`
// admission → 503) unless the operator chose failOpen, in which case this instance admits on its
// own share of the limits until Redis is back (fail-open.ts); ioredis reconnects by itself.
// An admission that timed out may still have run in Redis: it is undone (pending.ts), so a call
// the caller was told failed never keeps a slot, a day's task or a reservation.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { TenantQuotas } from '../config/index.js';
import type { TenantUsage } from '../store/types.js';
import { createFailOpen } from './fail-open.js';
import { HEARTBEAT_MS, STALE_AFTER_BEATS, trackInstances } from './instances.js';
import { createPendingWrites } from './pending.js';
import { describeRemaining, NO_USAGE, refusalBy, unavailable, type Usage } from './remaining.js';
import { beat, connect, type AdmitReply } from './redis-connection.js';
import { admitArgs } from './scripts.js';
import { QuotaUnavailableError, type Admission, type KeyCandidate, type KeyPick, type LimitName, type QuotaBackend, type TaskAdmission } from './types.js';
import { CALL_WINDOW_MS, DAY_MS, dayBucket, monthBucket } from './windows.js';

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
  /** How often this instance tells Redis it is alive (tests shorten it). */
  heartbeatMs?: number;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; sent: boolean };

/** Far longer than a command can wait inside Redis: an undone admission stays undone. */
const UNDONE_MARK_MS = DAY_MS;
const RETRY_MISSED_MS = 1000;
const MISSED_LIMIT = 10_000;

export function createRedisQuota(options: RedisQuotaOptions): QuotaBackend & { redis: Redis; instances(): number; missedWrites(): number } {
  const redis = connect(options);
  const logger = options.logger;
  const p = options.prefix;
  const tenantKey = (tenantId: string, suffix: string) => `${p}:t:{${tenantId}}:${suffix}`;
  const keyWindow = (keyId: string) => `${p}:pace:${keyId}`;

  const instanceId = randomUUID();
  const beatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const instances = trackInstances(() => beat(redis, `${p}:instances`, instanceId, STALE_AFTER_BEATS * beatMs), beatMs);
  const missed = createPendingWrites({ retryMs: RETRY_MISSED_MS, limit: MISSED_LIMIT, logger });
  const failOpen = options.failOpen
    ? createFailOpen({ loadUsage: options.loadUsage, leaseMs: options.leaseMs, instances: instances.count, logger })
    : undefined;
  redis.on('ready', () => {
    instances.beat();
    missed.flush();
  });

  /** Tenants whose requestsPerMinute window was full at the last answer, until its oldest call leaves. */
  const fullWindows = new Map<string, { limit: number; until: number }>();
  let degraded = false;

  /**
   * Commands fail at once while the connection is not ready (no offline queue); a connection being
   * made (at start, or Redis just back) is worth waiting for, up to the command timeout.
   */
  let connecting: Promise<void> | undefined; // one wait shared by every call meanwhile
  function whenReady(): Promise<void> {
    if (redis.status === 'ready' || redis.status === 'end') return Promise.resolve();
    connecting ??= new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        redis.off('ready', done);
        connecting = undefined;
        resolve();
      };
      const timer = setTimeout(done, options.commandTimeoutMs);
      redis.once('ready', done);
    });
    return connecting;
  }

  /** Runs Redis calls; `sent` says whether they may have reached Redis when they failed. */
  async function attempt<T>(call: () => Promise<T>): Promise<Attempt<T>> {
    await whenReady();
    const sent = redis.status === 'ready'; // not ready: ioredis refuses at once, sending nothing
    try {
      const value = await call();
      if (degraded) {
        degraded = false;
        failOpen?.end();
        logger?.warn('quota: Redis answers again; shared limits are back');
      }
      return { ok: true, value };
    } catch (error) {
      // The error's text is for the operator's log; a tenant is only told it can try again.
      if (!degraded) {
        degraded = true;
        logger?.error(
          { err: error },
          failOpen
            ? 'quota: Redis unavailable; falling back to per-instance shares of the limits (failOpen)'
            : 'quota: Redis unavailable; refusing (fail closed)',
        );
      }
      return { ok: false, sent };
    }
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
    if (seeded) logger?.info({ tenantId, day: today.tasks, month: month.tasks, open: open.length / 3 }, 'quota: rebuilt counters in Redis from the ledger');
  }

  function toAdmission(reply: AdmitReply, tenantId: string, quotas: TenantQuotas, now: number, task: TaskAdmission | undefined): Admission {
    const [status, detail, paceWaitMs, calls, oldestCall, day, month, inFlight, micros, firstLeaseEnd] = reply;
    const used: Usage = { calls, oldestCall, day, month, inFlight, micros, firstLeaseEnd };
    const limit = quotas.requestsPerMinute;
    if (limit != null && calls >= limit) fullWindows.set(tenantId, { limit, until: oldestCall + CALL_WINDOW_MS });
    else fullWindows.delete(tenantId);
    if (status === 1)
      return {
        ok: true,
        keyId: task && Number(detail) > 0 ? task.keys[Number(detail) - 1]!.id : undefined,
        remaining: describeRemaining(quotas, now, used, !task),
      };
    if (status === 2) return { ok: false, limit: 'paced', retryAfterMs: Math.max(1, paceWaitMs), remaining: describeRemaining(quotas, now, used, false) };
    if (status === 0) return refusalBy(detail as LimitName, quotas, now, used, !task);
    throw new Error(`unexpected admission status ${status}`); // 4: this fresh id was undone before it ran
  }

  async function admitOnce(tenantId: string, quotas: TenantQuotas, now: number, task: TaskAdmission | undefined, id: string): Promise<Admission> {
    const keys = [
      tenantKey(tenantId, 'calls'),
      tenantKey(tenantId, `day:${dayBucket(now)}`),
      tenantKey(tenantId, `month:${monthBucket(now)}`),
      tenantKey(tenantId, 'slots'),
      tenantKey(tenantId, 'reserved'),
      tenantKey(tenantId, `spent:${monthBucket(now)}`),
      tenantKey(tenantId, 'seeded'),
      tenantKey(tenantId, `undone:${id}`),
      ...(task?.keys ?? []).map((k) => keyWindow(k.id)),
    ];
    const args = admitArgs(
      now,
      quotas,
      task ? { estimateMicros: task.estimateMicros, id, expiresAt: now + task.leaseMs, allowances: task.keys.map((k) => k.allowance) } : { id },
    );
    let reply = await redis.lxgAdmit(keys.length, ...keys, ...args);
    if (reply[0] === 3) {
      // First task admission of this tenant since Redis started: rebuild, then admit again.
      await seed(tenantId, now);
      reply = await redis.lxgAdmit(keys.length, ...keys, ...args);
    }
    return toAdmission(reply, tenantId, quotas, now, task);
  }

  /** Gives back whatever admission `id` counted, and keeps it from counting if it runs later. */
  async function undo(tenantId: string, now: number, id: string, task: TaskAdmission | undefined): Promise<void> {
    const keys = ['undone:' + id, 'calls', 'slots', 'reserved', `day:${dayBucket(now)}`, `month:${monthBucket(now)}`].map((k) => tenantKey(tenantId, k));
    await redis.lxgUndo(keys.length + (task?.keys.length ?? 0), ...keys, ...(task?.keys ?? []).map((k) => keyWindow(k.id)), id, UNDONE_MARK_MS);
    fullWindows.delete(tenantId);
  }

  return {
    redis,
    instances: instances.count,
    missedWrites: missed.size,

    async admit(tenantId, quotas, now, task?: TaskAdmission) {
      const id = task?.slotId ?? randomUUID();
      const outcome = await attempt(() => admitOnce(tenantId, quotas, now, task, id));
      if (outcome.ok) return outcome.value;
      // The script may run in Redis after ioredis gave up on it: undo it, whatever we answer.
      if (outcome.sent) missed.add({ what: 'undo', run: () => undo(tenantId, now, id, task) });
      return failOpen ? failOpen.admit(tenantId, quotas, now, task) : unavailable(quotas, now, !task);
    },

    callRefusal(tenantId, quotas, now) {
      if (degraded && failOpen) return failOpen.callRefusal(tenantId, quotas, now);
      // A full window stays full until its oldest call leaves it: Redis would refuse the same way.
      const full = fullWindows.get(tenantId);
      if (!full || full.limit !== quotas.requestsPerMinute || now >= full.until) return undefined;
      return refusalBy('requestsPerMinute', quotas, now, { ...NO_USAGE, calls: full.limit, oldestCall: full.until - CALL_WINDOW_MS }, true);
    },

    async pickKey(keys: KeyCandidate[], now): Promise<KeyPick> {
      if (keys.length === 0) return { ok: false, retryAfterMs: 10_000 };
      const outcome = await attempt(() => redis.lxgPick(keys.length, ...keys.map((k) => keyWindow(k.id)), now, randomUUID(), ...keys.map((k) => k.allowance)));
      if (outcome.ok) {
        const [index, wait] = outcome.value;
        return index > 0 ? { ok: true, keyId: keys[index - 1]!.id } : { ok: false, retryAfterMs: Math.max(1, wait) };
      }
      if (failOpen) return failOpen.pickKey(keys, now);
      throw new QuotaUnavailableError('quota store unavailable (Redis)');
    },

    async release(tenantId, slotId, createdAt) {
      const run = () =>
        redis.lxgRelease(
          4,
          tenantKey(tenantId, 'slots'),
          tenantKey(tenantId, 'reserved'),
          tenantKey(tenantId, `day:${dayBucket(createdAt)}`),
          tenantKey(tenantId, `month:${monthBucket(createdAt)}`),
          slotId,
        );
      if ((await attempt(run)).ok) return;
      missed.add({ what: 'release', run }); // gives back once, however often it runs
      await failOpen?.release(tenantId, slotId, createdAt);
    },

    async settle(tenantId, slotId, costMicros, createdAt) {
      const send = (onlyIfHeld: boolean) =>
        redis.lxgSettle(
          3,
          tenantKey(tenantId, 'slots'),
          tenantKey(tenantId, 'reserved'),
          tenantKey(tenantId, `spent:${monthBucket(createdAt)}`),
          slotId ?? '',
          costMicros,
          onlyIfHeld ? 1 : 0,
        );
      const outcome = await attempt(() => send(false));
      if (outcome.ok) return;
      // Once a settle may have run, a retry adds the cost only if the slot is still held.
      let mayHaveRun = outcome.sent;
      missed.add({
        what: 'settle',
        run: () => {
          const onlyIfHeld = mayHaveRun;
          mayHaveRun ||= redis.status === 'ready';
          return send(onlyIfHeld);
        },
      });
      await failOpen?.settle(tenantId, slotId, costMicros, createdAt);
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
      instances.stop();
      missed.stop();
      // Leave the count of live instances at once rather than when this one goes stale.
      if (redis.status === 'ready') await redis.zrem(`${p}:instances`, instanceId).catch(() => undefined);
      redis.disconnect();
    },
  };
}
