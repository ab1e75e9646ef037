// Every server under test runs in its own process: on a 2-core machine a server sharing the load
// generator's event loop would measure the generator as much as itself, and the gateway's RSS
// must be its own. The children (bench/processes/{simulator,proxy,gateway}.ts) are bundled once
// per run with esbuild (packages stay external) and run with plain `node`, as `serve` runs the
// compiled gateway: under tsx a process carries ~35 MB of loader and compiler that production
// does not. Each answers {type:'ready', url} over IPC once listening (child.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { ChildMessage } from './child.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type ChildEntry = 'gateway' | 'simulator' | 'proxy';

export interface Child {
  name: string;
  pid: number;
  url: string;
  /** Its JS heap after a full GC (if started with --expose-gc), MB. */
  heap(): Promise<{ heapUsedMb: number; externalMb: number; collected: boolean }>;
  /** SQL statements it ran, by text (a gateway started with BENCH_SQL_COUNTS=1). */
  sql(): Promise<Array<[string, number]>>;
  /** Starts its CPU (or allocation) profiler; the returned function stops it and writes the profile to `path`. */
  profile(kind?: 'cpu' | 'heap'): Promise<(path: string) => Promise<void>>;
  /** Asks it to stop and waits (killing it after 10 s). */
  stop(): Promise<void>;
}

let buildDir: string | undefined;

/**
 * Bundles the children under bench/results/.build/PID (inside the package, so the spec files are
 * found by walking up as from dist/), or beside the profiles when profiling, where the bundle is
 * kept: a profile's locations point into it. Returns a cleanup.
 */
export async function buildChildren(profileDir?: string): Promise<() => void> {
  const dir = profileDir ? join(profileDir, 'build') : join(ROOT, 'bench', 'results', '.build', String(process.pid));
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: (['gateway', 'simulator', 'proxy'] as const).map((name) => fileURLToPath(new URL(`./${name}.ts`, import.meta.url))),
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  buildDir = dir;
  return profileDir ? () => {} : () => rmSync(dir, { recursive: true, force: true });
}

const START_CEILING_MS = 300_000;

export async function startChild(name: string, entry: ChildEntry, options: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<Child> {
  if (!buildDir) throw new Error('bench: buildChildren() first');
  const child: ChildProcess = fork(join(buildDir, `${entry}.mjs`), [], {
    cwd: ROOT,
    execArgv: options.nodeArgs ?? [],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    // A ceiling for a hung child, generous for a loaded machine; a child that dies ends it at once.
    const timer = setTimeout(() => reject(new Error(`bench: ${name} did not start within ${START_CEILING_MS / 1000} s`)), START_CEILING_MS);
    child.once('message', (message: ChildMessage) => {
      clearTimeout(timer);
      if (message.type === 'ready') resolve(message.url);
      else reject(new Error(`bench: ${name} sent ${JSON.stringify(message)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench: ${name} exited with ${code} before it was ready`));
    });
  });
  return {
    name,
    pid: child.pid!,
    url,
    heap: () => ask(child, 'heap', (m) => ('heapUsedMb' in m ? m : undefined)),
    sql: () => ask(child, 'sql', (m) => ('counts' in m ? m.counts : undefined)),
    async profile(kind = 'cpu') {
      await exchange(child, { type: 'profile', action: 'start', kind }, (m) => m.type === 'profile' && m.action === 'started');
      return (path) => exchange(child, { type: 'profile', action: 'stop', path }, (m) => m.type === 'profile' && m.action === 'written');
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'stop' } satisfies ChildMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Sends a request over IPC and resolves with the first answer `pick` accepts. */
function ask<T>(child: ChildProcess, type: 'heap' | 'sql', pick: (message: ChildMessage & { type: typeof type }) => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: ChildMessage) => {
      if (message.type !== type) return;
      const answer = pick(message as ChildMessage & { type: typeof type });
      if (answer === undefined) return;
      child.off('message', onMessage);
      resolve(answer);
    };
    child.on('message', onMessage);
    child.send((type === 'heap' ? { type: 'heap' } : { type: 'sql' }) satisfies ChildMessage);
  });
}

/** Sends a message and resolves once an answer `done` accepts arrives. */
function exchange(child: ChildProcess, message: ChildMessage, done: (answer: ChildMessage) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (answer: ChildMessage) => {
      if (!done(answer)) return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/** Resident and peak memory of a process, MB (Linux /proc). */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}
