// Deletes copies whose retention is up: their files from the blob store, then the row is marked
// expired (records fall back to the provider's URLs, which by then are long gone, and say so).
// Any instance may sweep; two sweeping the same copy delete the same keys, which is harmless.
import type { BlobStore } from '../../blobs/types.js';
import type { GatewayContext } from '../context.js';

const BATCH = 100;

/**
 * `afterSweep` runs after a sweep that deleted something; `eachRound` after every scheduled one
 * (the results module looks there for successes whose copy was never enqueued).
 */
export function createSweeper(ctx: GatewayContext, blobs: BlobStore, afterSweep: () => Promise<void>, eachRound: () => Promise<void> = async () => undefined) {
  /** One sweep: every copy expired by now; returns how many were deleted. */
  async function sweep(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const now = ctx.clock.now();
      const expired = await ctx.store.expiredCopies(now, BATCH);
      for (const copy of expired) {
        await Promise.all((copy.files ?? []).map((f) => blobs.delete(f.key)));
        if (await ctx.store.markCopyExpired(copy.taskId, now)) deleted++;
      }
      if (expired.length < BATCH) break;
    }
    if (deleted > 0) {
      ctx.logger.info({ deleted }, 'result copies expired');
      await afterSweep();
    }
    return deleted;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  return {
    sweep,
    start() {
      const loop = () => {
        running = sweep()
          .then(eachRound)
          .catch((e: unknown) => ctx.logger.error({ err: e }, 'result sweep failed'))
          .finally(() => {
            if (!stopped) timer = setTimeout(loop, ctx.config.results.sweepIntervalMs);
          });
      };
      timer = setTimeout(loop, 0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
