// Output helpers: data on stdout (JSON or lines), progress and errors on stderr, so
// `liangxin-gateway create … --wait > urls.txt` captures only the URLs.
import type { GatewayTaskRecord, TaskRecord } from '../client/index.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function printLines(lines: readonly string[]): void {
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
}

/** Rows of cells with every column but the last padded to one width. */
export function table(rows: ReadonlyArray<readonly string[]>, indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  return rows.map((row) => `${indent}${row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`.trimEnd());
}

export function formatTime(ms: number | null | undefined): string | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressReporter {
  update(record: TaskRecord): void;
  /** Ends the live line so what follows starts on a line of its own. */
  done(): void;
}

/**
 * The `--wait` progress line. On a terminal one line is redrawn (and its clock ticks between
 * polls, which grow up to 30 s apart); in a pipe or a log, one line per change of state or
 * progress, because `\r` there would pile up as noise.
 */
export function createProgressReporter(taskId: string, stream: ProgressStream = process.stderr, now: () => number = Date.now): ProgressReporter {
  const tty = Boolean(stream.isTTY);
  const started = now();
  let state = 'created';
  let progress: number | undefined;
  let lastPrinted: string | undefined;
  let timer: NodeJS.Timeout | undefined;

  const line = () => {
    const parts = [`task ${taskId}: ${state}`, `${((now() - started) / 1000).toFixed(1)} s`];
    if (progress !== undefined) parts.push(`${progress}%`);
    return parts.join('  ');
  };
  const draw = () => stream.write(`\r${line()}\u001b[K`);

  if (tty) {
    draw();
    timer = setInterval(draw, 1000);
    timer.unref();
  }

  return {
    update(record) {
      // Waiting in the gateway's queue: say where, not just "waiting".
      const position = (record as GatewayTaskRecord).queuePosition;
      state = typeof position === 'number' ? `queued (position ${position})` : record.state;
      progress = typeof record.progress === 'number' ? record.progress : undefined;
      if (tty) return void draw();
      const key = `${state}|${progress ?? ''}`;
      if (key !== lastPrinted) stream.write(`${line()}\n`);
      lastPrinted = key;
    },
    done() {
      if (timer) clearInterval(timer);
      if (tty && timer) stream.write('\n');
      timer = undefined;
    },
  };
}
