// Secrets in output (issue 13, item 9): the provider callback's token never reaches a log line,
// a callBackUrl refusal names the class of address, never what a name resolved to, and a
// readiness answer never quotes the store's password.
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTaskRequest } from '../../src/client/index.js';
import { createLogger } from '../../src/gateway/ops/logging.js';
import { ACME_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { freshPostgres, type FreshPostgres } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { needsRedis } from '../helpers/services.js';
import { pollUntil } from '../helpers/wait.js';

let stack: Stack | undefined;
let pg: FreshPostgres | undefined;
let redis: TestRedis | undefined;
afterEach(async () => {
  await stack?.close();
  await pg?.drop();
  await redis?.close();
  stack = pg = redis = undefined;
});

const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };

/** Polls until `probe` holds; the ceiling is generous (a busy machine is slow, never wrong). */
/** Polls until the probe gives a value (the suite's one ceiling: never the machine's speed). */
const until = pollUntil;

const urlOf = (line: Record<string, unknown>) => (line.req as { url?: string } | undefined)?.url;

describe('the request log', () => {
  it('never writes a provider callback token, accepted or refused', async () => {
    stack = await startStack();
    const { taskId } = await stack.client().createTask(zImage);
    // The simulator knows the task by the provider's id; the tenant holds the gateway's.
    const providerTaskId = await until('the provider id', async () => (await stack!.store.getTask(taskId))?.providerTaskId);
    const callback = await until('the provider callback', () => stack!.sim.callbacks.find((c) => c.taskId === providerTaskId && c.status === 200));
    const token = callback.url.slice(callback.url.lastIndexOf('/') + 1);
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    // A guess at another task's token, and one with a query: refused, and not logged either.
    const guess = 'guessed-token-0123456789abcdefgh';
    await raw(`${stack.url}/callbacks/liangxin/${guess}?again=${guess}`, { body: { code: 200, msg: 'ok', data: { taskId } } });

    const lines = await until('both callbacks in the request log', () => {
      const found = stack!.logs.filter((l) => urlOf(l)?.startsWith('/callbacks/'));
      return found.length >= 2 && found;
    });
    expect(lines.map((l) => [urlOf(l), (l.res as { statusCode: number }).statusCode])).toEqual([
      ['/callbacks/liangxin/[redacted]', 200],
      ['/callbacks/liangxin/[redacted]', 404],
    ]);
    expect(lines[0]).toMatchObject({ taskId, upstreamKeyId: 'key-a' }); // the ids are what tell them apart
    const all = stack.rawLogs.join('\n');
    expect(all).not.toContain(token);
    expect(all).not.toContain(guess);
  });
});

describe('a refused callBackUrl', () => {
  it('names the class of address, not the address the name resolved to', async () => {
    stack = await startStack(); // its resolver answers 127.0.0.1 for localhost
    const answer = await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: { ...zImage, callBackUrl: 'https://localhost/hook' } });
    expect(answer.status).toBe(400);
    expect(answer.body.msg).toBe('Invalid request: callBackUrl resolves to a loopback address');
    expect(answer.text).not.toContain('127.0.0.1');
  });
});

describe('/readyz', () => {
  it('does not quote the store password when the store fails', async () => {
    pg = await freshPostgres();
    const url = new URL(pg.url);
    // DATABASE_URL's own password, or one made up (a server that trusts local connections ignores it).
    const password = url.password || 'readyz-Secret-pw';
    url.password = password;
    const storeUrl = url.toString();
    stack = await startStack({ config: () => ({ store: storeUrl }) });
    // A driver error that quotes its connection string, as some do.
    stack.store.ping = async () => {
      throw new Error(`cannot reach ${storeUrl} (password ${password} refused)`);
    };
    const ready = await raw(`${stack.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body.checks.store).toMatch(/^unreachable: cannot reach postgres:\/\/[^:@]*:\*\*\*@/);
    expect(ready.text).not.toContain(password);
  });
});

describe('the logger', needsRedis, () => {
  it('does not print the password an ioredis AUTH error carries', async () => {
    redis = await startRedis();
    const admin = new Redis(redis.url);
    await admin.config('SET', 'requirepass', 'the-right-Redis-pw');
    const url = new URL(redis.url);
    url.password = 'Wrong-Redis-Secret';
    const client = new Redis(url.toString(), { maxRetriesPerRequest: 0, retryStrategy: () => null });
    const refused = await new Promise<Error>((resolve) => client.once('error', resolve));
    client.disconnect();
    await admin.config('SET', 'requirepass', '');
    admin.disconnect();
    expect(JSON.stringify(refused)).toContain('Wrong-Redis-Secret'); // ioredis keeps it on the error (command.args)

    const lines: string[] = [];
    const destination = new Writable({ write: (chunk, _encoding, done) => done(void lines.push(String(chunk))) });
    createLogger({ destination }).error({ err: refused }, 'quota: Redis unavailable');
    expect(lines.join('')).toContain('WRONGPASS');
    expect(lines.join('')).not.toContain('Wrong-Redis-Secret');
  });
});
