// Long-running commands (simulate, start) stop on SIGINT/SIGTERM by closing their servers, so
// open connections end cleanly and the port is free at once for the next run.
import { reportError } from './exit.js';

/** A second signal, or a close that hangs, ends the process without waiting any longer. */
const FORCE_EXIT_AFTER_MS = 5000;

export function closeOnSignal(what: string, close: () => Promise<void>): void {
  let closing = false;
  const stop = (signal: NodeJS.Signals) => {
    if (closing) process.exit(130);
    closing = true;
    process.stderr.write(`${signal}: stopping the ${what}\n`);
    setTimeout(() => process.exit(1), FORCE_EXIT_AFTER_MS).unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        reportError(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
