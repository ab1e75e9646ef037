// The loop every leased background worker runs (the outbox's tenant callbacks, the result
// copier): claim a batch of due rows under this worker's lease, work them, claim again while
// batches come back full; then sleep until the poll interval or an in-process wake-up event. A
// claim that fails is logged and retried next tick; a row's own failure is logged and left to
// its lease and schedule. The claim and the work are the caller's; the loop is this.
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

export interface LeasedWorkerOptions<Row> {
  /** For log lines: `outbox`, `result copy`. */
  name: string;
  /** Leases up to `limit` due rows to this worker. */
  claim(limit: number): Promise<Row[]>;
  /** Does one claimed row's attempt (its outcome recorded by the caller). */
  work(row: Row): Promise<unknown>;
  /** Ids for a failed attempt's log line. */
  describe(row: Row): Record<string, unknown>;
  batch: number;
  pollIntervalMs: number;
  /** Woken at once by this in-process event (a new row was written). */
  wakeOn: { events: EventEmitter; event: string };
  logger: Logger;
  /** Called by stop() before the running round is awaited (e.g. aborts downloads in flight). */
  onStop?(): void;
}

export interface LeasedWorker {
  /** Runs a round now (or right after the one running). */
  kick(): void;
  stop(): Promise<void>;
}

export function startLeasedWorker<Row>(options: LeasedWorkerOptions<Row>): LeasedWorker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let again = false;

  async function drain(): Promise<void> {
    do {
      again = false;
      const due = await options.claim(options.batch);
      await Promise.all(
        due.map((row) =>
          options.work(row).catch((e: unknown) => options.logger.error({ err: e, ...options.describe(row) }, `${options.name}: attempt failed unexpectedly`)),
        ),
      );
      if (due.length === options.batch) again = true;
    } while (again && !stopped);
  }

  function tick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = drain()
      .catch((e: unknown) => options.logger.error({ err: e }, `${options.name}: cannot claim work`))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, options.pollIntervalMs);
      });
  }

  const kick = () => {
    clearTimeout(timer);
    tick();
  };
  options.wakeOn.events.on(options.wakeOn.event, kick);
  timer = setTimeout(tick, 0);

  return {
    kick,
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      options.wakeOn.events.off(options.wakeOn.event, kick);
      options.onStop?.();
      await running;
    },
  };
}
