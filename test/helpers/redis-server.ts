// A redis-server of the test's own on a free port, so tests never share state with each other or
// with a Redis the machine runs. It can be stopped and started again on the same port (to test
// what the gateway does while Redis is down).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { SERVICES } from './services.js';

export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** INFO commandstats as {command: calls}, for counting round trips. */
  commandCalls(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** A port nothing listens on now (the bench's private redis-server uses it too). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Polls until the server answers PING. No deadline of its own (a loaded machine may take long to
 * start it; vitest's hook timeout guards against a hang); `exited` ends the wait at once when the
 * process could not start or died, with its reason.
 */
async function waitForPing(port: number, exited: Promise<string>): Promise<void> {
  let failure: string | undefined;
  void exited.then((why) => (failure = why));
  for (;;) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch {
      client.disconnect();
      if (failure) throw new Error(`redis-server on port ${port} did not start: ${failure}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start() {
    const started = spawn(
      SERVICES.redis.program,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
      { stdio: 'ignore' },
    );
    child = started;
    // A missing program is an 'error' event (ENOENT), not an exit: both end the wait at once.
    const exited = new Promise<string>((resolve) => {
      started.once('error', (error) => resolve(`${error.message} (install it: ${SERVICES.redis.install})`));
      started.once('exit', (code, signal) => resolve(`it exited with ${signal ?? code}`));
    });
    await waitForPing(port, exited);
  }

  async function stop() {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  }

  await start();
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    port,
    start,
    stop,
    async commandCalls() {
      const client = new Redis(url, { maxRetriesPerRequest: 0 });
      try {
        const info = await client.info('commandstats');
        return Object.fromEntries([...info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
      } finally {
        client.disconnect();
      }
    },
    close: stop,
  };
}
