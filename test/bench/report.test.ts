// The bench's table (bench/report.ts) as a plain function: an added latency below zero is noise,
// and is said to be, never printed as the gateway costing less than nothing; the admission queue's
// and the results/events figures are rendered, and the queue's targets judged.
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../bench/measure.js';
import { addedMs, judge, NOISE, render, type BenchResults } from '../../bench/report.js';
import type { QueueFigure } from '../../bench/scale/queue.js';

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

const queue = (mean: number, peak: number, heavy: number, light: number): QueueFigure => ({
  efficiency: { windows: 4, allowance: 40, perWindow: [40, 40, 40, 40], mean, peak },
  fairness: { weights: [3, 1], dispatched: heavy + light, heavy, light, ratio: heavy / light, error: Math.abs(heavy / light / 3 - 1) },
  lightWait: { tasks: 24, p99Ms: 500 },
  accept: { queued: 5_000, samples: 200, p50Ms: 1.2, p99Ms: 18.1 },
});

function results(addedP99: number, storedAddedP99: number, queueFigure = queue(1, 1, 300, 100)): BenchResults {
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
    queue: queueFigure,
    resultsEvents: {
      copy: { files: 5, mbEach: 8, mbPerSecond: 41.25 },
      successToDurable: { tasks: 20, p50Ms: 530, p95Ms: 705 },
      sse: { listeners: 200, eventsWritten: 60, delivered: 12_000, eventsPerSecond: 6164, rssBeforeMb: 209, rssWithListenersMb: 214 },
    },
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

describe('the admission queue and results/events figures in the bench table', () => {
  it('renders every figure, naming the full run beside the quick sizes', () => {
    const text = render(results(0.1, 0.02));
    expect(text).toContain('dispatch efficiency under a backlog 1.000 over 4 × 10 s (40 + 40 + 40 + 40; busiest window 1.000)');
    expect(text).toContain('weights 3:1: 300 : 100 of 400 dispatched = 3.000:1 (0.0% off)');
    expect(text).toContain('time in queue p99 0.50 s of clock time (24 tasks)');
    expect(text).toContain('createTask accepted with 5,000 tasks queued (--quick; the full run 100,000): p50 1.200 ms, p99 18.100 ms');
    expect(text).toContain('41.3 MB/s through the downloader into the directory store (5 × 8 MB)');
    expect(text).toContain('provider success → durable URL p50 530 ms, p95 705 ms (20 tasks');
    expect(text).toContain(
      'task events over SSE to 200 listeners of one tenant (--quick; the full run 1,000): 60 events each, 12,000 delivered, 6,164 events/s',
    );
    expect(text).toContain('RSS 209.0 → 214.0 MB with them connected');
  });

  it('judges efficiency (at least 98%, no window above the allowance) and fairness (within 5% of 3:1)', () => {
    const judged = (figure: QueueFigure) =>
      Object.fromEntries(
        results(0.1, 0.02, figure)
          .targets.filter((t) => t.id.startsWith('queue-'))
          .map((t) => [t.id, t.pass]),
      );
    expect(judged(queue(1, 1, 300, 100))).toEqual({ 'queue-efficiency': true, 'queue-efficiency-peak': true, 'queue-fairness': true });
    // 0.975 of the allowance used; a window 5% over it; 2.8:1 (6.7% off 3:1).
    expect(judged(queue(0.975, 1, 300, 100))['queue-efficiency']).toBe(false);
    expect(judged(queue(1, 1.05, 300, 100))['queue-efficiency-peak']).toBe(false);
    expect(judged(queue(1, 1, 294, 105))['queue-fairness']).toBe(false);
    expect(judged(queue(1, 1, 301, 99))['queue-fairness']).toBe(true);
    const text = render(results(0.1, 0.02, queue(0.975, 1, 300, 100)));
    expect(text).toMatch(/queue dispatch efficiency under a backlog \(4 × 10 s\)\s+97\.5 %\s+≥ 98 %\s+MISS/);
    expect(text).toMatch(/queue dispatch, busiest 10 s window \/ allowance\s+100\.0 %\s+≤ 100 %\s+pass/);
    expect(text).toMatch(/queue fairness: dispatch ratio off weights 3:1\s+0\.0 %\s+≤ 5 %\s+pass/);
  });

  it('shows the results/events figures without judging them (they have no target)', () => {
    const ids = results(0.1, 0.02).targets.map((t) => t.id);
    expect(ids.filter((id) => /copy|sse|durable|accept|wait/.test(id))).toEqual([]);
  });
});
