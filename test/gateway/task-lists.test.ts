// Task lists against the simulator: a tenant's own (GET /api/v1/jobs/list, through the typed
// client too) and the operator's (GET /admin/v1/tasks): newest first, filters, cursor pages
// that neither repeat nor skip, isolation between tenants, refusals naming the parameter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiangxinError, type TaskSummary } from '../../src/client/index.js';
import { ACME_KEY, GLOBEX_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { pollUntil } from '../helpers/wait.js';

let stack: Stack;
const acmeTasks: string[] = [];
let globexTask: string;

beforeAll(async () => {
  stack = await startStack();
  const acme = stack.client(ACME_KEY);
  for (let i = 0; i < 5; i++) acmeTasks.push((await acme.createTask({ model: 'z-image', input: { prompt: `p${i}`, aspect_ratio: '1:1' } })).taskId);
  globexTask = (await stack.client(GLOBEX_KEY).createTask({ model: 'z-image', input: { prompt: 'g', aspect_ratio: '1:1' } })).taskId;
  await pollUntil('every task final', async () => {
    for (const id of [...acmeTasks, globexTask]) if (!(await stack.store.getTask(id))?.finalAt) return false;
    return true;
  });
});
afterAll(() => stack.close());

describe('GET /api/v1/jobs/list', () => {
  it("lists the tenant's own tasks only, newest first, through the typed client", async () => {
    const page = await stack.client(ACME_KEY).listTasks();
    expect(page.items.map((t) => t.taskId).sort()).toEqual([...acmeTasks].sort());
    expect(page.items.map((t) => t.taskId)).not.toContain(globexTask);
    const times = page.items.map((t) => t.createdAt);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(page.items[0]).toEqual({
      taskId: expect.any(String),
      model: 'z-image',
      state: 'success',
      createdAt: expect.any(Number),
      finalAt: expect.any(Number),
    });
    expect(page.nextCursor).toBeNull();
    expect((await stack.client(GLOBEX_KEY).listTasks()).items.map((t) => t.taskId)).toEqual([globexTask]);
  });

  it('pages with the cursor, each task once', async () => {
    const client = stack.client(ACME_KEY);
    const seen: TaskSummary[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listTasks({ limit: 2, ...(cursor && { cursor }) });
      seen.push(...page.items);
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.map((t) => t.taskId).sort()).toEqual([...acmeTasks].sort());
  });

  it('filters by state, model and creation time', async () => {
    const client = stack.client(ACME_KEY);
    expect((await client.listTasks({ state: 'fail' })).items).toEqual([]);
    expect((await client.listTasks({ state: 'success' })).items).toHaveLength(5);
    expect((await client.listTasks({ model: 'kling-v3-pro' })).items).toEqual([]);
    expect((await client.listTasks({ from: String(Date.now() + 60_000) })).items).toEqual([]);
    expect((await client.listTasks({ to: new Date(Date.now() + 60_000).toISOString() })).items).toHaveLength(5);
  });

  it('refuses a bad parameter with 400 naming it, and a call without a key with 401', async () => {
    for (const [query, path] of [
      ['state=done', 'state'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['cursor=nope', 'cursor'],
      ['from=yesterday', 'from'],
    ] as const) {
      const answer = await raw(`${stack.url}/api/v1/jobs/list?${query}`, { key: ACME_KEY });
      expect(answer.status).toBe(400);
      expect(answer.body.data.errors[0].path).toBe(path);
    }
    await expect(stack.client('lxg_nobody_0123456789abcdef').listTasks()).rejects.toBeInstanceOf(LiangxinError);
    expect((await raw(`${stack.url}/api/v1/jobs/list`)).status).toBe(401);
  });
});

describe('GET /admin/v1/tasks', () => {
  it("lists every tenant's tasks with the provider's task id and key, or one tenant's", async () => {
    const all = await stack.admin('GET', '/tasks');
    expect(all.status).toBe(200);
    expect(all.body.data.items).toHaveLength(6);
    expect(all.body.data.items.find((t: { taskId: string }) => t.taskId === globexTask)).toMatchObject({
      tenantId: 'globex',
      // The row's key is the gateway's id; the provider's sits beside it.
      providerTaskId: (await stack.store.getTask(globexTask))!.providerTaskId,
      gatewayTaskId: globexTask,
      upstreamKey: 'key-a',
      state: 'success',
    });
    expect(JSON.stringify(all.body)).not.toContain('sk-up-a');
    const globex = await stack.admin('GET', '/tasks?tenant=globex&limit=10');
    expect(globex.body.data.items.map((t: { taskId: string }) => t.taskId)).toEqual([globexTask]);
    const bad = await stack.admin('GET', '/tasks?state=nope');
    expect(bad.status).toBe(422);
    expect(bad.body.data.errors[0].path).toBe('state');
  });
});
