// The bench's table (bench/report.ts) as a plain function: an added latency below zero is noise,
// and is said to be, never printed as the gateway costing less than nothing.
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../bench/measure.js';
import { addedMs, judge, NOISE, render, type BenchResults } from '../../bench/report.js';

const row = (scenario: string, added: number | null): Summary => ({
  operation: 'createTask',
  scenario,
  p50Ms: 0.4,
  p99Ms: 0.9,
  addedP50Ms: added === null ? null : 0.2,
  addedP99Ms: added,
  rps: 1000,
  cpuUsPerRequest: 50,
  ratioToProxy: scenario === 'upstream' ? null : 0.8,
  errors: 0,
});

function results(addedP99: number, storedAddedP99: number): BenchResults {
  const summaries = ['createTask', 'createTask-callback', 'recordInfo-final', 'recordInfo-pending'].flatMap((operation) =>
    [row('upstream', null), row('gateway-embedded', addedP99)].map((r) => ({ ...r, operation })),
  );
  const scale: BenchResults['scale'] = {
    storedTasks: { storedTasks: 10_000, insertSeconds: 0.5, p50Ms: 0.3, p99Ms: 0.8, addedP50Ms: 0.05, addedP99Ms: storedAddedP99, errors: 0 },
    rss: { tasks: 5000, seconds: 3, startMb: 90, rssMb: 100, peakMb: 110, heapStartMb: 20, heapAfterMb: 22, externalAfterMb: 3, errors: 0 },
    paced: [{ keys: 1, fireSeconds: 4, perWindow: [20], accepted: 20, expected: 20, refused: 5 }],
    redisRoundTrips: { skipped: 'no redis-server' },
    polling: {
      tasks: 200,
      clients: 40,
      seconds: 4,
      polls: 600,
      unknownShare: 0,
      pollP50Ms: 0.3,
      pollP99Ms: 1,
      upstreamReadsPerSecond: 8,
      refusedShare: 0,
      cpuUsPerPoll: 60,
    },
    idle: { connections: 1000, held: 1000, rssStartMb: 90, rssHeldMb: 100, freshRequests: 300, freshErrors: 0, freshP99Ms: 1 },
    revocation: { skipped: 'no PostgreSQL' },
  };
  return {
    version: 1,
    startedAt: '2025-01-01T00:00:00.000Z',
    durationSeconds: 50,
    mode: 'quick',
    machine: { node: 'v20.19.0', cpu: 'test', cores: 2, platform: 'linux x64', memoryGb: 4, loadAverage: { start: 0, end: 0 } },
    method: { rounds: 2, latencyConnections: 1, latencyMs: 250, saturationConnections: 64, saturationMs: 300 },
    gatewayLogLevel: 'warn',
    scenarios: [],
    skipped: [],
    operations: [],
    results: summaries,
    scale,
    targets: judge(summaries, scale),
  };
}

describe('added latency in the bench table', () => {
  it('shows a negative difference as noise, and a positive one as measured', () => {
    expect(addedMs(-0.042)).toBe(NOISE);
    expect(addedMs(0.042)).toBe('0.042');
    expect(addedMs(0)).toBe('0.000');
    expect(addedMs(null)).toBe('–');
  });

  it('never prints a negative added figure, and explains the marker once', () => {
    const text = render(results(-0.131, -0.02));
    expect(text).not.toMatch(/-0\.\d{3}/);
    expect(text).toContain(`added p99 ${NOISE}`); // the stored-tasks line
    expect(text).toMatch(/createTask added p99 \(embedded\)\s+≈0 \(noise\)\s+≤ 2 ms\s+pass/);
    expect(text.split('\n').filter((l) => l.startsWith(`${NOISE}:`))).toHaveLength(1);
  });

  it('adds no note when every figure is measured above zero', () => {
    const text = render(results(0.131, 0.02));
    expect(text).toContain('added p99 0.020 ms');
    expect(text).not.toContain(NOISE);
  });
});
