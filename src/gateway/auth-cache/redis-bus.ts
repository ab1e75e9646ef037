// The invalidation bus on Redis pub/sub: one connection subscribed to the channel, one to publish
// on (a subscribed connection may not publish). Live only while the subscription is confirmed:
// after a reconnect it subscribes again and, once confirmed, tells the listeners (the cache drops
// what it kept while messages could have been missed).
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { InvalidationBus } from './types.js';

export interface RedisBusOptions {
  url: string;
  channel: string;
  logger?: Logger;
  /** Give up publishing after this long (default 2 s). */
  commandTimeoutMs?: number;
}

export function createRedisBus(options: RedisBusOptions): InvalidationBus {
  const retryStrategy = (times: number) => Math.min(100 * times, 1000);
  const sub = new Redis(options.url, { retryStrategy, maxRetriesPerRequest: null });
  const pub = new Redis(options.url, { retryStrategy, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: options.commandTimeoutMs ?? 2000 });
  // Errors surface as `live() === false` and failed publishes; without listeners ioredis prints each.
  sub.on('error', () => undefined);
  pub.on('error', () => undefined);
  const listeners: Array<() => void> = [];
  const tell = () => {
    for (const listener of listeners) listener();
  };
  let live = false;
  let closed = false;

  sub.on('message', (channel: string) => {
    if (channel === options.channel) tell();
  });
  sub.on('close', () => {
    live = false;
  });
  sub.on('ready', () => {
    sub.subscribe(options.channel).then(
      () => {
        live = true;
        tell();
      },
      (error: unknown) => {
        if (!closed) options.logger?.warn({ err: error }, 'auth cache: cannot subscribe to invalidations; keys are looked up in the store until it can');
      },
    );
  });

  return {
    kind: 'redis',
    async publish() {
      await pub.publish(options.channel, '1');
    },
    onInvalidate: (listener) => void listeners.push(listener),
    live: () => live && sub.status === 'ready',
    async close() {
      closed = true;
      live = false;
      sub.disconnect();
      pub.disconnect();
    },
  };
}
