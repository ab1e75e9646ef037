// Everything one simulator instance knows, passed to its handlers (no module-level state, so
// several simulators run side by side in one test process).
import type { InputDefaults } from '../../src/spec/defaults.js';
import type { Account, createAccounts } from './accounts.js';
import type { Dialect } from './dialect.js';
import type { DialectName, Timing } from './options.js';
import type { Quirks } from './quirks.js';
import type { SimTask } from './tasks.js';

export interface SimulatorState {
  accounts: ReturnType<typeof createAccounts>;
  tasks: Map<string, SimTask>;
  timing: Timing;
  createPer10s: number;
  recordInfoPerSecond: number;
  publicUrl: string;
  maintenance: boolean;
  /** model → the spec's defaults of its input fields. */
  defaults: ReadonlyMap<string, InputDefaults>;
  /** Each dialect an account may speak: its contract and how its answers are worded. */
  dialects: Record<DialectName, Dialect>;
  /** The dialect of a call with no valid key (no account to ask). */
  dialect: Dialect;
  now: () => number;
  fileCache: BoundedCache<Buffer>;
  /**
   * Tasks whose result files are gone (`expireResults`): the provider's links last minutes and its
   * files days, so tests make them expire on demand rather than wait. `'*'` expires every task's.
   */
  expiredFiles: Set<string>;
  /** Calls answered so far, refused ones included: what "the provider saw". */
  counters: { createTask: number; recordInfo: number /** Of those, refused HTTP 429 by the rate limit. */; createTask429: number; recordInfo429: number };
  /** Schedules what happens when the task ends (refund, callback). */
  onCreated(task: SimTask, account: Account, quirks: Quirks): void;
}

/** Keeps the most recently added entries only, so drawn result images cannot grow without bound. */
export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(key: string): V | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: V): void {
    this.entries.set(key, value);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
  }
}
