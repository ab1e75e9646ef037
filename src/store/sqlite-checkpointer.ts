// WAL checkpoints off the event loop. SQLite copies the WAL back into the database file at a
// checkpoint, run by default inside whichever commit crosses `wal_autocheckpoint` pages: on the
// gateway's one thread, so every request waits for it. Measured (one connection, createTask at
// ~900/s): a checkpoint of the 10,000 pages the store lets accumulate took ~30 ms, about one a
// second, which was the whole p99.9 (31-35 ms; 8-11 ms with no checkpoints at all).
//
// So a worker thread with a connection of its own checkpoints the WAL every `intervalMs`, in
// PASSIVE mode: it copies what it can without waiting for, or blocking, the main connection's
// readers and writers, and syncs the file from the worker. The main connection keeps its
// autocheckpoint as the backstop: when the WAL reaches its size there is little left to copy,
// and that checkpoint, run between two commits, is what lets the next write start the WAL over
// (a PASSIVE checkpoint racing a busy writer rarely sees the WAL fully copied). If the worker
// cannot start or dies, the store works exactly as before, only with the slower tail.
//
// Hand-rolled: better-sqlite3 has no background checkpointing, and no library does this for it.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** What one checkpoint found, as `PRAGMA wal_checkpoint` says: frames in the WAL, and copied. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface Checkpointer {
  close(): Promise<void>;
}

export interface CheckpointerOptions {
  intervalMs?: number;
  /** Each checkpoint that found pages copied (tests); without it the worker reports nothing but errors. */
  onCheckpoint?: (result: CheckpointResult) => void;
  onError?: (message: string) => void;
}

export const CHECKPOINT_INTERVAL_MS = 200;
/** A worker that has not closed its connection by then is stopped (it never should take this long). */
const CLOSE_WAIT_MS = 5000;

// CommonJS, evaluated in the worker: the same driver as the main thread, found by its path, so
// this works from the sources and from the bundle alike.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
// PASSIVE never waits on a lock; a checkpoint already running elsewhere answers busy.
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    const [result] = checkpoint.all();
    if (workerData.report && result && result.checkpointed > 0) parentPort.postMessage({ result });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startCheckpointer(path: string, options: CheckpointerOptions = {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  // Reports only when asked for: otherwise an idle gateway's thread would wake five times a second for nothing.
  const workerData = { path, driver, intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS, report: options.onCheckpoint !== undefined };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
  // It must never keep the process alive: the store's close ends it, and so does the exit.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (message: { result?: CheckpointResult; error?: string }) => {
    if (message.result) options.onCheckpoint?.(message.result);
    if (message.error) options.onError?.(message.error);
  });
  // A worker that failed (the driver would not load, the file went) leaves the autocheckpoint to do it all.
  worker.on('error', (error) => options.onError?.(error.message));
  return {
    async close() {
      // Its own close first, so its connection is gone before the store's (the last one removes the WAL).
      // Held (ref, and a timer that is not unref'd) while waiting: were nothing else keeping the
      // process alive, an unref'd wait would let Node exit mid-close (exit code 13, an unsettled await).
      worker.ref();
      worker.postMessage('close');
      let timer: NodeJS.Timeout | undefined;
      const stop = new Promise<void>((resolve) => {
        timer = setTimeout(() => void worker.terminate().then(() => resolve()), CLOSE_WAIT_MS);
      });
      await Promise.race([exited, stop]);
      clearTimeout(timer);
    },
  };
}
