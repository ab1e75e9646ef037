// The measured operations, one round of every scenario × operation, and the figures over rounds.
// Latency is taken at a fixed low concurrency (one connection: the request's own cost, no
// queueing) and compared with the upstream alone *in the same round*, so drift over the run
// (the simulator's growing task map, the machine's other work) cancels out; throughput at
// saturation is taken with many connections. Scenarios run one after another, in an order that
// rotates every round, never side by side.
import { readFileSync } from 'node:fs';
import { percentile, rawRequest, runLoad, type LoadResult } from './load.js';
import { BASELINE, FLOOR } from './scenarios/index.js';
import type { ScenarioTarget } from './scenarios/types.js';
import { CREATE_BODY, OPEN_TASK_BODY } from './scenarios/workload.js';
import type { Settings } from './settings.js';

export interface Operation {
  id: 'createTask' | 'createTask-callback' | 'recordInfo-final' | 'recordInfo-pending';
  label: string;
  /** The i-th request of this operation against a target. */
  request(target: ScenarioTarget): (i: number) => string;
}

const recordInfo = (target: ScenarioTarget, taskId: string) =>
  rawRequest('GET', target.url, `/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`, target.headers);

export const OPERATIONS: readonly Operation[] = [
  {
    // The request's own cost: its task is still running when the run ends.
    id: 'createTask',
    label: 'createTask',
    request(target) {
      const raw = rawRequest('POST', target.url, '/api/v1/jobs/createTask', target.headers, OPEN_TASK_BODY);
      return () => raw;
    },
  },
  {
    // Its task ends at once: every createTask through the gateway also brings the provider's
    // callback (received, recorded, settled) into the measured window.
    id: 'createTask-callback',
    label: 'createTask + callback',
    request(target) {
      const raw = rawRequest('POST', target.url, '/api/v1/jobs/createTask', target.headers, CREATE_BODY);
      return () => raw;
    },
  },
  {
    id: 'recordInfo-final',
    label: 'recordInfo (final)',
    request: (target) => (i) => recordInfo(target, target.tasks.final[i % target.tasks.final.length]!),
  },
  {
    // Spread over many tasks: the gateway shares concurrent reads of one task, which would
    // measure the sharing rather than the read.
    id: 'recordInfo-pending',
    label: 'recordInfo (non-final)',
    request: (target) => (i) => recordInfo(target, target.tasks.pending[i % target.tasks.pending.length]!),
  },
];

export interface RunFigures {
  p50Ms: number;
  p99Ms: number;
  rps: number;
  /** CPU (user + system) of the server measured, per answered request at saturation; NaN without a pid. */
  cpuUs: number;
  errors: number;
}

/** figures[scenarioId][operationId] for one round. */
export type RoundFigures = Record<string, Record<string, RunFigures>>;

export interface Measured {
  scenario: string;
  target: ScenarioTarget;
}

function describeErrors(result: LoadResult): string {
  return Object.entries(result.errorKinds)
    .map(([kind, n]) => `${n}× ${kind}`)
    .join(', ');
}

/** Every latency and saturation figure rests on at least this many answers, however busy the machine. */
const MIN_ANSWERS = 50;

export async function latencyRun(url: string, request: (i: number) => string, settings: Settings, durationMs = settings.latencyMs) {
  const result = await runLoad({ url, connections: settings.latencyConnections, warmupMs: settings.warmupMs, durationMs, request, minAnswers: MIN_ANSWERS });
  if (result.errors > 0) console.warn(`bench: ${url}: ${describeErrors(result)} during a latency run`);
  return { p50Ms: percentile(result.latencies, 0.5), p99Ms: percentile(result.latencies, 0.99), errors: result.errors };
}

/**
 * A process's CPU time so far, µs, from /proc (Linux; NaN elsewhere). Requests/s at saturation
 * depend on what else shares the cores (here the load generator and the simulator); CPU per
 * request is the server's own cost.
 */
export function cpuTimeUs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS = 100; // USER_HZ: 100 on every Linux Node supports

async function saturationRun(target: ScenarioTarget, request: (i: number) => string, settings: Settings, durationMs: number) {
  const before = cpuTimeUs(target.pid);
  const result = await runLoad({
    url: target.url,
    connections: settings.saturationConnections,
    warmupMs: settings.warmupMs,
    durationMs,
    request,
    minAnswers: MIN_ANSWERS,
  });
  if (result.errors > 0) console.warn(`bench: ${target.url}: ${describeErrors(result)} at saturation`);
  // Over every request sent: the warm-up's are in the CPU time too.
  return { rps: result.rps, cpuUs: (cpuTimeUs(target.pid) - before) / result.sent, errors: result.errors };
}

const rotate = <T>(items: readonly T[], by: number) => items.map((_, i) => items[(i + by) % items.length]!);

export async function measureRound(measured: readonly Measured[], settings: Settings, round: number, warmup = false): Promise<RoundFigures> {
  const latencyMs = warmup ? settings.warmupRound.latencyMs : settings.latencyMs;
  const saturationMs = warmup ? settings.warmupRound.saturationMs : settings.saturationMs;
  const figures: RoundFigures = {};
  for (const { scenario } of measured) figures[scenario] = {};
  for (const op of OPERATIONS) {
    const order = rotate(measured, round);
    for (const { scenario, target } of order) {
      figures[scenario]![op.id] = { ...(await latencyRun(target.url, op.request(target), settings, latencyMs)), rps: Number.NaN, cpuUs: Number.NaN };
    }
    for (const { scenario, target } of order) {
      const { rps, cpuUs, errors } = await saturationRun(target, op.request(target), settings, saturationMs);
      figures[scenario]![op.id]!.rps = rps;
      figures[scenario]![op.id]!.cpuUs = cpuUs;
      figures[scenario]![op.id]!.errors += errors;
    }
  }
  return figures;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Summary {
  operation: string;
  scenario: string;
  p50Ms: number;
  p99Ms: number;
  /** null for the baseline itself. */
  addedP50Ms: number | null;
  addedP99Ms: number | null;
  rps: number;
  /** The server's CPU per request at saturation, µs (null where its process is not known). */
  cpuUsPerRequest: number | null;
  /** Throughput over the bare proxy's, same round; null for scenarios in front of which there is no proxy. */
  ratioToProxy: number | null;
  errors: number;
}

/** Medians over rounds; added latency and the throughput ratio are taken per round first. */
export function summarize(rounds: readonly RoundFigures[], scenarios: readonly string[]): Summary[] {
  const summaries: Summary[] = [];
  for (const op of OPERATIONS) {
    for (const scenario of scenarios) {
      const runs = rounds.map((r) => r[scenario]![op.id]!);
      const base = rounds.map((r) => r[BASELINE]![op.id]!);
      const floor = rounds.map((r) => r[FLOOR]![op.id]!);
      const isBase = scenario === BASELINE;
      summaries.push({
        operation: op.id,
        scenario,
        p50Ms: median(runs.map((f) => f.p50Ms)),
        p99Ms: median(runs.map((f) => f.p99Ms)),
        addedP50Ms: isBase ? null : median(runs.map((f, i) => f.p50Ms - base[i]!.p50Ms)),
        addedP99Ms: isBase ? null : median(runs.map((f, i) => f.p99Ms - base[i]!.p99Ms)),
        rps: median(runs.map((f) => f.rps)),
        cpuUsPerRequest: runs.some((f) => Number.isNaN(f.cpuUs)) ? null : median(runs.map((f) => f.cpuUs)),
        ratioToProxy: isBase ? null : median(runs.map((f, i) => f.rps / floor[i]!.rps)),
        errors: runs.reduce((n, f) => n + f.errors, 0),
      });
    }
  }
  return summaries;
}
