// Live task events: SSE from the tenant's event log, across instances, resumable without loss or
// duplicates, never another tenant's task; Prefer: wait built on the same path, with no provider
// reads of its own (counted at the simulator). Two gateways share one SQLite file here: the
// listener's instance learns of the other's events from the shared log (no fan-out between
// processes on the embedded store), which is the path every fan-out falls back to.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { createLiangxinClient, type TaskEvent } from '../../src/client/index.js';
import { parseConfig, type ConfigInput } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { createLogger } from '../../src/gateway/ops/logging.js';
import { listenGateway, type RunningGateway } from '../../src/gateway/server.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { ACME_KEY, GLOBEX_KEY, publicResolver, raw } from '../helpers/gateway-stack.js';
import { pollUntil } from '../helpers/wait.js';

interface Instance {
  gateway: Gateway;
  server: RunningGateway;
  store: Store;
  url: string;
}

let sim: RunningSimulator | undefined;
let instances: Instance[] = [];
let dir: string | undefined;
afterEach(async () => {
  for (const i of instances) {
    await i.server.close({ graceMs: 100 });
    await i.store.close();
  }
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  instances = [];
  sim = dir = undefined;
});

async function startInstances(count: number, extra: Partial<ConfigInput> = {}, timing?: { generatingMs: number }): Promise<Instance[]> {
  sim = await createSimulator({ accounts: [{ apiKey: 'sk-up-a' }], ...(timing && { timing }) });
  dir = await mkdtemp(join(tmpdir(), 'lxg-events-'));
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    store: `sqlite:${join(dir, 'gateway.db')}`,
    upstream: { baseUrl: sim.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a' }] },
    tenants: [
      { id: 'acme', apiKeys: [ACME_KEY] },
      { id: 'globex', apiKeys: [GLOBEX_KEY] },
    ],
    events: { pollIntervalMs: 50, heartbeatMs: 200 },
    ...extra,
  });
  for (let i = 0; i < count; i++) {
    const store = await openStore(config.store);
    const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
    const gateway = await createGateway(config, { store, logger, defaultMetrics: false, resolver: publicResolver });
    const server = await listenGateway(gateway, { host: '127.0.0.1', port: 0 });
    instances.push({ gateway, server, store, url: server.url });
  }
  return instances;
}

const body = { model: 'z-image', input: { prompt: 'a lighthouse', aspect_ratio: '1:1' } };

async function create(url: string, key = ACME_KEY): Promise<string> {
  const answer = await raw(`${url}/api/v1/jobs/createTask`, { key, body });
  expect(answer.body.code).toBe(200);
  return answer.body.data.taskId as string;
}

/** Collects events from the client's iterator until `enough` says so (or the signal aborts). */
async function collect(iterator: AsyncGenerator<TaskEvent>, enough: (events: TaskEvent[]) => boolean): Promise<TaskEvent[]> {
  const events: TaskEvent[] = [];
  for await (const event of iterator) {
    events.push(event);
    if (enough(events)) break;
  }
  return events;
}

const finals = (events: TaskEvent[]) => events.filter((e) => e.state === 'success' || e.state === 'fail');

describe('task events (SSE)', () => {
  it("delivers one instance's task events, in order, to a listener on another", async () => {
    const [a, b] = await startInstances(2);
    const listener = createLiangxinClient({ baseUrl: b!.url, apiKey: ACME_KEY });
    const abort = new AbortController();
    // From the start of the log, so the test does not race the listener's connection.
    const iterator = listener.events(undefined, { signal: abort.signal, lastEventId: '0' });
    const ids = [await create(a!.url), await create(a!.url), await create(a!.url)];
    const events = await collect(iterator, (seen) => finals(seen).length >= 3);
    abort.abort();
    // Event ids only grow, and each task's states go forward (waiting … success), ending in success.
    const seqs = events.map((e) => Number(e.id));
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    for (const id of ids) {
      const states = events.filter((e) => e.taskId === id).map((e) => e.state);
      expect(states[0]).toBe('waiting');
      expect(states.at(-1)).toBe('success');
    }
    expect(events.every((e) => ids.includes(e.taskId))).toBe(true);
  });

  it('resumes after a dropped connection without loss or duplicates', async () => {
    const [a] = await startInstances(1);
    const ids = [await create(a!.url), await create(a!.url)];
    const client = createLiangxinClient({ baseUrl: a!.url, apiKey: ACME_KEY });
    // Everything so far, from the start of the log.
    const all = await collect(client.events(undefined, { lastEventId: '0' }), (seen) => finals(seen).length === 2);
    // A listener that read two events and dropped, then resumed from the second's id.
    const before = await collect(client.events(undefined, { lastEventId: '0' }), (seen) => seen.length === 2);
    const after = await collect(client.events(undefined, { lastEventId: before[1]!.id }), (seen) => seen.length === all.length - 2);
    expect([...before, ...after].map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(new Set(all.map((e) => e.taskId))).toEqual(new Set(ids));
  });

  it('reconnects by itself with Last-Event-ID when the connection drops mid-stream', async () => {
    const [a] = await startInstances(1);
    const streams: Array<import('node:net').Socket> = [];
    a!.server.server.on('request', (req) => req.url?.startsWith('/api/v1/jobs/events') && streams.push(req.socket));
    let connects = 0;
    const client = createLiangxinClient({
      baseUrl: a!.url,
      apiKey: ACME_KEY,
      fetch: (request) => {
        connects++;
        return fetch(request);
      },
    });
    const iterator = client.events(undefined, { lastEventId: '0', reconnectDelayMs: 10 });
    const first = iterator.next();
    const taskId = await create(a!.url);
    const events = [(await first).value as TaskEvent];
    streams[0]!.destroy(); // cut after the first event; the task's later events come while it is down
    events.push(...(await collect(iterator, (seen) => finals(seen).length === 1)));
    expect(connects).toBe(2);
    const log = await a!.store.eventsAfter('acme', 0, 100);
    expect(events.map((e) => e.id)).toEqual(log.map((e) => String(e.seq)));
    expect(events.every((e) => e.taskId === taskId)).toBe(true);
  });

  it("never shows another tenant's task", async () => {
    const [a] = await startInstances(1);
    const globex = createLiangxinClient({ baseUrl: a!.url, apiKey: GLOBEX_KEY });
    const abort = new AbortController();
    const seen: TaskEvent[] = [];
    const listening = (async () => {
      for await (const event of globex.events(undefined, { signal: abort.signal, lastEventId: '0' })) seen.push(event);
    })();
    const acmeTask = await create(a!.url);
    const globexTask = await create(a!.url, GLOBEX_KEY);
    await pollUntil("globex's own task to end", () => seen.some((e) => e.taskId === globexTask && e.state === 'success'));
    await pollUntil("acme's task to end", async () => (await a!.store.getTask(acmeTask))?.state === 'success');
    abort.abort();
    await listening;
    expect(seen.every((e) => e.taskId === globexTask)).toBe(true);
    // Another tenant's task id is refused like an unknown one, before any stream starts.
    const refused = await raw(`${a!.url}/api/v1/jobs/events?taskId=${acmeTask}`, { key: GLOBEX_KEY });
    expect(refused.body).toMatchObject({ code: 422, msg: 'recordInfo is null' });
  });

  it('streams one task: its record now, its changes, then done', async () => {
    const [a] = await startInstances(1);
    const client = createLiangxinClient({ baseUrl: a!.url, apiKey: ACME_KEY });
    const taskId = await create(a!.url);
    const events = await collect(client.events(taskId), () => false); // ends by itself
    expect(events.at(-1)).toMatchObject({ taskId, state: 'success' });
    expect(events.every((e) => e.taskId === taskId)).toBe(true);
    // waitForTask follows the events once an answer said they are offered: no polls, no polling delay.
    const urls: string[] = [];
    const follower = createLiangxinClient({
      baseUrl: a!.url,
      apiKey: ACME_KEY,
      fetch: (request) => {
        urls.push(new URL(request.url).pathname);
        return fetch(request);
      },
    });
    const { taskId: next } = await follower.createTask(body as never);
    expect(await follower.waitForTask(next, { initialDelayMs: 600_000 })).toMatchObject({ taskId: next, state: 'success' });
    expect(urls).toEqual(['/api/v1/jobs/createTask', '/api/v1/jobs/events']);
  });

  it('refuses a Last-Event-ID that is not an event id', async () => {
    const [a] = await startInstances(1);
    const response = await fetch(`${a!.url}/api/v1/jobs/events`, { headers: { authorization: `Bearer ${ACME_KEY}`, 'last-event-id': 'abc' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 400, msg: expect.stringMatching(/Last-Event-ID/) });
  });
});

describe('Prefer: wait', () => {
  it('answers createTask with the final record of a fast task, without reading it from the provider', async () => {
    const [a] = await startInstances(1);
    const response = await fetch(`${a!.url}/api/v1/jobs/createTask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ACME_KEY}`, 'content-type': 'application/json', prefer: 'wait=30' },
      body: JSON.stringify(body),
    });
    expect(response.headers.get('preference-applied')).toBe('wait=30');
    const answer = (await response.json()) as { code: number; data: { taskId: string; state: string; resultJson: string } };
    expect(answer).toMatchObject({ code: 200, data: { state: 'success', taskId: expect.any(String) } });
    expect(JSON.parse(answer.data.resultJson).resultUrls).toHaveLength(1);
    expect(sim!.counters().recordInfo).toBe(0);
  });

  it('holds recordInfo until the task is final, with one provider read at most', async () => {
    const [a] = await startInstances(1);
    const taskId = await create(a!.url);
    const response = await fetch(`${a!.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { headers: { authorization: `Bearer ${ACME_KEY}`, prefer: 'wait=30' } });
    expect(response.headers.get('preference-applied')).toBe('wait=30');
    expect(await response.json()).toMatchObject({ code: 200, data: { taskId, state: 'success' } });
    expect(sim!.counters().recordInfo).toBeLessThanOrEqual(1);
  });

  it('answers with what is known when the wait runs out', async () => {
    const [a] = await startInstances(1, { events: { pollIntervalMs: 50, maxWaitSeconds: 1 } }, { generatingMs: 600_000 });
    const response = await fetch(`${a!.url}/api/v1/jobs/createTask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ACME_KEY}`, 'content-type': 'application/json', prefer: 'wait=60' },
      body: JSON.stringify(body),
    });
    // Capped at events.maxWaitSeconds.
    expect(response.headers.get('preference-applied')).toBe('wait=1');
    // Not final in time: createTask's own answer, the task id.
    expect(await response.json()).toEqual({ code: 200, msg: 'success', data: { taskId: expect.any(String) } });
    expect(sim!.counters().recordInfo).toBe(0);
  });
});
