// The Redis the Redis scenario's gateway keeps its quotas in: REDIS_URL when set (answering a
// PING, or the scenario is skipped), else a private redis-server of the bench's own on a free
// port, as the tests start theirs (test/helpers/redis-server.ts), so nothing else's traffic or
// keys mix with the bench's and MONITOR sees the gateway alone. Unreachable or not installed:
// Unavailable, with what to do, and the scenario is skipped rather than the bench failing.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../test/helpers/redis-server.js';
import { Redis } from 'ioredis';
import { redactMessage, redactUrl } from '../../src/store/url.js';

/** Redis or PostgreSQL could not be had; the message says why and what to do. */
export class Unavailable extends Error {}

export interface BenchRedis {
  url: string;
  /** The bench started it (and stops it); false for REDIS_URL. */
  owned: boolean;
  /** Deletes the keys under `prefix` (on a shared REDIS_URL), then stops a private server. */
  close(prefix: string): Promise<void>;
}

/** A client that fails at once instead of retrying: for probes and housekeeping. */
export function oneShotClient(url: string): Redis {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  client.on('error', () => undefined);
  return client;
}

async function ping(url: string): Promise<void> {
  const client = oneShotClient(url);
  // ioredis rejects with "Connection is closed."; the socket's own error says why.
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw cause ?? error;
  } finally {
    client.disconnect();
  }
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Unavailable(`redis-server exited with ${child.exitCode} at start`);
    try {
      return await ping(url);
    } catch {
      if (Date.now() > deadline) throw new Unavailable(`redis-server did not answer at ${url} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = oneShotClient(url);
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const shared = process.env.REDIS_URL;
  if (shared) {
    await ping(shared).catch((error: unknown) => {
      throw new Unavailable(
        `Redis at REDIS_URL (${redactUrl(shared)}) does not answer (${redactMessage((error as Error).message, shared)}); start it or unset REDIS_URL for a private redis-server`,
      );
    });
    return { url: shared, owned: false, close: (prefix) => deleteKeys(shared, prefix).catch(() => undefined) };
  }

  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
    stdio: 'ignore',
  });
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (error) => reject(new Unavailable(`redis-server could not be started (${error.message}); install it or set REDIS_URL`))),
  );
  // Never outlive the bench, even when it dies before closing the scenario.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  };
  try {
    await Promise.race([spawnFailed, waitForPing(url, child, 300_000)]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, owned: true, close: stop };
}
