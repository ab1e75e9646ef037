// The child's side of spawn.ts: report the URL once listening, stop cleanly when asked (so
// `--cpu-prof` gets to write its profile) or when the bench process goes away, and answer the
// diagnostics bench/profile.ts asks for: a CPU profile of just the measured window (through the
// inspector, so start-up and task preparation stay out of it), the heap, SQL counts.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'stop' }
  /** Asks for the heap after a full GC (when run with --expose-gc): what is retained, not garbage. */
  | { type: 'heap' }
  | { type: 'heap'; heapUsedMb: number; externalMb: number; collected: boolean }
  /** SQL statements run so far, by text (gateway child with BENCH_SQL_COUNTS=1). */
  | { type: 'sql' }
  | { type: 'sql'; counts: Array<[string, number]> }
  /** Starts the CPU profiler or the sampling heap profiler (allocations); `stop` writes the profile to `path`. */
  | { type: 'profile'; action: 'start'; kind: 'cpu' | 'heap' }
  | { type: 'profile'; action: 'stop'; path: string }
  | { type: 'profile'; action: 'started' | 'written' };

let session: Session | undefined;
let kind: 'cpu' | 'heap' = 'cpu';

function profile(message: Extract<ChildMessage, { type: 'profile' }>): void {
  const started = () => process.send!({ type: 'profile', action: 'started' } satisfies ChildMessage);
  if (message.action === 'start') {
    kind = message.kind;
    session = new Session();
    session.connect();
    if (kind === 'cpu') {
      session.post('Profiler.enable', () => session!.post('Profiler.setSamplingInterval', { interval: 200 }, () => session!.post('Profiler.start', started)));
    } else {
      session.post('HeapProfiler.enable', () =>
        session!.post(
          'HeapProfiler.startSampling',
          { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true },
          started,
        ),
      );
    }
  } else if (message.action === 'stop') {
    const path = message.path;
    const write = (error: Error | null, result: { profile: object }) => {
      if (!error) writeFileSync(path, JSON.stringify(result.profile));
      session?.disconnect();
      process.send!({ type: 'profile', action: 'written' } satisfies ChildMessage);
    };
    if (kind === 'cpu') session?.post('Profiler.stop', write);
    else session?.post('HeapProfiler.stopSampling', write);
  }
}

export function serveChild(url: string, stop: () => Promise<void>, sqlCounts?: () => Array<[string, number]>): void {
  let stopping = false;
  const exit = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('message', (message: ChildMessage) => {
    if (message.type === 'stop') exit();
    if (message.type === 'profile') profile(message);
    if (message.type === 'sql') process.send!({ type: 'sql', counts: sqlCounts?.() ?? [] } satisfies ChildMessage);
    if (message.type === 'heap') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const { heapUsed, external } = process.memoryUsage();
      const mb = 1024 * 1024;
      process.send!({ type: 'heap', heapUsedMb: heapUsed / mb, externalMb: external / mb, collected: gc !== undefined } satisfies ChildMessage);
    }
  });
  process.on('disconnect', exit);
  process.send!({ type: 'ready', url } satisfies ChildMessage);
}
