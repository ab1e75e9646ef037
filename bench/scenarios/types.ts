// A scenario is a factory: it starts what it measures (in child processes), prepares its tasks,
// and hands back where to send requests and how to close it. The bench measures every scenario
// of SCENARIOS (index.ts) in the same run, interleaved; a new deployment (the gateway on Redis
// and PostgreSQL, say) is one more factory in that list.
import type { Settings } from '../settings.js';
import type { PreparedTasks } from './workload.js';

export interface BenchEnv {
  settings: Settings;
  /** The shared upstream (the simulator child). */
  upstreamUrl: string;
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
  /** Said next to the results (log level, store). */
  notes: string[];
  close(): Promise<void>;
}

export interface Scenario {
  id: string;
  label: string;
  start(env: BenchEnv): Promise<ScenarioTarget>;
}
