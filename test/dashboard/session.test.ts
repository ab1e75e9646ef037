// The dashboard's session and the admin API's access rules, over HTTP without a browser: what a
// cookie may do and when it stops working, the CSRF proof, the Secure flag, the page's headers,
// and the two admin endpoints the dashboard reads (stats, a task's history).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGatewaySpec } from '../../src/spec/document.js';
import { createSpecValidator } from '../../src/spec/validator.js';
import { ACME_KEY, ADMIN_TOKEN, raw, startStack, type Stack, type StackOptions } from '../helpers/gateway-stack.js';
import { manualClock, pollUntil } from '../helpers/wait.js';

let stack: Stack | undefined;
let assets: string | undefined;
const folders: string[] = [];
afterEach(async () => {
  await stack?.close();
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  stack = assets = undefined;
});

async function start(options: StackOptions = {}): Promise<Stack> {
  assets = await mkdtemp(join(tmpdir(), 'lxg-dashboard-assets-'));
  folders.push(assets);
  await writeFile(join(assets, 'index.html'), '<!doctype html><title>dashboard</title>');
  stack = await startStack({ ...options, deps: { dashboardAssets: assets, ...options.deps } });
  return stack;
}

async function signIn(s: Stack, token = ADMIN_TOKEN, headers: Record<string, string> = {}) {
  const response = await fetch(`${s.url}/dashboard/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ token }),
  });
  const body = (await response.json()) as { code: number; msg: string; data: { csrf: string; expiresAt: number } | null };
  const setCookie = response.headers.get('set-cookie') ?? '';
  return { status: response.status, body, setCookie, cookie: setCookie.split(';')[0]! };
}

const call = (s: Stack, path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) =>
  fetch(`${s.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

describe('dashboard session', () => {
  it('signs in only with the admin token, into a cookie that carries no secret', async () => {
    const s = await start();
    const wrong = await signIn(s, 'not-the-token');
    expect(wrong).toMatchObject({ status: 401, body: { code: 401, msg: 'Wrong admin token' }, setCookie: '' });
    const invalid = await call(s, '/dashboard/session', { method: 'POST', body: { password: ADMIN_TOKEN } });
    expect(invalid.status).toBe(422);
    expect(((await invalid.json()) as { msg: string }).msg).toContain('token');

    const ok = await signIn(s);
    expect(ok.status).toBe(200);
    expectContract('SessionResponse', ok.body);
    expect(ok.setCookie).toMatch(/^lxg_dashboard=[^;]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict$/);
    expect(ok.setCookie).not.toContain(ADMIN_TOKEN);
    expect(JSON.stringify(s.logs)).not.toContain(ok.cookie.split('=')[1]);
    const session = await call(s, '/dashboard/session', { headers: { cookie: ok.cookie } });
    expect(((await session.json()) as { data: { csrf: string } }).data.csrf).toBe(ok.body.data!.csrf);
  });

  it('lets the cookie read, and change only with X-CSRF-Token from the same origin', async () => {
    const s = await start();
    const { cookie, body } = await signIn(s);
    const csrf = body.data!.csrf;
    expect((await call(s, '/admin/v1/tenants', { headers: { cookie } })).status).toBe(200);
    const create = (headers: Record<string, string>, id: string) =>
      call(s, '/admin/v1/tenants', { method: 'POST', headers: { cookie, ...headers }, body: { id } });
    expect((await create({}, 'no-proof')).status).toBe(403);
    expect((await create({ 'x-csrf-token': `${csrf}x` }, 'bad-proof')).status).toBe(403);
    expect((await create({ 'x-csrf-token': csrf, origin: 'https://evil.example' }, 'cross-site')).status).toBe(403);
    expect((await create({ 'x-csrf-token': csrf, origin: s.url }, 'ok-origin')).status).toBe(201);
    expect((await create({ 'x-csrf-token': csrf }, 'ok-no-origin')).status).toBe(201);
    const ids = ((await s.admin('GET', '/tenants')).body.data as Array<{ id: string }>).map((t) => t.id);
    expect(ids).toEqual(expect.arrayContaining(['ok-origin', 'ok-no-origin']));
    expect(ids).not.toContain('no-proof');
    // The Bearer token needs no CSRF proof: it is not sent by a browser on its own.
    expect((await s.admin('POST', '/tenants', { id: 'by-token' })).status).toBe(201);
    // A sign-in from another site's page is refused too (login CSRF).
    expect((await signIn(s, ADMIN_TOKEN, { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('ends when it expires, when the admin token changes, and on sign-out', async () => {
    const clock = manualClock();
    const s = await start({ clock, config: () => ({ admin: { token: ADMIN_TOKEN, sessionTtlMinutes: 5 } }) });
    const { cookie, body, setCookie } = await signIn(s);
    expect(setCookie).toContain('Max-Age=300');
    expect((await call(s, '/admin/v1/stats', { headers: { cookie } })).status).toBe(200);
    clock.advance(5 * 60_000);
    expect((await call(s, '/admin/v1/stats', { headers: { cookie } })).status).toBe(401);

    const fresh = await signIn(s);
    // Sign-out is a change: it wants the proof as well.
    expect((await call(s, '/dashboard/session', { method: 'DELETE', headers: { cookie: fresh.cookie } })).status).toBe(403);
    const out = await call(s, '/dashboard/session', { method: 'DELETE', headers: { cookie: fresh.cookie, 'x-csrf-token': fresh.body.data!.csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^lxg_dashboard=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
    expect(body.data!.expiresAt).toBeGreaterThan(0);
    await s.close();
    stack = undefined;

    // Another gateway with another admin token does not take this one's cookie.
    const other = await start({ config: () => ({ admin: { token: 'another-admin-token-0123456789' } }) });
    expect((await call(other, '/admin/v1/stats', { headers: { cookie: fresh.cookie } })).status).toBe(401);
  });

  it('is Secure when the gateway is reached over https', async () => {
    const s = await start({ config: () => ({ publicUrl: 'https://gateway.example' }) });
    expect((await signIn(s)).setCookie).toMatch(/; Secure$/);
  });
});

describe('dashboard page', () => {
  it('is served with headers that keep it on its own origin', async () => {
    const s = await start();
    const bare = await fetch(`${s.url}/dashboard`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/dashboard/');
    const page = await fetch(`${s.url}/dashboard/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await fetch(`${s.url}/dashboard/../package.json`)).status).not.toBe(200);
  });

  it('says how to build it when it is not built, and is off with admin.dashboard false', async () => {
    const s = await start();
    await rm(join(assets!, 'index.html'));
    const missing = await fetch(`${s.url}/dashboard/`);
    expect(missing.status).toBe(503);
    expect(await missing.text()).toContain('npm run build:dashboard');
    await s.close();
    stack = undefined;
    const off = await start({ config: () => ({ admin: { token: ADMIN_TOKEN, dashboard: false } }) });
    expect((await fetch(`${off.url}/dashboard/`)).status).toBe(404);
    expect((await signIn(off)).status).toBe(404);
  });
});

const contract = createSpecValidator(loadGatewaySpec());

/** An answer as openapi/gateway.yaml describes it (the dashboard's types come from there). */
function expectContract(schema: string, body: unknown): void {
  const checked = contract.validateSchema(schema, body);
  expect(checked.ok ? [] : checked.errors).toEqual([]);
}

describe('admin endpoints the dashboard reads', () => {
  it('GET /admin/v1/stats counts tasks by state, refusals by reason, and the added latency', async () => {
    const s = await start();
    const empty = (await s.admin('GET', '/stats')).body.data;
    expect(empty).toMatchObject({ tasks: { lastMinute: { created: 0 } }, queueDepth: 0, refusals: [], addedLatencyMs: { p50: null, p99: null, count: 0 } });
    const created = await raw(`${s.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } } });
    expect(created.status).toBe(200);
    await raw(`${s.url}/api/v1/jobs/createTask`, { key: 'lxg_wrong', body: {} });
    const answer = (await s.admin('GET', '/stats')).body;
    expectContract('StatsResponse', answer);
    const stats = answer.data;
    expect(stats.tasks.lastMinute.created).toBe(1);
    expect(stats.tasks.last15Minutes.created).toBe(1);
    expect(stats.refusals).toEqual([{ reason: 'auth', count: 1 }]);
    expect(stats.addedLatencyMs.count).toBe(1);
    expect(stats.addedLatencyMs.p50).toBeGreaterThanOrEqual(0);
  });

  it('GET /admin/v1/tasks/{taskId}/history shows the record, by either id, with no callback token', async () => {
    const s = await start();
    const created = await raw(`${s.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } } });
    const taskId = created.body.data.taskId as string;
    await pollUntil('the task final', async () => (await s.store.getTask(taskId))?.finalAt);
    const found = await s.admin('GET', `/tasks/${taskId}/history`);
    expect(found.status).toBe(200);
    expectContract('TaskHistoryResponse', found.body);
    expect(found.body.data.task).toMatchObject({ taskId, tenantId: 'acme', state: 'success', upstreamKeyId: 'key-a' });
    expect(found.body.data.history.map((h: { event: string }) => h.event)).toEqual([
      expect.stringContaining('recorded by the gateway'),
      expect.stringContaining("provider's last record"),
      'final: success',
    ]);
    expect(JSON.stringify(found.body)).not.toMatch(/callbackToken|sk-up-a/);
    const byGatewayId = await s.admin('GET', `/tasks/${found.body.data.task.gatewayTaskId}/history`);
    expect(byGatewayId.body.data.task.taskId).toBe(taskId);
    expect((await s.admin('GET', '/tasks/nope/history')).status).toBe(404);
  });
});
