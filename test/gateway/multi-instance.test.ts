// Several gateway processes sharing one redis-server (started here on a free port) and one
// PostgreSQL schema (fresh per run), in front of the simulator: limits are exact across
// instances, slots cannot leak, Redis can go away and come back, usage adds up, and tenants'
// callbacks survive `kill -9` and are never sent twice at once.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { verifyGatewayWebhook } from '../../src/client/index.js';
import type { ConfigInput } from '../../src/config/index.js';
import { spawnGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { SEND_AT_ONCE } from '../helpers/gateway-stack.js';
import { freshPostgres, type FreshPostgres } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { needsRedis } from '../helpers/services.js';
import { pollUntil } from '../helpers/wait.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const ADMIN = 'multi-instance-admin-token-0123';
const SECRET = 'whsec_bXVsdGktaW5zdGFuY2UtdGVzdC1zZWNyZXQtMDEyMw==';
const key = (tenant: string) => `lxg_multi_${tenant}_0123456789abcdef`;
const TENANTS = {
  day: { tasksPerDay: 100 },
  inflight: { maxInFlight: 50 },
  budget: { budgetUsdPerMonth: 1 },
  load: { tasksPerDay: 150 },
  hooks: {},
  lease: { maxInFlight: 1 },
} as const;

let redis: TestRedis;
let pg: FreshPostgres;
let sim: RunningSimulator;
let receiver: ScriptedServer;
let a: GatewayProcess;
let b: GatewayProcess;
/** How the tenant receiver answers; switched by tests. */
let receiverStatus = 200;
const inFlightByDelivery = new Map<string, number>();
let overlapping = 0;

const zImage = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
const proImage = { model: 'nano-banana-pro', input: { prompt: 'xy' } }; // $0.09 (LiangXin: a prompt of 2 characters at least)
/** A video: the simulator's videos take 30 s, so none ends (and frees its slot) during a burst. */
const video = { model: 'kling-v3-pro', input: { prompt: 'x' } };

function config(overrides: Partial<ConfigInput> = {}): ConfigInput {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    store: pg.url,
    // Generous: a loaded test machine must not turn a slow Redis answer into a refusal.
    redis: { url: redis.url, commandTimeoutMs: 3000 },
    upstream: { baseUrl: sim.url, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 100_000, recordInfoPerSecond: 1000 }] },
    tenants: Object.entries(TENANTS).map(([id, quotas]) => ({ id, apiKeys: [key(id)], quotas, webhookSecret: SECRET })),
    admin: { token: ADMIN },
    callbacks: { allowHttp: true, allowHosts: ['127.0.0.1'], retryScheduleMs: [300, 300, 300, 300, 300, 300, 300, 300], leaseMs: 1500, pollIntervalMs: 100 },
    reconcile: { afterMs: 3000, intervalMs: 200, maxBackoffMs: 2000, batch: 50 },
    log: { level: 'warn' },
    // Limits and slots as a task sent at once meets them (the queue across instances: queue-multi.test.ts).
    queue: SEND_AT_ONCE,
    ...overrides,
  };
}

async function post(gateway: GatewayProcess, tenant: string, body: unknown) {
  const response = await fetch(`${gateway.url}/api/v1/jobs/createTask`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key(tenant)}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { code: number; data: any } };
}

/** `count` createTask at once, alternating between the two instances. */
async function burst(tenant: string, count: number, body: unknown = zImage) {
  const answers = await Promise.all(Array.from({ length: count }, (_, i) => post(i % 2 ? a : b, tenant, body)));
  const by = (status: number) => answers.filter((x) => x.status === status).length;
  const statuses: Record<number, number> = {};
  for (const x of answers) statuses[x.status] = (statuses[x.status] ?? 0) + 1;
  return { answers, statuses, ok: by(200), s429: by(429), s402: by(402), s503: by(503) };
}

async function admin(gateway: GatewayProcess, path: string) {
  const response = await fetch(`${gateway.url}/admin/v1${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return (await response.json()) as { data: any };
}

const simTasksSince = (since: number) => sim.tasks().filter((t) => t.createdAt >= since);

beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedis(), freshPostgres()]);
  sim = await createSimulator({
    createPer10s: 100_000,
    recordInfoPerSecond: 100_000,
    // Long enough that every burst ends before its tasks do; the maxInFlight burst (whose count a
    // task's end would change) sends videos, far longer still, for a loaded machine.
    timing: { waitingMs: 200, queuingMs: 200, generatingMs: 8000, videoGeneratingMs: 30_000 },
    accounts: [{ apiKey: 'sk-up-a' }, { apiKey: 'sk-slow', quirks: ['slow=2000'] }],
  });
  receiver = await startScriptedServer((request, res) => {
    const id = String(request.headers['webhook-id']);
    inFlightByDelivery.set(id, (inFlightByDelivery.get(id) ?? 0) + 1);
    if (inFlightByDelivery.get(id)! > 1) overlapping++;
    setTimeout(() => {
      inFlightByDelivery.set(id, inFlightByDelivery.get(id)! - 1);
      res.writeHead(receiverStatus).end();
    }, 20);
  });
  [a, b] = await Promise.all([spawnGateway(config()), spawnGateway(config())]); // two migrations at once
});

afterAll(async () => {
  await Promise.all([a?.kill('SIGKILL'), b?.kill('SIGKILL')]);
  await Promise.all([redis?.close(), receiver?.close(), sim?.close()]);
  await pg?.drop();
});

describe('two instances, one Redis, one PostgreSQL', needsRedis, () => {
  it('tasksPerDay 100: of 1,000 concurrent createTask (500 at each), exactly 100 pass', async () => {
    const since = Date.now();
    const result = await burst('day', 1000);
    expect(result, JSON.stringify(result.statuses)).toMatchObject({ ok: 100, s429: 900 });
    expect(result.answers.filter((x) => x.status === 429).every((x) => x.body.data.limit === 'tasksPerDay')).toBe(true);
    expect(simTasksSince(since)).toHaveLength(100);
  });

  it('maxInFlight 50: exactly 50 pass, never one over', async () => {
    const since = Date.now();
    const result = await burst('inflight', 1000, video);
    expect(result, JSON.stringify(result.statuses)).toMatchObject({ ok: 50, s429: 950 });
    expect(simTasksSince(since)).toHaveLength(50);
  });

  it('budget $1 at $0.09 a task: exactly 11 pass, the rest get 402', async () => {
    const since = Date.now();
    const result = await burst('budget', 400, proImage);
    expect(result, JSON.stringify(result.statuses)).toMatchObject({ ok: 11, s402: 389 });
    expect(simTasksSince(since)).toHaveLength(11);
  });

  it('Redis stopped and restarted under load: refusals while down, never a task over the quota', async () => {
    const first = await burst('load', 100);
    expect(first.ok).toBe(100);
    await redis.stop();
    const during = await burst('load', 20);
    expect(during).toMatchObject({ ok: 0, s503: 20 });
    await redis.start(); // empty: the counters come back from the ledger
    await pollUntil('both instances ready again', async () => {
      const ready = await Promise.all([a, b].map((g) => fetch(`${g.url}/readyz`).then((r) => r.status)));
      return ready.every((s) => s === 200);
    });
    const after = await burst('load', 100);
    expect(after.ok).toBe(50);
    expect(after.s429).toBe(50);
  });

  it('usage totals agree with what the simulator recorded', async () => {
    // Wait for every task to end (callbacks and reconciliation do it; no tenant polls).
    const rows = await pollUntil(
      'every task ended',
      async () => {
        const found = (await admin(a, '/usage?groupBy=model')).data as Array<{ tenantId: string; tasks: number; open: number; actualUsdMicros: number }>;
        return found.length > 0 && found.every((r) => r.open === 0) ? found : undefined;
      },
      { intervalMs: 200 },
    );
    const tasks = rows.reduce((n, r) => n + r.tasks, 0);
    const micros = rows.reduce((n, r) => n + r.actualUsdMicros, 0);
    const recorded = sim.tasks().filter((t) => t.accountId === 'account-1');
    expect(tasks).toBe(recorded.length);
    // Integer micro-dollars: exact, not close (1 credit = 5000 µ$; the simulator's credits have 3 decimals).
    expect(micros).toBe(recorded.reduce((n, t) => n + Math.round(t.credits * 5000), 0));
    const perTenant = Object.fromEntries(rows.map((r) => [r.tenantId, r.tasks]));
    expect(perTenant).toMatchObject({ day: 100, inflight: 50, budget: 11, load: 150 });
    const csv = await fetch(`${b.url}/admin/v1/usage?groupBy=day`, { headers: { authorization: `Bearer ${ADMIN}`, accept: 'text/csv' } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await csv.text()).split('\n')[0]).toBe(
      'tenantId,group,tasks,succeeded,failed,open,estimatedUsd,actualUsd,estimatedUsdMicros,actualUsdMicros,queued,dispatched,cancelled,expired',
    );
  });
});

describe('callbacks across instances', needsRedis, () => {
  it('delivers each final state once, signed, when both instances run outboxes', async () => {
    const ids = new Set<string>();
    const before = receiver.requests.length;
    const created = await Promise.all(Array.from({ length: 30 }, (_, i) => post(i % 2 ? a : b, 'hooks', { ...zImage, callBackUrl: `${receiver.url}/hook` })));
    for (const answer of created) ids.add(answer.body.data.taskId);
    await pollUntil('30 deliveries', () => receiver.requests.length - before >= 30, { intervalMs: 200 });
    const deliveries = receiver.requests.slice(before).map((r) => verifyGatewayWebhook({ body: r.body, headers: r.headers, secret: SECRET }));
    expect(deliveries).toHaveLength(30);
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(30);
    expect(new Set(deliveries.map((d) => d.payload.data.taskId))).toEqual(ids);
    expect(overlapping).toBe(0);
  });

  it('kill -9 while deliveries are pending: the other instance delivers them all, none twice at once', async () => {
    receiverStatus = 503;
    const before = receiver.requests.length;
    const created = await Promise.all(Array.from({ length: 20 }, () => post(a, 'hooks', { ...zImage, callBackUrl: `${receiver.url}/hook` })));
    const ids = new Set(created.map((x) => x.body.data.taskId as string));
    // Wait until every one has been tried at least once and refused.
    await pollUntil('every one tried and refused', () => new Set(receiver.requests.slice(before).map((r) => JSON.parse(r.body).data.taskId)).size >= 20, {
      intervalMs: 200,
    });
    await a.kill('SIGKILL');
    receiverStatus = 200;
    const delivered = new Map<string, number>();
    const ours = await pollUntil(
      'all 20 delivered by the other instance',
      async () => {
        const rows = (await admin(b, '/deliveries?tenant=hooks&limit=1000')).data as Array<{ taskId: string; state: string }>;
        const mine = rows.filter((r) => ids.has(r.taskId));
        return mine.length === 20 && mine.every((r) => r.state === 'delivered') ? mine : undefined;
      },
      { intervalMs: 200 },
    );
    for (const r of ours) delivered.set(r.taskId, (delivered.get(r.taskId) ?? 0) + 1);
    expect(delivered.size).toBe(20); // nothing lost
    expect([...delivered.values()].every((n) => n === 1)).toBe(true); // one delivery row per task
    expect(overlapping).toBe(0); // never two attempts of one delivery at once
    a = await spawnGateway(config()); // for the tests after this one
  });
});

describe('slots cannot leak', needsRedis, () => {
  it('an instance killed mid-request: its slot frees itself at the lease', async () => {
    const slow = config({
      upstream: { baseUrl: sim.url, keys: [{ id: 'key-slow', apiKey: 'sk-slow', createPer10s: 1000 }] },
      tasks: { maxLifetimeMs: 10_000 },
      redis: { url: redis.url, prefix: `lease-${randomUUID()}`, commandTimeoutMs: 3000 },
    });
    // Both started first: the slot's 10 s lease runs from the admission, so nothing slow (like
    // starting a process) may come between the kill and the check that the slot is still held.
    const [doomed, next] = await Promise.all([spawnGateway(slow), spawnGateway(slow)]);
    try {
      const seen = sim.counters().createTask;
      const sentAt = Date.now();
      const pending = post(doomed, 'lease', zImage).catch(() => undefined); // 2 s at the provider
      // Admitted (the slot is taken) once the provider has the request: kill it then.
      await pollUntil('the createTask at the provider', () => sim.counters().createTask === seen + 1, { intervalMs: 20 });
      await doomed.kill('SIGKILL');
      await pending;
      const held = await post(next, 'lease', zImage);
      expect(held.body).toMatchObject({ code: 429, data: { limit: 'maxInFlight' } });
      // Freed at the lease, not before: every answer until then is the same refusal.
      const freed = await pollUntil(
        'the slot freed',
        async () => {
          const answer = await post(next, 'lease', zImage);
          if (answer.status !== 200) expect(answer.body).toMatchObject({ code: 429, data: { limit: 'maxInFlight' } });
          return answer.status === 200 ? Date.now() : undefined;
        },
        { intervalMs: 250 },
      );
      expect(freed - sentAt).toBeGreaterThanOrEqual(10_000);
    } finally {
      await Promise.all([doomed.kill('SIGKILL'), next.kill('SIGKILL')]);
    }
  });
});
