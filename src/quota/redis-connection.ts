// The Redis connection of the quota backend: how ioredis is set up (fail fast rather than queue),
// the scripts it runs (scripts.ts), and the heartbeat that counts live instances.
import { Redis } from 'ioredis';
import { ADMIT, PICK_KEY, RELEASE, SEED, SETTLE, UNDO } from './scripts.js';

/** ADMIT's answer: status, detail, paceWaitMs, then the counts (remaining.ts's Usage). */
export type AdmitReply = [number, string, number, number, number, number, number, number, number, number];

export type ScriptRedis = Redis & {
  lxgAdmit(...args: Array<string | number>): Promise<AdmitReply>;
  lxgUndo(...args: Array<string | number>): Promise<number>;
  lxgPick(...args: Array<string | number>): Promise<[number, number]>;
  lxgRelease(...args: Array<string | number>): Promise<number>;
  lxgSettle(...args: Array<string | number>): Promise<number>;
  lxgSeed(...args: Array<string | number>): Promise<number>;
};

export interface ConnectOptions {
  url: string;
  commandTimeoutMs: number;
}

export function connect(options: ConnectOptions): ScriptRedis {
  const redis = new Redis(options.url, {
    // Fail fast while disconnected instead of queueing: an admission must answer now.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(options.commandTimeoutMs, 1000),
    retryStrategy: (times) => Math.min(100 * times, 1000),
    lazyConnect: false,
    // The commands of one turn of the event loop (the admissions of every request read in it)
    // leave in one write: a socket write costs more than the script it carries (the profile:
    // writes were a third of a Redis + PostgreSQL createTask's CPU).
    enableAutoPipelining: true,
  }) as ScriptRedis;
  const scripts = { lxgAdmit: ADMIT, lxgUndo: UNDO, lxgPick: PICK_KEY, lxgRelease: RELEASE, lxgSettle: SETTLE, lxgSeed: SEED };
  for (const [name, lua] of Object.entries(scripts)) redis.defineCommand(name, { lua });
  // Errors are reported through the calls; without a listener ioredis would print each reconnect.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * This instance is alive; resolves to the instances seen within `staleMs`. A transaction, not a
 * script: one round trip, and never mistaken for an admission when scripts are counted. Times are
 * the wall clock's, not an injected one: they are compared with the other instances' beats.
 */
export async function beat(redis: Redis, key: string, id: string, staleMs: number): Promise<number> {
  const now = Date.now();
  const replies = await redis
    .multi()
    .zadd(key, now, id)
    .zremrangebyscore(key, '-inf', now - staleMs)
    .pexpire(key, staleMs)
    .zcard(key)
    .exec();
  const [error, count] = replies?.[3] ?? [new Error('transaction discarded'), 0];
  if (error) throw error;
  return Number(count);
}
