// One instance's listeners (SSE streams, Prefer: wait) on the tenants' event logs. Per tenant
// with listeners there is one feed: it reads the store's log after its cursor when woken (an event
// written here, a fan-out message from another instance) and on a slow poll (what a lost message
// or an instance without fan-out leaves), and hands each event to the tenant's listeners in seq
// order. A listener resuming from an older seq (Last-Event-ID) is replayed its gap from the log
// before it joins. All of a feed's work runs one step at a time, so nothing is delivered twice
// or out of order. A tenant's feed only ever reads that tenant's log.
//
// Reading only past the cursor is enough because the store commits a tenant's events in seq
// order, whichever instance appends them (PostgreSQL: a per-tenant lock taken before seq is
// drawn, src/store/tenant-order.ts; SQLite: one writer): once a read returns seq n, no event of
// the tenant below n can still appear.
import type { TaskEventRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import type { Fanout } from './fanout.js';

const PAGE = 500;

export interface Listener {
  /** Deliver only this task's events. */
  taskId?: string;
  /** Called for each event after the listener's seq, in order. */
  onEvent(event: TaskEventRow): void;
}

interface Subscription extends Listener {
  last: number;
}

interface Feed {
  tenantId: string;
  cursor: number;
  listeners: Set<Subscription>;
  chain: Promise<void>;
  pumping: boolean;
}

export interface EventHub {
  /**
   * Starts delivering the tenant's events after `afterSeq` (undefined: from now). Resolves, once
   * the backlog has been delivered, to the seq the listener is at and a function that stops it.
   */
  listen(tenantId: string, listener: Listener, afterSeq?: number): Promise<{ seq: number; stop(): void }>;
  /** Wakes the tenant's feed (an event was written up to `seq`). */
  wake(tenantId: string, seq: number): void;
  close(): Promise<void>;
}

export function createEventHub(ctx: GatewayContext, fanout: Fanout): EventHub {
  const feeds = new Map<string, Feed>();
  const cfg = ctx.config.events;

  function deliver(feed: Feed, events: TaskEventRow[], only?: Subscription): void {
    for (const event of events) {
      for (const sub of only ? [only] : feed.listeners) {
        if (event.seq <= sub.last) continue;
        sub.last = event.seq;
        if (sub.taskId === undefined || sub.taskId === event.taskId) sub.onEvent(event);
      }
    }
  }

  /** Runs `step` after the feed's earlier steps (one at a time per feed). */
  function serial(feed: Feed, step: () => Promise<void>): Promise<void> {
    const next = feed.chain.then(step).catch((e: unknown) => ctx.logger.warn({ err: e, tenantId: feed.tenantId }, 'events: cannot read the event log'));
    feed.chain = next;
    return next;
  }

  function pump(feed: Feed): void {
    if (feed.pumping) return;
    feed.pumping = true;
    void serial(feed, async () => {
      feed.pumping = false;
      for (;;) {
        const events = await ctx.store.eventsAfter(feed.tenantId, feed.cursor, PAGE);
        if (events.length > 0) feed.cursor = events[events.length - 1]!.seq;
        deliver(feed, events);
        if (events.length < PAGE) break;
      }
    });
  }

  const poll = setInterval(() => {
    for (const feed of feeds.values()) pump(feed);
  }, cfg.pollIntervalMs);
  poll.unref();

  const wake = (tenantId: string, seq: number) => {
    const feed = feeds.get(tenantId);
    if (feed && seq > feed.cursor) pump(feed);
  };
  fanout.onWake(wake);

  return {
    wake,
    async listen(tenantId, listener, afterSeq) {
      let feed = feeds.get(tenantId);
      if (!feed) {
        const created: Feed = { tenantId, cursor: 0, listeners: new Set(), chain: Promise.resolve(), pumping: false };
        feeds.set(tenantId, created);
        await serial(created, async () => {
          created.cursor = await ctx.store.lastEventSeq(tenantId);
        });
        feed = created;
      }
      const sub: Subscription = { ...listener, last: afterSeq ?? feed.cursor };
      const joined = feed;
      await serial(joined, async () => {
        // The gap between where the listener resumes and where the feed is, from the log.
        while (sub.last < joined.cursor) {
          const events = await ctx.store.eventsAfter(tenantId, sub.last, PAGE);
          const upTo = events.filter((e) => e.seq <= joined.cursor);
          deliver(joined, upTo, sub);
          if (upTo.length < PAGE) break;
        }
        if (sub.last < joined.cursor) sub.last = joined.cursor;
        joined.listeners.add(sub);
      });
      ctx.metrics.eventListeners.inc();
      return {
        seq: sub.last,
        stop() {
          if (!joined.listeners.delete(sub)) return;
          ctx.metrics.eventListeners.dec();
          if (joined.listeners.size === 0 && feeds.get(tenantId) === joined) feeds.delete(tenantId);
        },
      };
    },
    async close() {
      clearInterval(poll);
      feeds.clear();
    },
  };
}
