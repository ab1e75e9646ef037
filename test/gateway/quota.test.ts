// Per-tenant quotas on one instance (in memory, rebuilt from the store) and through Redis: every
// limit refuses exactly at its quota, with the limit named, Retry-After and RateLimit headers;
// slots and reservations come back on every path.
import { afterEach, describe, expect, it } from 'vitest';
import { ACME_KEY, raw, type Stack } from '../helpers/gateway-stack.js';
import { create, finish, proImage, quotaStack, read, video, videoNeverEnds, zImage, type QuotaStackOptions, type Quotas } from '../helpers/quota-stack.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { needsRedis } from '../helpers/services.js';
import { manualClock, pollUntil } from '../helpers/wait.js';

let stacks: Stack[] = [];
let redis: TestRedis | undefined;
afterEach(async () => {
  await Promise.all(stacks.map((s) => s.close()));
  await redis?.close();
  stacks = [];
  redis = undefined;
});

async function stackWith(quotas: Quotas, options: QuotaStackOptions = {}) {
  const stack = await quotaStack(quotas, options);
  stacks.push(stack);
  return stack;
}

for (const backend of ['memory', 'redis'] as const) {
  describe(`quotas (${backend})`, backend === 'redis' ? needsRedis : {}, () => {
    const start = async (quotas: Quotas, options: Parameters<typeof stackWith>[1] = {}) => {
      if (backend === 'redis' && !redis) redis = await startRedis();
      return stackWith(quotas, { ...options, redisUrl: backend === 'redis' ? redis!.url : undefined });
    };

    it('tasksPerDay: exactly the quota passes among concurrent requests', async () => {
      const stack = await start({ tasksPerDay: 5 });
      const answers = await Promise.all(Array.from({ length: 12 }, () => create(stack)));
      expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
      const refused = answers.filter((a) => a.status === 429);
      expect(refused).toHaveLength(7);
      for (const answer of refused) {
        expect(answer.body).toMatchObject({ code: 429, data: { limit: 'tasksPerDay' } });
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(answer.headers.get('ratelimit')).toContain('"tasksPerDay";r=0;');
      }
      expect(stack.sim.counters().createTask).toBe(5);
    });

    it('RateLimit headers on every answer to the tenant', async () => {
      const stack = await start({ tasksPerDay: 10, requestsPerMinute: 100 });
      const created = await create(stack);
      expect(created.headers.get('ratelimit-policy')).toBe('"requestsPerMinute";q=100;w=60, "tasksPerDay";q=10;w=86400');
      expect(created.headers.get('ratelimit')).toMatch(/^"requestsPerMinute";r=99;t=\d+, "tasksPerDay";r=9;t=\d+$/);
      const reading = await read(stack, created.body.data.taskId);
      expect(reading.headers.get('ratelimit')).toMatch(/^"requestsPerMinute";r=98;t=\d+$/);
    });

    it('requestsPerMinute counts every call, reads included', async () => {
      const stack = await start({ requestsPerMinute: 4 });
      const created = await create(stack);
      for (let i = 0; i < 3; i++) expect((await read(stack, created.body.data.taskId)).status).not.toBe(429);
      const fifth = await read(stack, created.body.data.taskId);
      expect(fifth).toMatchObject({ status: 429, body: { data: { limit: 'requestsPerMinute' } } });
      expect(Number(fifth.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    });

    it('requestsPerMinute counts refused calls too: an invalid body, a refused callBackUrl, a body that is not JSON', async () => {
      const stack = await start({ requestsPerMinute: 4 });
      const invalid = await create(stack, { model: 'z-image' });
      expect(invalid.status).toBe(400);
      expect(invalid.headers.get('ratelimit')).toMatch(/^"requestsPerMinute";r=3;t=\d+$/);
      const privateHook = { ...zImage, callBackUrl: 'https://localhost/hook' }; // resolves to 127.0.0.1
      expect((await create(stack, privateHook)).status).toBe(400);
      expect((await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, rawBody: '{"model":' })).status).toBe(400);
      expect((await create(stack)).status).toBe(200); // the fourth call
      // The window is full: refused before the body is read, checked or its callBackUrl resolved.
      for (const body of [privateHook, { model: 'z-image' }, zImage]) {
        const over = await create(stack, body);
        expect(over).toMatchObject({ status: 429, body: { code: 429, data: { limit: 'requestsPerMinute' } } });
        expect(over.headers.get('ratelimit')).toMatch(/^"requestsPerMinute";r=0;t=\d+$/);
      }
      expect(stack.sim.counters().createTask).toBe(1);
    });

    it('maxInFlight: a slot comes back when the task ends', async () => {
      // The simulator's clock stands still and it sends no callbacks, so nothing ends by itself
      // however slow the run (an image used to end on its own in 0.1 s, sometimes before the third
      // createTask). Then the clock moves far enough for a (an image) to end, and reading it
      // tells the gateway; b and the later ones (videos) stay in flight.
      const simClock = manualClock();
      const simulator = { ...videoNeverEnds, now: simClock.now, accounts: [{ apiKey: 'sk-up-a', quirks: ['callback=lost' as const] }] };
      const stack = await start({ maxInFlight: 2 }, { simulator });
      const a = await create(stack);
      const b = await create(stack, video);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect((await create(stack, video)).body).toMatchObject({ code: 429, data: { limit: 'maxInFlight' } });
      simClock.advance(60_000);
      await finish(stack, a.body.data.taskId);
      expect((await create(stack, video)).status).toBe(200);
      expect((await create(stack, video)).status).toBe(429);
    });

    it("budget: reserve at admission, settle at the end, release a failed task's reservation", async () => {
      const stack = await start({ budgetUsdPerMonth: 0.1 });
      const first = await create(stack, proImage);
      expect(first.status).toBe(200);
      const over = await create(stack, proImage); // 0.09 reserved + 0.09 > 0.10
      expect(over).toMatchObject({ status: 402, body: { code: 402, data: { limit: 'budgetUsdPerMonth' } } });
      expect((await create(stack)).status).toBe(200); // z-image: 0.094 ≤ 0.10
      const final = await finish(stack, first.body.data.taskId);
      expect(final.creditsConsumed).toBe(18); // settled at $0.09: still no room for another
      expect((await create(stack, proImage)).status).toBe(402);

      const failing = await start({ budgetUsdPerMonth: 0.1 }, { simulator: { accounts: [{ apiKey: 'sk-up-a', quirks: ['fail'] }] } });
      const doomed = await create(failing, proImage);
      expect((await create(failing, proImage)).status).toBe(402);
      await finish(failing, doomed.body.data.taskId);
      expect((await create(failing, proImage)).status).toBe(200); // the failed task cost nothing
    });

    it('a createTask that fails upstream gives its slot and its count back', async () => {
      const stack = await start({ maxInFlight: 1, tasksPerDay: 1 }, { simulator: { accounts: [{ apiKey: 'sk-up-a', credits: 0 }] } });
      expect((await create(stack)).status).toBe(503);
      stack.sim.updateAccount('account-1', { credits: 1000 });
      // The key rests after its 402; wait for it to be offered again.
      stack.gateway.context.upstreams.byId('default')!.pool.report('key-a', 'active', '');
      expect((await create(stack)).status).toBe(200);
    });

    it('the lease frees the slot of a task never heard of again', async () => {
      // The gateway's clock moves only when told: the lease runs out when the test says so.
      const clock = manualClock();
      const stack = await start({ maxInFlight: 1 }, { simulator: { timing: 'realistic' }, extra: { tasks: { maxLifetimeMs: 400 } }, clock });
      expect((await create(stack)).status).toBe(200);
      clock.advance(399);
      expect((await create(stack)).status).toBe(429);
      clock.advance(51);
      expect((await create(stack)).status).toBe(200);
    });
  });
}

describe('a caller that leaves', () => {
  it('gives its slot back when it left before anything was sent', async () => {
    const stack = await stackWith({ maxInFlight: 1 });
    const ctx = stack.gateway.context;
    const principal = {
      tenantId: 'acme',
      keyId: 'tk',
      models: null,
      quotas: { maxInFlight: 1 },
      settings: { unknownFields: 'reject', httpStatus: 'provider' },
    } as const;
    const { createTask } = await import('../../src/gateway/tasks/create.js');
    const { acceptCreateTask } = await import('../../src/gateway/dialect.js');
    // createTask is the plain function behind the route; the route's hooks report a closed response.
    const left = await createTask(ctx, principal, acceptCreateTask(ctx, principal, zImage), { onRemaining: () => undefined, aborted: () => true }).catch(
      (e: unknown) => e,
    );
    expect(left).toMatchObject({ code: 499, reason: 'aborted' });
    expect(stack.sim.counters().createTask).toBe(0);
    expect((await create(stack)).status).toBe(200); // the slot was given back
  });
});

describe('quotas through the admin API', () => {
  it('take effect at once, without a restart', async () => {
    const stack = await stackWith({});
    expect((await create(stack)).headers.get('ratelimit')).toBeNull(); // no quotas, no headers
    const patched = await stack.admin('PATCH', '/tenants/acme', { quotas: { tasksPerDay: 2 } });
    expect(patched.body.data.quotas).toEqual({ tasksPerDay: 2 });
    expect((await create(stack)).status).toBe(200); // 2 today now
    expect((await create(stack)).body).toMatchObject({ code: 429, data: { limit: 'tasksPerDay' } });
    const bad = await stack.admin('PATCH', '/tenants/acme', { quotas: { tasksPerDay: -1, perHour: 3 } });
    expect(bad.status).toBe(422);
    expect((bad.body.data.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual(['quotas.perHour', 'quotas.tasksPerDay']);
  });

  it('reports usage per model and per day, and refuses a grouping it does not know', async () => {
    const stack = await stackWith({});
    await create(stack);
    await create(stack, proImage);
    const byModel = (await stack.admin('GET', '/usage?tenant=acme&groupBy=model')).body.data as Array<{
      group: string;
      tasks: number;
      estimatedUsd: string;
      estimatedUsdMicros: number;
    }>;
    expect(byModel.map((r) => [r.group, r.tasks, r.estimatedUsd, r.estimatedUsdMicros])).toEqual([
      ['nano-banana-pro', 1, '0.09', 90_000],
      ['z-image', 1, '0.004', 4_000],
    ]);
    const today = new Date().toISOString().slice(0, 10);
    expect((await stack.admin('GET', `/usage?groupBy=day&from=${today}`)).body.data).toMatchObject([{ tenantId: 'acme', group: today, tasks: 2 }]);
    expect((await stack.admin('GET', '/usage?from=2999-01-01')).body.data).toEqual([]);
    const bad = await stack.admin('GET', '/usage?groupBy=week&from=yesterday');
    expect(bad.status).toBe(422);
    expect(bad.body.data.errors[0].path).toBe('groupBy');
  });
});

describe('the embedded backend survives a restart', () => {
  it("rebuilds today's count from the store", async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'lxg-quota-'));
    const store = `sqlite:${join(dir, 'gateway.db')}`;
    const first = await stackWith({ tasksPerDay: 3 }, { extra: { store } });
    for (let i = 0; i < 2; i++) expect((await create(first)).status).toBe(200);
    await first.close();
    stacks = stacks.filter((s) => s !== first);
    const second = await stackWith({ tasksPerDay: 3 }, { extra: { store } });
    expect((await create(second)).status).toBe(200);
    expect((await create(second)).body).toMatchObject({ code: 429, data: { limit: 'tasksPerDay' } });
    await rm(dir, { recursive: true, force: true });
  });
});

/** Tasks that stay in flight while a test counts Redis calls (one that ends is settled: a call too). */
const running = { timing: { generatingMs: 600_000 } };

describe('shared through Redis', needsRedis, () => {
  it('two gateways never pass a limit together', async () => {
    redis = await startRedis();
    const a = await stackWith({ tasksPerDay: 10 }, { redisUrl: redis.url, sharedPrefix: 'shared' });
    const b = await stackWith({ tasksPerDay: 10 }, { redisUrl: redis.url, sharedPrefix: 'shared' });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => create(i % 2 ? a : b)));
    expect(answers.filter((x) => x.status === 200)).toHaveLength(10);
    expect(a.sim.counters().createTask + b.sim.counters().createTask).toBe(10);
  });

  it('one Redis round trip per admission', async () => {
    redis = await startRedis();
    // The tasks do not end meanwhile: their settles would be script calls too.
    const stack = await stackWith(
      { tasksPerDay: 100, maxInFlight: 100, budgetUsdPerMonth: 100, requestsPerMinute: 1000 },
      { redisUrl: redis.url, simulator: running },
    );
    await create(stack); // loads the script once
    const before = await redis.commandCalls();
    for (let i = 0; i < 10; i++) expect((await create(stack)).status).toBe(200);
    const after = await redis.commandCalls();
    // INFO also counts the commands a script runs inside Redis; what the gateway sent is the
    // script calls: one EVALSHA per admission, nothing else.
    const sent = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    expect(sent('evalsha') + sent('eval')).toBe(10);
  });

  it('a call with no per-call limit to count makes no round trip; with one, one', async () => {
    redis = await startRedis();
    const unlimited = await stackWith({ tasksPerDay: 100 }, { redisUrl: redis.url, simulator: running });
    const calls = async (stack: Stack) => {
      const taskId = (await create(stack)).body.data.taskId as string;
      // Until the provider shows the task, reads answer "recordInfo is null".
      await pollUntil('the task visible upstream', async () => (await read(stack, taskId)).status === 200);
      const before = await redis!.commandCalls();
      for (let i = 0; i < 5; i++) expect((await read(stack, taskId)).status).toBe(200);
      const after = await redis!.commandCalls();
      return (after.evalsha ?? 0) - (before.evalsha ?? 0) + (after.eval ?? 0) - (before.eval ?? 0);
    };
    expect(await calls(unlimited)).toBe(0);
    const limited = await stackWith({ tasksPerDay: 100, requestsPerMinute: 1000 }, { redisUrl: redis.url, simulator: running });
    expect(await calls(limited)).toBe(5);
  });

  it('fails closed while Redis is down, and recovers by itself', async () => {
    redis = await startRedis();
    const stack = await stackWith({ tasksPerDay: 100 }, { redisUrl: redis.url });
    expect((await create(stack)).status).toBe(200);
    await redis.stop();
    const refused = await create(stack);
    expect(refused).toMatchObject({ status: 503, body: { code: 503 } });
    expect(refused.body).toEqual({ code: 503, msg: 'Quotas cannot be checked now; try again shortly', data: null });
    expect(refused.headers.get('ratelimit')).toMatch(/^"tasksPerDay";r=0;t=1$/);
    const ready = await raw(`${stack.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body.checks.quota).toMatch(/redis/);
    await redis.start();
    await pollUntil('ready again', async () => (await raw(`${stack.url}/readyz`)).status === 200);
    expect((await create(stack)).status).toBe(200);
  });

  it('with failOpen, falls back to per-instance limits while Redis is down', async () => {
    redis = await startRedis();
    const stack = await stackWith({ tasksPerDay: 2 }, { extra: { redis: { url: redis.url, failOpen: true } } });
    await redis.stop();
    expect((await create(stack)).status).toBe(200);
    expect((await create(stack)).status).toBe(200);
    expect((await create(stack)).status).toBe(429); // the local limit holds
    const ready = await raw(`${stack.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body.checks.quota).toMatch(/^degraded/);
  });
});
