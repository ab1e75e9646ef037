// The gateway's added latency for the dashboard: p50 and p99 of lxg_added_latency_seconds over
// about the last 10 minutes, interpolated within its buckets as Prometheus' histogram_quantile
// does. The histogram counts since start; a reading is the difference from a snapshot about 10
// minutes old (one kept per minute, taken when stats are read): after a quiet spell without
// readers it covers the time since the last reading, and the very first one everything since start.
import type { Histogram } from 'prom-client';

const WINDOW_MS = 10 * 60_000;
const SNAPSHOT_EVERY_MS = 60_000;

interface Snapshot {
  at: number;
  /** Cumulative count per bucket, in the order of `bounds` (+Inf last). */
  counts: number[];
}

export interface AddedLatency {
  p50: number | null;
  p99: number | null;
  count: number;
}

async function snapshot(histogram: Histogram, at: number): Promise<{ bounds: number[]; now: Snapshot }> {
  const buckets = (await histogram.get()).values.filter((v) => v.metricName?.endsWith('_bucket'));
  const bounds = buckets.map((v) => (v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le)));
  return { bounds, now: { at, counts: buckets.map((v) => v.value) } };
}

/** The q-quantile of cumulative bucket counts, linear within its bucket; null when empty. */
export function quantile(q: number, bounds: number[], counts: number[]): number | null {
  const total = counts[counts.length - 1] ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  const i = counts.findIndex((c) => c >= rank);
  const upper = bounds[i]!;
  const lower = i === 0 ? 0 : bounds[i - 1]!;
  // Beyond the last finite bound: say that bound (as histogram_quantile does).
  if (upper === Number.POSITIVE_INFINITY) return lower;
  const below = i === 0 ? 0 : counts[i - 1]!;
  const inBucket = counts[i]! - below;
  return lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket);
}

/** A reader of the window; its snapshots live with it (one per gateway), never in the module. */
export function createAddedLatencyReader(histogram: Histogram) {
  const snapshots: Snapshot[] = [];
  return async function read(now: number): Promise<AddedLatency> {
    const { bounds, now: current } = await snapshot(histogram, now);
    // The base: the newest snapshot at or before the window's start (else the oldest there is).
    while (snapshots.length > 1 && snapshots[1]!.at <= now - WINDOW_MS) snapshots.shift();
    const base = snapshots[0]?.counts ?? current.counts.map(() => 0);
    if (snapshots.length === 0 || now - snapshots[snapshots.length - 1]!.at >= SNAPSHOT_EVERY_MS) snapshots.push(current);
    const counts = current.counts.map((c, i) => c - (base[i] ?? 0));
    const ms = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 10_000) / 10);
    return { p50: ms(quantile(0.5, bounds, counts)), p99: ms(quantile(0.99, bounds, counts)), count: counts[counts.length - 1] ?? 0 };
  };
}
