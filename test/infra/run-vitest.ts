// Runs vitest as a child over fixture files (test/infra/fixtures/), with the project's global
// setup and summary reporter, and returns what it printed: the tests in this folder check the
// run as a user sees it.
import { spawn } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/spec/files.js';

const VITEST = join(packageRoot, 'node_modules/vitest/vitest.mjs');
const CONFIG = join(packageRoot, 'test/infra/fixtures/vitest.fixtures.config.ts');

export interface ChildRun {
  code: number | null;
  /** stdout and stderr together, colours off. */
  output: string;
}

export function runFixtures(files: string[], env: Record<string, string | undefined> = {}, extraArgs: string[] = []): Promise<ChildRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: undefined, ...env };
  for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
  const args = [VITEST, 'run', '--config', CONFIG, '--root', packageRoot, ...extraArgs, ...files.map((f) => `test/infra/fixtures/${f}`)];
  const child = spawn(process.execPath, args, { cwd: packageRoot, env: childEnv });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** A PATH where only node is found: "redis-server is not installed", whatever the machine has. */
export async function pathWithoutServices(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lxg-bare-path-'));
  await symlink(process.execPath, join(dir, 'node'));
  return dir;
}

/** The counts on vitest's own "Tests" line, by label (failed, passed, skipped, todo, ...). */
export function vitestTestsLine(output: string): Record<string, number> {
  const line = output.split('\n').find((l) => /^\s*Tests\s+\d/.test(l));
  if (!line) throw new Error(`no "Tests" line in:\n${output}`);
  const counts: Record<string, number> = {};
  for (const [, n, label] of line.matchAll(/(\d+) ([a-z ]+?)(?= \||\s*\()/g)) counts[label!.trim()] = Number(n);
  return counts;
}

/** The summary reporter's line. */
export function summaryOf(output: string): string {
  const lines = output.split('\n').filter((l) => l.startsWith('tests: ') && / passed, \d+ failed/.test(l));
  if (lines.length !== 1) throw new Error(`expected one summary line, got ${lines.length} in:\n${output}`);
  return lines[0]!;
}
