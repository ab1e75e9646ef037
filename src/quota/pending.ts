// Writes the shared quota store missed: the undo of an admission whose answer never came, a
// release or a settle that failed. Each would otherwise leave a count taken (a slot until its
// lease, a day's task until midnight) or a cost uncounted. They are kept here and retried until
// Redis takes them; each is safe to run twice, and none depends on another's order. Off the hot
// path: admissions never wait for them.
import type { Logger } from 'pino';

export interface PendingWrite {
  /** For the logs: what it is (`undo`, `release`, `settle`). */
  what: string;
  run(): Promise<unknown>;
}

export interface PendingWrites {
  /** Sends it at once (an undo then reaches Redis right behind the admission it undoes). */
  add(write: PendingWrite): void;
  /** Tries the writes now (Redis is back); they are also tried every `retryMs`. */
  flush(): void;
  size(): number;
  stop(): void;
}

export interface PendingOptions {
  retryMs: number;
  /** Beyond this many the oldest is dropped (its slot still frees at its lease). */
  limit: number;
  logger?: Logger;
}

/** Tried at once at most: a Redis that is slow, not gone, is not sent the whole backlog each round. */
const BATCH = 100;

export function createPendingWrites(options: PendingOptions): PendingWrites {
  const queue = new Set<PendingWrite>(); // in the order they came: the first is the oldest
  const trying = new Set<PendingWrite>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function later(): void {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      flush();
    }, options.retryMs);
    timer.unref();
  }

  function attempt(write: PendingWrite): void {
    trying.add(write);
    write.run().then(
      () => {
        trying.delete(write);
        if (!queue.delete(write)) return;
        if (queue.size === 0) options.logger?.info('quota: every write Redis missed has landed');
        else if (trying.size === 0) flush(); // the backlog, a batch at a time
      },
      () => {
        trying.delete(write);
        later();
      },
    );
  }

  function flush(): void {
    if (stopped) return;
    for (const write of queue) {
      if (trying.size >= BATCH) return;
      if (!trying.has(write)) attempt(write);
    }
  }

  return {
    add(write) {
      if (stopped) return;
      if (queue.size === 0) options.logger?.warn({ what: write.what }, 'quota: a write did not reach Redis; retrying until it does');
      queue.add(write);
      if (queue.size > options.limit) {
        const [oldest] = queue;
        queue.delete(oldest!);
        options.logger?.error({ what: oldest!.what, limit: options.limit }, 'quota: too many writes missed by Redis; dropped the oldest');
      }
      attempt(write);
    },
    flush,
    size: () => queue.size,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
