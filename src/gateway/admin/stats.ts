// GET /admin/v1/stats: what the dashboard's overview shows, in one read. Task counts come from
// the usage ledger (the store: every instance's tasks); refusals and added latency from this
// instance's metrics registry (the same numbers /metrics exposes), since it started.
import { Router } from 'express';
import type { UsageRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import { handle } from '../respond.js';

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
  addedLatencyMs: { p50: number | null; p99: number | null; count: number };
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

async function addedLatency(ctx: GatewayContext): Promise<Stats['addedLatencyMs']> {
  const metric = await ctx.metrics.addedSeconds.get();
  const count = metric.values.find((v) => v.metricName === 'lxg_added_latency_seconds_count')?.value ?? 0;
  const quantile = (q: number) => {
    const value = metric.values.find((v) => v.labels.quantile === q)?.value;
    // None without a measurement (prom-client would say 0), in ms to a tenth.
    return value === undefined || count === 0 ? null : Math.round(value * 10_000) / 10;
  };
  return { p50: quantile(0.5), p99: quantile(0.99), count };
}

export async function readStats(ctx: GatewayContext): Promise<Stats> {
  const now = ctx.clock.now();
  const [lastMinute, last15Minutes, refused, latency] = await Promise.all([
    tasksSince(ctx, now - MINUTE_MS),
    tasksSince(ctx, now - 15 * MINUTE_MS),
    refusals(ctx),
    addedLatency(ctx),
  ]);
  // No durable queue in this store yet: tasks go to the provider as they are admitted.
  return { at: now, tasks: { lastMinute, last15Minutes }, queueDepth: null, refusals: refused, addedLatencyMs: latency };
}

export function statsRouter(ctx: GatewayContext): Router {
  const router = Router();
  router.get('/stats', handle(async (_req, res) => {
    res.json({ code: 200, msg: 'success', data: await readStats(ctx) });
  }));
  return router;
}
