// A scenario is a factory: it starts what it measures (in child processes), prepares its tasks,
// and hands back where to send requests and how to close it. The bench measures every scenario
// of SCENARIOS (index.ts) in the same run, interleaved; a new deployment (the gateway on Redis
// and PostgreSQL, say) is one more factory in that list.
import type { Child } from '../processes/spawn.js';
import type { Settings } from '../settings.js';
import { prepareTasks, type PreparedTasks } from './workload.js';

export interface BenchEnv {
  settings: Settings;
  /** The shared upstream (the simulator child). */
  upstreamUrl: string;
  /** Its process (the upstream alone's CPU per request). */
  upstreamPid?: number;
  /** A fresh temporary directory for stores, removed at the end. */
  tmpDir: string;
}

export interface ScenarioTarget {
  /** Origin to send requests to. */
  url: string;
  /** Headers every request carries (the key this scenario authenticates with). */
  headers: Record<string, string>;
  /** Final and non-final tasks this scenario can read. */
  tasks: PreparedTasks;
  /** The process serving `url`, when it is the one under test (its RSS, its profile). */
  pid?: number;
  /** An SQLite file behind it, where the scale figures may bulk-load tasks. */
  sqlitePath?: string;
  /** The Redis its quotas live in, and the prefix of its keys there (the round-trip figure watches them). */
  redis?: { url: string; prefix: string };
  /** Said next to the results (log level, store). */
  notes: string[];
  close(): Promise<void>;
}

export interface Scenario {
  id: string;
  label: string;
  /** Rejects with ScenarioSkipped when what it needs is not there (any other failure stops the bench). */
  start(env: BenchEnv): Promise<ScenarioTarget>;
}

/** A scenario that cannot run here (no Redis, no PostgreSQL): the bench goes on without it and says why. */
export class ScenarioSkipped extends Error {}

/** The target a child process serves once its tasks are prepared; the child is stopped if that fails. */
export async function childTarget(
  child: Child,
  env: BenchEnv,
  headers: Record<string, string>,
  extra: Pick<ScenarioTarget, 'notes' | 'sqlitePath' | 'redis'>,
): Promise<ScenarioTarget> {
  try {
    return {
      url: child.url,
      headers,
      tasks: await prepareTasks(child.url, headers, env.settings.tasksPerKind),
      pid: child.pid,
      ...extra,
      close: () => child.stop(),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
