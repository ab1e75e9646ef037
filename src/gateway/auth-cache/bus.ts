// Invalidation across instances: "tenants or keys changed", sent by the instance that changed
// them and received by every instance (itself included), which then drops its key cache. Redis
// pub/sub when Redis is configured (redis-bus.ts), else PostgreSQL LISTEN/NOTIFY when the store
// is PostgreSQL (postgres-bus.ts), else in-process only (the embedded gateway is one process).
// A bus that cannot promise delivery right now (disconnected, not subscribed yet) says so with
// `live()`: the cache is then bypassed, and cleared when it is live again, since messages sent
// meanwhile are lost (pub/sub and NOTIFY keep nothing for a listener that is away).
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import type { InvalidationBus } from './types.js';

export type { InvalidationBus } from './types.js';

/** One process: every change is made here, so it is seen here at once. */
export function createProcessBus(): InvalidationBus {
  const listeners: Array<() => void> = [];
  return {
    kind: 'process',
    async publish() {
      for (const listener of listeners) listener();
    },
    onInvalidate: (listener) => void listeners.push(listener),
    live: () => true,
    close: async () => undefined,
  };
}

/** The bus the deployment calls for (see the top of this file). */
export async function createInvalidationBus(config: Config, logger: Logger): Promise<InvalidationBus> {
  if (config.redis) {
    const { createRedisBus } = await import('./redis-bus.js');
    return createRedisBus({ url: config.redis.url, channel: `${config.redis.prefix}:auth-changed`, logger });
  }
  if (/^postgres(ql)?:\/\//i.test(config.store)) {
    const { createPostgresBus } = await import('./postgres-bus.js');
    return createPostgresBus({ url: config.store, logger });
  }
  return createProcessBus();
}
