// The overview's added latency: quantiles interpolated in the histogram's buckets (as
// Prometheus' histogram_quantile), over a window of snapshots that moves with the clock given.
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createAddedLatencyReader, quantile } from '../../src/gateway/admin/latency.js';

const histogram = () => new Histogram({ name: 'added', help: 'h', buckets: [0.001, 0.002, 0.005, 0.01], registers: [new Registry()] });

describe('added latency', () => {
  it('interpolates within the bucket the rank falls in', () => {
    const bounds = [1, 2, 4, Number.POSITIVE_INFINITY];
    expect(quantile(0.5, bounds, [0, 0, 0, 0])).toBeNull();
    expect(quantile(0.5, bounds, [10, 10, 10, 10])).toBe(0.5);
    expect(quantile(0.5, bounds, [0, 10, 10, 10])).toBe(1.5);
    expect(quantile(0.99, bounds, [0, 0, 10, 10])).toBeCloseTo(3.98);
    // Past the last finite bound: that bound.
    expect(quantile(0.99, bounds, [0, 0, 0, 10])).toBe(4);
  });

  it('reads about the last 10 minutes, since start at the first reading', async () => {
    const h = histogram();
    const read = createAddedLatencyReader(h);
    expect(await read(0)).toEqual({ p50: null, p99: null, count: 0 });
    for (let i = 0; i < 10; i++) h.observe(0.0015);
    expect(await read(60_000)).toMatchObject({ count: 10, p50: 1.5 });
    // Later observations, slower; the old ones leave the window once its snapshot is 10 min old.
    for (let i = 0; i < 10; i++) h.observe(0.008);
    expect((await read(120_000)).count).toBe(20);
    const later = await read(11 * 60_000);
    expect(later.count).toBe(10);
    expect(later.p50).toBeGreaterThan(5);
    expect(await read(30 * 60_000)).toEqual({ p50: null, p99: null, count: 0 });
  });
});
