// GET /admin/v1/stats: what the dashboard's overview shows, in one read. Task counts come from
// the usage ledger (the store: every instance's tasks); refusals and added latency from this
// instance's metrics registry (the same numbers /metrics exposes): refusals since it started,
// added latency over about the last 10 minutes (latency.ts).
import { Router } from 'express';
import type { UsageRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import { handle } from '../respond.js';
import { createAddedLatencyReader, type AddedLatency } from './latency.js';

const MINUTE_MS = 60_000;

export interface TaskCounts {
  created: number;
  succeeded: number;
  failed: number;
  open: number;
}

export interface Stats {
  at: number;
  tasks: { lastMinute: TaskCounts; last15Minutes: TaskCounts };
  queueDepth: number | null;
  refusals: Array<{ reason: string; count: number }>;
  addedLatencyMs: AddedLatency;
}

function counts(rows: UsageRow[]): TaskCounts {
  const total: TaskCounts = { created: 0, succeeded: 0, failed: 0, open: 0 };
  for (const row of rows) {
    total.created += row.tasks;
    total.succeeded += row.succeeded;
    total.failed += row.failed;
    total.open += row.open;
  }
  return total;
}

async function tasksSince(ctx: GatewayContext, from: number): Promise<TaskCounts> {
  return counts(await ctx.store.usage({ from, groupBy: 'model' }));
}

async function refusals(ctx: GatewayContext): Promise<Stats['refusals']> {
  const metric = await ctx.metrics.refusals.get();
  return metric.values
    .map((v) => ({ reason: String(v.labels.reason), count: v.value }))
    .filter((r) => r.count > 0)
    .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1));
}

export async function readStats(ctx: GatewayContext, addedLatency: (now: number) => Promise<AddedLatency>): Promise<Stats> {
  const now = ctx.clock.now();
  const [lastMinute, last15Minutes, refused, latency, depths] = await Promise.all([
    tasksSince(ctx, now - MINUTE_MS),
    tasksSince(ctx, now - 15 * MINUTE_MS),
    refusals(ctx),
    addedLatency(now),
    ctx.store.queueDepths(),
  ]);
  // The admission queue of every instance (the store's); 0 when tenants send at once.
  const queueDepth = depths.reduce((sum, d) => sum + d.queued, 0);
  return { at: now, tasks: { lastMinute, last15Minutes }, queueDepth, refusals: refused, addedLatencyMs: latency };
}

export function statsRouter(ctx: GatewayContext): Router {
  const router = Router();
  const addedLatency = createAddedLatencyReader(ctx.metrics.addedSeconds);
  router.get(
    '/stats',
    handle(async (_req, res) => {
      res.json({ code: 200, msg: 'success', data: await readStats(ctx, addedLatency) });
    }),
  );
  return router;
}
