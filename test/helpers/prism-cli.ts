// Prism's own command (@stoplight/prism-cli) as a child process, started exactly the way the
// README tells people to (`npm run mock`, `npx prism mock|proxy …`), so a test proves those lines
// work. The in-process Prism (mock/prism.ts) stays the tests' default: it starts in a fraction of
// the time. This helper is for the tests of the command itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { packageRoot } from '../../src/spec/files.js';
import { freePort } from './redis-server.js';

export interface PrismProcess {
  url: string;
  /** Everything the command printed (stdout and stderr), for assertions on its violation log. */
  output(): string;
  /** Ends the whole process group (npm/npx start Prism as a grandchild) and waits for it. */
  stop(): Promise<void>;
}

/** Generous: a busy machine may take many seconds to start Node, npm and Prism. */
export const READY_CEILING_MS = 90_000;
/** For the beforeAll that starts one: past the ceiling, so the helper's own error (with Prism's output) is what shows. */
export const START_HOOK_TIMEOUT_MS = READY_CEILING_MS + 30_000;
const POLL_MS = 100;

// A detached group outlives the test worker unless ended: should a test fail to stop one (a hook
// timing out before it got the handle), the worker ends it on its way out.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child);
});

/**
 * Runs `command ...args` with `{port}` in args replaced by a free port, from the package root,
 * and resolves once Prism listens there. Rejects with the output if it exits first.
 */
export async function spawnPrismCommand(command: 'npm' | 'npx', args: string[]): Promise<PrismProcess> {
  const port = await freePort();
  const child = spawn(
    command,
    args.map((a) => a.replace('{port}', String(port))),
    {
      cwd: packageRoot,
      // Its own process group, so stop() reaches Prism and not only npm's shell.
      detached: true,
      env: { ...process.env, npm_config_update_notifier: 'false', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const running: PrismProcess = { url: `http://127.0.0.1:${port}`, output: () => out, stop: () => stopGroup(child) };
  try {
    await waitUntilListening(running.url, port, child, () => out);
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}

/** Ready = Prism says it listens on our URL (not some other process that took the port) and it accepts. */
async function waitUntilListening(url: string, port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_CEILING_MS;
  while (!(output().includes(`listening on ${url}`) && (await accepts(port)))) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`prism exited (${child.exitCode ?? child.signalCode}) before listening:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`prism did not listen on ${port} within ${READY_CEILING_MS} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function stopGroup(child: ChildProcess): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null;
  const signalled = killGroup(child); // even after npm's exit: Prism may still be in the group
  if (exited || !signalled) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM to the child's whole group; false when the group is already gone. */
function killGroup(child: ChildProcess): boolean {
  try {
    process.kill(-child.pid!, 'SIGTERM');
    return true;
  } catch {
    return false;
  }
}
