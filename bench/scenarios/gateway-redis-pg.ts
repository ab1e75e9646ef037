// The gateway as several instances run it: the same child, tenant and provider key as the
// embedded scenario (gateway-embedded.ts), with its quotas and key pacing in Redis (one Lua
// script per admission) and its records, ledger and outbox on PostgreSQL. Redis is a private
// redis-server (or REDIS_URL), PostgreSQL a fresh schema on DATABASE_URL's server, dropped at the
// end; when either cannot be had the scenario is skipped, saying why, and the bench goes on.
import { randomBytes } from 'node:crypto';
import { freshBenchSchema, type BenchSchema } from '../processes/postgres.js';
import { startBenchRedis, Unavailable, type BenchRedis } from '../processes/redis.js';
import { gatewayConfig, startGatewayChild } from './gateway-embedded.js';
import { childTarget, ScenarioSkipped, type Scenario } from './types.js';
import { TENANT_KEY } from './workload.js';

export const gatewayRedisPg: Scenario = {
  id: 'gateway-redis-pg',
  label: 'gateway (Redis + PostgreSQL)',
  async start(env) {
    // Keys of this run's own, so a shared REDIS_URL keeps whatever else it holds (and the
    // round-trip figure can tell this gateway's commands from other clients').
    const prefix = `lxg-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
    const [redis, pg] = await Promise.allSettled([startBenchRedis(), freshBenchSchema()]);
    const cleanUp = async () => {
      if (redis.status === 'fulfilled') await redis.value.close(prefix);
      if (pg.status === 'fulfilled') await pg.value.drop().catch(() => undefined);
    };
    const missing = [redis, pg].flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    if (missing.length > 0) {
      await cleanUp();
      const unexpected = missing.find((error) => !(error instanceof Unavailable));
      throw unexpected ?? new ScenarioSkipped(missing.map((error) => error.message).join('; '));
    }
    const { url: redisUrl, owned } = (redis as PromiseFulfilledResult<BenchRedis>).value;
    const schema = (pg as PromiseFulfilledResult<BenchSchema>).value;

    const config = { ...gatewayConfig(env, schema.url), redis: { url: redisUrl, prefix } };
    let child: Awaited<ReturnType<typeof startGatewayChild>>['child'] | undefined;
    try {
      ({ child } = await startGatewayChild(env, 'gateway-redis-pg', { config }));
    } catch (error) {
      await cleanUp();
      throw error;
    }
    const notes = [
      `quotas in ${owned ? 'a private redis-server' : 'REDIS_URL'}, store PostgreSQL (${schema.shown}, schema ${schema.schema}), log level ${env.settings.logLevel} (to /dev/null)`,
    ];
    const target = await childTarget(child, env, { authorization: `Bearer ${TENANT_KEY}` }, { notes, redis: { url: redisUrl, prefix } }).catch(
      async (error: unknown) => {
        await cleanUp();
        throw error;
      },
    );
    return {
      ...target,
      async close() {
        // The gateway first: its pool must be gone before the schema is dropped.
        await target.close();
        await cleanUp();
      },
    };
  },
};
