// Reconciliation: tasks whose final state has not arrived are polled with recordInfo (at their
// own upstream, with their own key, within its read allowance), so a lost provider callback still ends the task, frees its
// quota slot and reaches the tenant. Each task backs off (doubling up to a cap); past the tasks'
// maximum lifetime it is given up into `fail` with a clear failMsg. Any instance may run it:
// claiming a task moves its next check forward in the same statement, so two do not poll it.
// A task still `sending` (the provider's answer to createTask never recorded: a timeout, a 5xx,
// a gateway killed) cannot be polled, the provider knows it by an id the gateway never learnt:
// only its callback can confirm it, else it is given up at the maximum lifetime like any other,
// with its own failCode, and without a tenant callback (the tenant was never given its id).
import type { TaskRecord } from '../../client/types.js';
import type { TaskRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import { endQueued } from '../queue/cancel.js';
import { applyRecord, FINAL, knownRecord, readFromProvider } from './records.js';

export const GAVE_UP_CODE = 'GATEWAY_GAVE_UP';
/** A task the provider never confirmed: neither its createTask answer nor a callback arrived. */
export const UNCONFIRMED_CODE = 'GATEWAY_UNCONFIRMED';

/** The record of a task the gateway stopped waiting for. */
export function gaveUpRecord(row: TaskRow, now: number, maxLifetimeMs: number): TaskRecord {
  const last = knownRecord(row);
  const minutes = Math.round(maxLifetimeMs / 60_000);
  return {
    taskId: row.taskId,
    model: row.model,
    state: 'fail',
    param: last.param,
    resultJson: '',
    ...(row.state === 'sending'
      ? {
          failCode: UNCONFIRMED_CODE,
          failMsg: `The provider never confirmed this task within ${minutes} min (its answer to createTask did not reach the gateway, and no callback came); the gateway stopped waiting`,
        }
      : {
          failCode: GAVE_UP_CODE,
          failMsg: `No final state from the provider within ${minutes} min (last known state: ${row.state}); the gateway stopped waiting`,
        }),
    costTime: null,
    completeTime: now,
    createTime: last.createTime,
    updateTime: Math.max(now, row.updatedAt),
  };
}

export function startReconciler(ctx: GatewayContext) {
  const cfg = ctx.config.reconcile;
  const maxLifetimeMs = ctx.config.tasks.maxLifetimeMs;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const backoff = (checks: number) => Math.min(cfg.afterMs * 2 ** checks, cfg.maxBackoffMs);

  async function check(row: TaskRow): Promise<void> {
    const now = ctx.clock.now();
    // Due while still queued: its deadline (or lifetime) has come; it ends unsent, for nothing.
    // If a dispatcher took it meanwhile, that claim wins and the task is the provider's.
    if (row.state === 'queued') {
      await endQueued(ctx, row, 'expired');
      return;
    }
    const sending = row.state === 'sending';
    if (now - row.createdAt >= maxLifetimeMs) {
      // A task sent at once and never confirmed has no id the tenant knows: no callback to the
      // tenant for it. One accepted into the queue was answered with its id: the tenant hears.
      await applyRecord(ctx, sending && row.queuedAt === null ? { ...row, callBackUrl: null } : row, gaveUpRecord(row, now, maxLifetimeMs));
      ctx.logger.warn({ taskId: row.taskId, tenantId: row.tenantId, unconfirmed: sending }, 'reconcile: gave up on a task');
      return;
    }
    if (sending) {
      await ctx.store.scheduleCheck(row.taskId, row.createdAt + maxLifetimeMs);
      return;
    }
    const read = await readFromProvider(ctx, row);
    if (read.kind === 'record') {
      await applyRecord(ctx, row, read.record);
      if (FINAL.has(read.record.state)) return;
    }
    await ctx.store.scheduleCheck(row.taskId, now + backoff(row.checks));
  }

  async function sweep(): Promise<void> {
    // The claim holds each task for a while so no other instance polls it meanwhile.
    const rows = await ctx.store.claimTasksToCheck(ctx.clock.now(), Math.max(cfg.afterMs, 30_000), cfg.batch);
    for (const row of rows) {
      if (stopped) return;
      await check(row).catch((error: unknown) => ctx.logger.error({ err: error, taskId: row.taskId }, 'reconcile: check failed'));
    }
  }

  function tick(): void {
    if (stopped) return;
    running = sweep()
      .catch((error: unknown) => ctx.logger.error({ err: error }, 'reconcile: cannot read tasks'))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, cfg.intervalMs);
      });
  }
  timer = setTimeout(tick, cfg.intervalMs);

  return {
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
