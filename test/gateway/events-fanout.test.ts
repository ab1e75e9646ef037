// Task events across instances through each fan-out: PostgreSQL LISTEN/NOTIFY (a PostgreSQL store
// and no Redis) and Redis pub/sub. The listener's instance polls its log only every 10 minutes
// here, so an event that reaches it before the ceiling came through the fan-out. Also the event
// log and the result copies' queries on PostgreSQL (the identity seq, the leased claim).
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { readFrames } from '../../src/client/index.js';
import { parseConfig, type ConfigInput } from '../../src/config/index.js';
import { coalesced, type Fanout } from '../../src/gateway/events/fanout.js';
import { createGateway } from '../../src/gateway/index.js';
import { createLogger } from '../../src/gateway/ops/logging.js';
import { listenGateway, type RunningGateway } from '../../src/gateway/server.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { ACME_KEY, publicResolver, raw } from '../helpers/gateway-stack.js';
import { freshPostgres, type FreshPostgres } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

let sim: RunningSimulator | undefined;
let postgres: FreshPostgres | undefined;
let redis: TestRedis | undefined;
const servers: RunningGateway[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close({ graceMs: 100 });
  for (const store of stores.splice(0)) await store.close();
  await sim?.close();
  await postgres?.drop();
  await redis?.stop();
  sim = postgres = redis = undefined;
});

async function twoInstances(extra: Partial<ConfigInput>): Promise<[string, string, Store]> {
  sim = await createSimulator({ accounts: [{ apiKey: 'sk-up-a' }] });
  postgres = await freshPostgres();
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    store: postgres.url,
    upstream: { baseUrl: sim.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a' }] },
    tenants: [{ id: 'acme', apiKeys: [ACME_KEY] }],
    events: { pollIntervalMs: 600_000 },
    ...extra,
  });
  const urls: string[] = [];
  for (let i = 0; i < 2; i++) {
    const store = await openStore(config.store);
    stores.push(store);
    const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
    const gateway = await createGateway(config, { store, logger, defaultMetrics: false, resolver: publicResolver });
    const server = await listenGateway(gateway, { host: '127.0.0.1', port: 0 });
    servers.push(server);
    urls.push(server.url);
  }
  return [urls[0]!, urls[1]!, stores[0]!];
}

/** The task's events as a listener on B sees them, B having answered (listening) before A creates it. */
async function seenOnB(a: string, b: string): Promise<Array<{ state: string }>> {
  const abort = new AbortController();
  const stream = await fetch(`${b}/api/v1/jobs/events`, { headers: { authorization: `Bearer ${ACME_KEY}` }, signal: abort.signal });
  expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const answer = await raw(`${a}/api/v1/jobs/createTask`, { key: ACME_KEY, body: { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } } });
  const taskId = answer.body.data.taskId as string;
  const events: Array<{ taskId: string; state: string }> = [];
  for await (const frame of readFrames(stream.body!)) {
    if (frame.event !== 'task') continue;
    const event = JSON.parse(frame.data) as { taskId: string; state: string };
    events.push(event);
    if (event.taskId === taskId && event.state === 'success') break;
  }
  abort.abort();
  return events.filter((e) => e.taskId === taskId);
}

describe('events across instances', () => {
  it('PostgreSQL LISTEN/NOTIFY wakes the other instance', async () => {
    const [a, b] = await twoInstances({});
    const events = await seenOnB(a, b);
    expect(events.at(-1)?.state).toBe('success');
  });

  it('Redis pub/sub wakes the other instance', async () => {
    redis = await startRedis();
    const [a, b] = await twoInstances({ redis: { url: redis.url } });
    const events = await seenOnB(a, b);
    expect(events.at(-1)?.state).toBe('success');
  });
});

describe('the event log and result copies on PostgreSQL', () => {
  it('assigns growing seqs and leases a copy to one owner at a time', async () => {
    postgres = await freshPostgres();
    const store = await openStore(postgres.url);
    stores.push(store);
    const first = await store.appendEvent({ tenantId: 'acme', taskId: 't1', state: 'waiting', record: '{}', createdAt: 1 });
    const second = await store.appendEvent({ tenantId: 'acme', taskId: 't1', state: 'success', record: '{}', createdAt: 2 });
    expect(second).toBeGreaterThan(first);
    expect((await store.eventsAfter('acme', first, 10)).map((e) => e.seq)).toEqual([second]);
    expect(await store.lastEventSeq('acme')).toBe(second);
    expect(await store.pruneEvents(2)).toBe(1);

    expect(await store.enqueueCopy({ taskId: 't1', tenantId: 'acme', sources: ['https://x/a.png'], retainMs: 1000, createdAt: 10 })).toBe(true);
    expect(await store.enqueueCopy({ taskId: 't1', tenantId: 'acme', sources: ['https://x/a.png'], retainMs: 1000, createdAt: 10 })).toBe(false);
    expect(await store.claimCopies('one', 10, 100, 5)).toHaveLength(1);
    expect(await store.claimCopies('two', 50, 100, 5)).toHaveLength(0);
    expect(await store.claimCopies('two', 111, 100, 5)).toHaveLength(1); // the lease ran out
    expect(await store.finishCopy('t1', 'one', { state: 'copied', files: [], now: 120 })).toBe(false);
    expect(await store.finishCopy('t1', 'two', { state: 'copied', files: [{ key: 'acme/t1/0.png', contentType: 'image/png', bytes: 5 }], now: 120 })).toBe(
      true,
    );
    expect(await store.getCopy('t1')).toMatchObject({ state: 'copied', bytes: 5, expiresAt: 1120 });
    expect(await store.copyBytesByTenant()).toEqual([{ tenantId: 'acme', bytes: 5, files: 1 }]);
    expect((await store.expiredCopies(1120, 10)).map((c) => c.taskId)).toEqual(['t1']);
    expect(await store.markCopyExpired('t1', 1121)).toBe(true);
  });
});

describe('coalesced fan-out', () => {
  it('sends one wake-up per tenant per turn, naming its newest seq', async () => {
    const sent: Array<[string, number]> = [];
    const inner: Fanout = {
      kind: 'redis',
      publish: (t, seq) => void sent.push([t, seq]),
      onWake: () => undefined,
      ready: async () => undefined,
      close: async () => undefined,
    };
    const fanout = coalesced(inner);
    fanout.publish('acme', 3);
    fanout.publish('acme', 5);
    fanout.publish('globex', 4);
    fanout.publish('acme', 4);
    expect(sent).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([
      ['acme', 5],
      ['globex', 4],
    ]);
    fanout.publish('acme', 6);
    await fanout.close();
    expect(sent.at(-1)).toEqual(['acme', 6]);
  });
});
