// How one instance tells the others "tenant T's event log has grown to seq N". Only a wake-up:
// the events themselves are read from the store's log (hub.ts), so a lost or duplicated message
// costs latency (the hub also polls), never an event. Redis pub/sub when Redis is configured,
// PostgreSQL LISTEN/NOTIFY when the store is PostgreSQL without Redis, in-process otherwise
// (the embedded default: one instance).
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';

export type WakeHandler = (tenantId: string, seq: number) => void;

export interface Fanout {
  readonly kind: 'memory' | 'redis' | 'postgres';
  publish(tenantId: string, seq: number): void;
  onWake(handler: WakeHandler): void;
  /** Resolves once messages from other instances arrive (or it is known they cannot: polling only). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const encode = (tenantId: string, seq: number) => `${seq} ${tenantId}`;
function decode(message: string): [string, number] | undefined {
  const space = message.indexOf(' ');
  const seq = Number(message.slice(0, space));
  return space > 0 && Number.isSafeInteger(seq) ? [message.slice(space + 1), seq] : undefined;
}

export function memoryFanout(): Fanout {
  const bus = new EventEmitter().setMaxListeners(0);
  return {
    kind: 'memory',
    publish: (tenantId, seq) => void bus.emit('wake', tenantId, seq),
    onWake: (handler) => void bus.on('wake', handler),
    ready: async () => undefined,
    close: async () => void bus.removeAllListeners(),
  };
}

export function redisFanout(url: string, channel: string, logger: Logger): Fanout {
  const options = { maxRetriesPerRequest: 1, retryStrategy: (times: number) => Math.min(100 * times, 2000) };
  // A turn's wake-ups leave in one write (see quota/redis-connection.ts).
  const publisher = new Redis(url, { ...options, enableAutoPipelining: true });
  const subscriber = new Redis(url, options);
  const handlers: WakeHandler[] = [];
  // Reconnects are ioredis's; the hub's polling covers what is missed meanwhile.
  publisher.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  const subscribed = subscriber
    .subscribe(channel)
    .then(() => undefined)
    .catch((e: unknown) => logger.warn({ err: e }, 'events: cannot subscribe in Redis (polling only)'));
  subscriber.on('message', (_channel: string, message: string) => {
    const decoded = decode(message);
    if (decoded) for (const handler of handlers) handler(...decoded);
  });
  return {
    kind: 'redis',
    publish: (tenantId, seq) => void publisher.publish(channel, encode(tenantId, seq)).catch(() => undefined),
    onWake: (handler) => void handlers.push(handler),
    ready: () => subscribed,
    async close() {
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}

export function postgresFanout(connectionString: string, channel: string, logger: Logger): Fanout {
  const handlers: WakeHandler[] = [];
  const listener = new pg.Client({ connectionString });
  const notifier = new pg.Pool({ connectionString, max: 1 });
  let closed = false;
  listener.on('error', (e) => logger.warn({ err: e }, 'events: the LISTEN connection failed (polling only)'));
  listener.on('notification', (message) => {
    const decoded = message.payload ? decode(message.payload) : undefined;
    if (decoded) for (const handler of handlers) handler(...decoded);
  });
  const ready = listener
    .connect()
    .then(() => listener.query(`LISTEN ${pg.escapeIdentifier(channel)}`))
    .catch((e: unknown) => {
      if (!closed) logger.warn({ err: e }, 'events: cannot LISTEN (polling only)');
    });
  return {
    kind: 'postgres',
    publish: (tenantId, seq) => void notifier.query('select pg_notify($1, $2)', [channel, encode(tenantId, seq)]).catch(() => undefined),
    onWake: (handler) => void handlers.push(handler),
    ready: () => ready.then(() => undefined),
    async close() {
      closed = true;
      await ready;
      await Promise.allSettled([listener.end(), notifier.end()]);
    },
  };
}

/**
 * One message per tenant per turn of the event loop, naming the newest seq: a wake-up says "read
 * the log past what you have", so the last of a burst says all the others did. Under load many
 * tasks of a tenant change state in one turn; each was a PUBLISH (or NOTIFY) of its own.
 */
export function coalesced(fanout: Fanout): Fanout {
  const pending = new Map<string, number>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const [tenantId, seq] of pending) fanout.publish(tenantId, seq);
    pending.clear();
  };
  return {
    kind: fanout.kind,
    publish(tenantId, seq) {
      pending.set(tenantId, Math.max(seq, pending.get(tenantId) ?? 0));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    onWake: (handler) => fanout.onWake(handler),
    ready: () => fanout.ready(),
    async close() {
      flush();
      await fanout.close();
    },
  };
}

/** The fan-out the deployment has: Redis, else PostgreSQL, else this process alone. */
export function fanoutFor(config: Config, logger: Logger): Fanout {
  if (config.redis) return coalesced(redisFanout(config.redis.url, `${config.redis.prefix}:task-events`, logger));
  if (/^postgres(ql)?:\/\//.test(config.store)) {
    const url = new URL(config.store);
    const schema = url.searchParams.get('schema');
    url.searchParams.delete('schema');
    return coalesced(postgresFanout(url.toString(), `lxg_task_events${schema ? `_${schema}` : ''}`, logger));
  }
  return memoryFanout();
}
