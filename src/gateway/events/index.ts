// Live task events, wired: the recorder writes each tenant's event log, the fan-out wakes the
// other instances, the hub serves this instance's listeners, and the SSE route and Prefer: wait
// listen through it.
import type { Logger } from 'pino';
import type { GatewayContext } from '../context.js';
import { fanoutFor, type Fanout } from './fanout.js';
import { createEventHub } from './hub.js';
import { startEventRecorder } from './recorder.js';
import { createEventStreams } from './sse.js';

export { EVENTS_PATH, storedRecord, isSettled } from './sse.js';
export { createHeldCalls, preferredWait, preferenceApplied, startWaiter, type Hold } from './wait.js';
export type { EventHub } from './hub.js';

/** Start-up does not wait longer than this for a fan-out that is down (polling covers it meanwhile). */
const READY_WAIT_MS = 2000;

function bounded(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createTaskEvents(ctx: GatewayContext, options: { fanout?: Fanout; logger?: Logger } = {}) {
  const fanout = options.fanout ?? fanoutFor(ctx.config, options.logger ?? ctx.logger);
  const hub = createEventHub(ctx, fanout);
  const recorder = startEventRecorder(ctx, fanout, hub);
  const streams = createEventStreams(ctx, hub);
  const stopping = new AbortController();
  return {
    hub,
    fanout,
    /** Resolves once other instances' events reach this one (or polling alone will have to do). */
    ready: () => bounded(fanout.ready(), READY_WAIT_MS),
    recorder,
    stream: streams.stream,
    /** Aborted at shutdown: held answers (Prefer: wait) are given at once rather than cut. */
    stopping: stopping.signal,
    /** Ends the open SSE streams and held waits (shutdown: clients reconnect elsewhere with Last-Event-ID). */
    endStreams() {
      stopping.abort();
      streams.closeAll();
    },
    async close() {
      streams.closeAll();
      await recorder.stop();
      await hub.close();
      await fanout.close();
    },
  };
}

export type TaskEvents = ReturnType<typeof createTaskEvents>;
