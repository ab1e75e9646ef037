// Quotas through a Redis that is slower than commandTimeoutMs (CLIENT PAUSE from a second
// connection holds every write, scripts included, until CLIENT UNPAUSE). ioredis gives up and the
// tenant is told 503, but the admission is still queued in Redis and runs once Redis resumes: it
// must not count. Nothing here waits on a clock the machine could outrun: the pause lasts until
// the test ends it, and the test waits for the gateway's undo to land, with a generous ceiling.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway-stack.js';
import { create, quotaStack, sleep, type Quotas } from '../helpers/quota-stack.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { needsRedis } from '../helpers/services.js';

let stack: Stack | undefined;
let redis: TestRedis | undefined;
let control: Redis | undefined;
afterEach(async () => {
  await control?.call('CLIENT', 'UNPAUSE').catch(() => undefined);
  control?.disconnect();
  await stack?.close();
  await redis?.close();
  [stack, redis, control] = [undefined, undefined, undefined];
});

async function slowRedisStack(quotas: Quotas) {
  redis = await startRedis();
  control = new Redis(redis.url);
  // Tasks stay in flight: the slots they hold are part of what is checked.
  stack = await quotaStack(quotas, {
    simulator: { timing: { generatingMs: 600_000 } },
    extra: { redis: { url: redis.url, prefix: 'slow', commandTimeoutMs: 200 } },
  });
  return stack;
}

/** Polls until the gateway has nothing left to tell Redis (its undos landed). */
async function settled(stack: Stack) {
  const quota = stack.gateway.context.quota as unknown as { missedWrites(): number };
  for (let i = 0; i < 600 && quota.missedWrites() > 0; i++) await sleep(50);
  expect(quota.missedWrites()).toBe(0);
}

describe('Redis slower than commandTimeoutMs', needsRedis, () => {
  it('an admission the caller was told failed counts nothing: no task of the day, no slot, no reservation', async () => {
    const s = await slowRedisStack({ tasksPerDay: 3, maxInFlight: 3, budgetUsdPerMonth: 0.012, requestsPerMinute: 8 });
    expect((await create(s)).status).toBe(200); // the tenant's counters are in Redis, the scripts loaded
    await control!.call('CLIENT', 'PAUSE', '600000', 'WRITE');
    const refused = await Promise.all(Array.from({ length: 5 }, () => create(s)));
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({ code: 503, msg: 'Quotas cannot be checked now; try again shortly', data: null });
      expect(answer.headers.get('retry-after')).toBe('1');
      // Every answer carries the RateLimit headers: each policy, nothing left until Retry-After.
      expect(answer.headers.get('ratelimit-policy')).toMatch(
        /^"requestsPerMinute";q=8;w=60, "tasksPerDay";q=3;w=86400, "maxInFlight";q=3, "budgetUsdPerMonth";q=1;w=\d+$/,
      );
      expect(answer.headers.get('ratelimit')).toMatch(
        /^"requestsPerMinute";r=0;t=1, "tasksPerDay";r=0;t=1, "maxInFlight";r=0;t=1, "budgetUsdPerMonth";r=0;t=1$/,
      );
    }
    await control!.call('CLIENT', 'UNPAUSE'); // the five admissions run now, in Redis
    await settled(s);
    // Two tasks are left of the day, two slots and $0.008 of the budget; the 5 calls were not counted.
    const after = [await create(s), await create(s)];
    expect(after.map((a) => a.status)).toEqual([200, 200]);
    expect(after[1]!.headers.get('ratelimit')).toMatch(
      /^"requestsPerMinute";r=5;t=\d+, "tasksPerDay";r=0;t=\d+, "maxInFlight";r=0;t=0, "budgetUsdPerMonth";r=0;t=\d+$/,
    );
    expect((await create(s)).body).toMatchObject({ code: 429, data: { limit: 'tasksPerDay' } });
    // The tenant never saw what went wrong inside; the operator's log has it.
    expect(s.rawLogs.some((line) => line.includes('Command timed out'))).toBe(true);
  });

  it('a refused call whose count timed out is not counted either', async () => {
    const s = await slowRedisStack({ requestsPerMinute: 2 });
    await control!.call('CLIENT', 'PAUSE', '600000', 'WRITE');
    const reading = await create(s, { model: 'z-image' }); // refused by validation: counted on its own
    expect(reading.status).toBe(400); // the count could not be made: the refusal stands
    await control!.call('CLIENT', 'UNPAUSE');
    await settled(s);
    const answers = [await create(s), await create(s), await create(s)];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
  });
});
