// How long and how hard each part runs: the full run, and --quick (a smoke run of about a minute
// that goes through every step with smaller numbers). Flags:
//   --quick             the smoke run
//   --out FILE          where the JSON goes (default bench/results/latest.json)
//   --profile           run the gateway children under --cpu-prof (into bench/results/profiles/run-*;
//                       read them with bench/profile-summary.ts; profiling slows the gateway)
//   --log-level LEVEL   the gateway's log level (default warn; lines go to /dev/null either way)
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './processes/spawn.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Settings {
  mode: 'full' | 'quick';
  /** Measured rounds; each figure is the median over them. One warm-up round runs first. */
  rounds: number;
  /** Warm-up round's durations, ms (not recorded). */
  warmupRound: { latencyMs: number; saturationMs: number };
  /** Before every measured window: connect, let pools fill and code warm, ms. */
  warmupMs: number;
  latencyConnections: number;
  latencyMs: number;
  saturationConnections: number;
  saturationMs: number;
  /** Final and non-final tasks each scenario prepares for recordInfo. */
  tasksPerKind: number;
  /** Tasks bulk-loaded for the recordInfo-at-scale figure, and its rounds. */
  storedTasks: number;
  scaleRounds: number;
  /** Tasks created through a fresh gateway before reading its RSS. */
  rssTasks: number;
  /** createTask sent while MONITOR counts the Redis round trips. */
  roundTripTasks: number;
  /** Provider keys per paced run, and how long createTask is fired at them. */
  pacedKeys: number[];
  pacedFireMs: number;
  /** The admission queue's figures (bench/scale/queue.ts). */
  queue: {
    /** Steady 10 s windows over which dispatch efficiency is counted (the light tenant's waits too). */
    steadyWindows: number;
    /**
     * Tasks each of the two tenants (weights 3:1) queues; as many are dispatched and counted. At
     * least 160: the heavy backlog, less the first window's 40, must outlast its 3/4 of them.
     */
    fairnessTasks: number;
    /** Tasks already queued when accept latency is taken, and the createTask timed. */
    queuedForAccept: number;
    acceptSamples: number;
  };
  /** Result copies and live events (bench/scale/results-events.ts). */
  results: {
    /** Files copied for the throughput figure, and their size. */
    copyFiles: number;
    copyMb: number;
    /** Tasks run through a gateway with copies on (success → durable URL), then as many again to the listeners. */
    tasks: number;
    sseListeners: number;
  };
  logLevel: LogLevel;
  profileDir: string | undefined;
  out: string;
}

export function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'warn' },
    },
    strict: true,
  });
  const quick = values.quick!;
  const common = {
    latencyConnections: 1,
    saturationConnections: 64,
    pacedKeys: [1, 2, 4],
    logLevel: values['log-level'] as LogLevel,
    profileDir: values.profile ? join(ROOT, 'bench/results/profiles', `run-${Date.now()}`) : undefined,
    out: values.out ?? join(ROOT, 'bench/results/latest.json'),
  };
  if (quick) {
    return {
      ...common,
      mode: 'quick',
      // The timed windows are most of a quick run (16 per round), so they are what was cut: about
      // 23 s of windows in all, down from 33 s (the run took 68 s on a 2-core machine; 49 to 64 s
      // after, on the same machine kept at a load average of 8 to 15 by other work).
      rounds: 2,
      warmupRound: { latencyMs: 100, saturationMs: 100 },
      warmupMs: 50,
      latencyMs: 150,
      saturationMs: 200,
      tasksPerKind: 100,
      storedTasks: 10_000,
      scaleRounds: 2,
      rssTasks: 2_000,
      roundTripTasks: 200,
      // One window: every key's 20 are taken and none comes back within 10 s (4 s leaves room
      // for a busy machine to get all of them through).
      pacedFireMs: 4_000,
      // Together about 27 s of the bench process on the 2-core machine at a load average of 6 to 9
      // (21 s the queue, 6 s copies and events). The fairness count stays at 400: a window's edge
      // moves a tenant's count by one, 1.3% of the ratio here (2.6% at 200).
      queue: { steadyWindows: 4, fairnessTasks: 400, queuedForAccept: 5_000, acceptSamples: 200 },
      results: { copyFiles: 5, copyMb: 8, tasks: 20, sseListeners: 200 },
    };
  }
  return {
    ...common,
    mode: 'full',
    rounds: 5,
    warmupRound: { latencyMs: 1_000, saturationMs: 1_500 },
    warmupMs: 250,
    latencyMs: 1_500,
    saturationMs: 2_500,
    tasksPerKind: 2_000,
    storedTasks: 1_000_000,
    scaleRounds: 3,
    rssTasks: 100_000,
    roundTripTasks: 2_000,
    // Two windows: the 20 per key at once, then the 20 that come back 10 s later, then stop
    // half a second before the third would.
    pacedFireMs: 19_500,
    queue: { steadyWindows: 8, fairnessTasks: 800, queuedForAccept: 100_000, acceptSamples: 500 },
    results: { copyFiles: 20, copyMb: 8, tasks: 50, sseListeners: 1_000 },
  };
}
