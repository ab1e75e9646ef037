// The admission queue over several upstreams: a queued model served by two upstreams (two
// simulators, two accounts, one key each) drains at their combined allowance, each upstream
// within its own key's pace, and every task names the upstream it went to. The gateway and both
// simulators share one manual clock; after each step the test waits for the dispatcher's idle().
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { ACME_KEY, startStack, type Stack } from '../helpers/gateway-stack.js';
import { manualClock } from '../helpers/wait.js';

const zImage = { model: 'z-image', input: { prompt: 'A lighthouse at dawn', aspect_ratio: '16:9' } };
const PER_10S = 20;

let stack: Stack | undefined;
let simB: RunningSimulator | undefined;
afterEach(async () => {
  await stack?.close();
  await simB?.close();
  stack = simB = undefined;
});

const create = (s: Stack) =>
  fetch(`${s.url}/api/v1/jobs/createTask`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ACME_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(zImage),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code: number; data: { taskId: string } } }));

describe('the admission queue over two upstreams', () => {
  it('a model served by two upstreams drains at their combined allowance, each within its own pace', async () => {
    const clock = manualClock(1_780_000_000_000);
    // Realistic phases: no task ends on its own between the clock's steps.
    simB = await createSimulator({ now: clock.now, createPer10s: PER_10S, timing: 'realistic', accounts: [{ apiKey: 'sk-b' }] });
    const urlB = simB.url;
    stack = await startStack({
      clock,
      simulator: { now: clock.now, createPer10s: PER_10S, timing: 'realistic', accounts: [{ apiKey: 'sk-a' }] },
      config: (urlA) => ({
        upstream: undefined,
        upstreams: [
          { id: 'a', baseUrl: urlA, keys: [{ id: 'key-a', apiKey: 'sk-a', createPer10s: PER_10S }] },
          // Cheaper: routed first, but one key's allowance is not all there is.
          { id: 'b', baseUrl: urlB, priceFactor: 0.8, keys: [{ id: 'key-b', apiKey: 'sk-b', createPer10s: PER_10S }] },
        ],
        queue: { admission: 'queue' },
      }),
    });
    const s = stack;
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const answer = await create(s);
      expect(answer).toMatchObject({ status: 200, body: { code: 200, data: { taskId: expect.stringMatching(/^gt_/) } } });
      ids.push(answer.body.data.taskId);
    }
    await s.gateway.dispatcher!.idle();

    // One window: each key's units are spread over it, so 20 + 20 go in its 10 s, not 20.
    for (let t = 0; t < 19; t++) {
      clock.advance(500);
      await s.gateway.dispatcher!.idle();
    }
    expect({ a: s.sim.tasks().length, b: simB.tasks().length }).toEqual({ a: PER_10S, b: PER_10S });

    // The rest drains too, never past a key's pace (neither simulator refused a createTask).
    for (let t = 0; s.sim.tasks().length + simB.tasks().length < 60; t++) {
      clock.advance(500);
      await s.gateway.dispatcher!.idle();
      expect(t).toBeLessThan(200);
    }
    expect(s.sim.counters().createTask + simB.counters().createTask).toBe(60);

    // Every task went once, to the upstream its row names.
    const rows = await Promise.all(ids.map((id) => s.store.getTask(id)));
    const atA = new Set(s.sim.tasks().map((t) => t.taskId));
    const atB = new Set(simB.tasks().map((t) => t.taskId));
    for (const row of rows) {
      expect(row).toMatchObject({ state: 'waiting', upstreamId: expect.stringMatching(/^[ab]$/), providerTaskId: expect.any(String) });
      expect((row!.upstreamId === 'a' ? atA : atB).has(row!.providerTaskId!)).toBe(true);
    }
    expect(new Set(rows.map((r) => r!.providerTaskId)).size).toBe(60);
  });
});
