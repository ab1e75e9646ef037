// Ends every run with one plain line, `tests: N passed, N failed, N skipped`, without colours,
// so CI logs and scripts can read the outcome without parsing vitest's decorated summary.
// The counts are vitest's own "Tests" line, counted by the same rules from the same tasks (a
// file whose beforeAll failed shows its tests as skipped there, so here too). What failed outside
// any test (a file that did not load, a failing hook, an unhandled error) and the tests skipped
// for a missing service (with the command that installs it) follow on the same line.
import type { RunnerTask, RunnerTestCase, RunnerTestFile } from 'vitest';
import type { Reporter, Vitest } from 'vitest/node';
import { missingServices, SERVICES, type ServiceName } from './services.js';

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  expectedFail: number;
}

function testsOf(task: RunnerTask): RunnerTestCase[] {
  if (task.type === 'test') return [task];
  return task.tasks.flatMap(testsOf);
}

/** vitest's getStateString rules: a passing `.fails` test is an expected failure, not a pass. */
export function countTests(tests: readonly RunnerTestCase[]): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0, todo: 0, expectedFail: 0 };
  for (const test of tests) {
    const state = test.result?.state;
    if (state === 'pass') {
      if (test.fails) counts.expectedFail++;
      else counts.passed++;
    }
    if (state === 'fail') counts.failed++;
    if (test.mode === 'skip') counts.skipped++;
    if (test.mode === 'todo') counts.todo++;
  }
  return counts;
}

/** Skipped tests that declared a service this machine lacks, by service, with their files. */
function skippedForServices(files: readonly RunnerTestFile[], missing: readonly ServiceName[]): string[] {
  const notes: string[] = [];
  for (const name of missing) {
    const skipped = files.flatMap((file) => testsOf(file).filter((t) => t.mode === 'skip' && t.meta.needs === name));
    if (skipped.length === 0) continue;
    const where = [...new Set(skipped.map((t) => t.file.name))].sort().join(', ');
    const { program, install } = SERVICES[name];
    notes.push(`${skipped.length} skipped because ${program} is not installed (${where}): ${install}`);
  }
  return notes;
}

export function summaryLine(files: readonly RunnerTestFile[], unhandledErrors: number, missing: readonly ServiceName[]): string {
  const counts = countTests(files.flatMap(testsOf));
  let line = `tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
  if (counts.todo) line += `, ${counts.todo} todo`;
  if (counts.expectedFail) line += `, ${counts.expectedFail} expected fail`;
  const notes: string[] = [];
  const outside = files.filter((file) => file.result?.state === 'fail' && !testsOf(file).some((t) => t.result?.state === 'fail'));
  if (outside.length) notes.push(`${outside.length} file${outside.length > 1 ? 's' : ''} failed outside any test (${outside.map((f) => f.name).join(', ')})`);
  if (unhandledErrors) notes.push(`${unhandledErrors} unhandled error${unhandledErrors > 1 ? 's' : ''}`);
  notes.push(...skippedForServices(files, missing));
  return notes.length ? `${line}; ${notes.join('; ')}` : line;
}

export default class SummaryReporter implements Reporter {
  private vitest: Vitest | undefined;
  /** The line, while it waits for the coverage report. */
  private pending: string | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    // vitest reports coverage only when no test failed (unless told otherwise); the line must
    // not be lost when it does not, so it is written at exit at the latest.
    process.once('exit', () => this.flush());
  }

  onTestRunEnd(_modules: unknown, unhandledErrors: ReadonlyArray<unknown>): void {
    const files = this.vitest?.state.getFiles() ?? [];
    this.pending = summaryLine(files, unhandledErrors.length, missingServices());
    // With coverage on, vitest prints its report after this hook; the line waits for it, so it
    // stays the run's last line.
    if (!this.vitest?.config.coverage.enabled) this.flush();
  }

  /** Called by vitest once the coverage report is written. */
  onFinishedReportCoverage(): void {
    this.flush();
  }

  private flush(): void {
    if (this.pending === undefined) return;
    process.stdout.write(`\n${this.pending}\n`);
    this.pending = undefined;
  }
}
