// A redis-server of the test's own on a free port, so tests never share state with each other or
// with a Redis the machine runs. It can be stopped and started again on the same port (to test
// what the gateway does while Redis is down).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

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

async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
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
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms (is redis-server installed?)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start() {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    child.on('error', () => undefined);
    await waitForPing(port);
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
