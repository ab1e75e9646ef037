// The operator's dashboard, driven in a real headless chromium against a real gateway and
// simulator: sign in, create a tenant and a key, use the key, find the task in usage and on the
// overview, revoke the key and see it refused, redeliver a failed callback, sign out. And the
// other side: a wrong token, no session, a forged cookie, a change without its CSRF proof.
// The tests run in order and share one browser and one gateway (each step builds on the last).
//
// Screenshots of each page are taken on the way; with LXG_SCREENSHOTS=1 they are written to
// docs/dashboard/ (the README shows them), otherwise to a temporary folder.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/gateway/dashboard/build.js';
import { packageRoot } from '../../src/spec/files.js';
import { ACME_KEY, ADMIN_TOKEN, GLOBEX_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { needsChromium } from '../helpers/services.js';
import { HANG_CEILING_MS, pollUntil } from '../helpers/wait.js';
import { launchBrowser, type Browser } from './browser.js';

let stack: Stack;
let receiver: ScriptedServer;
let browser: Browser;
let page: Page;
let assets: string;
let shots: string;
/** Every request the page made, to prove it asked nothing of any other origin. */
const requested: string[] = [];

const TENANT = 'dash-co';
let secret = '';
let keyId = '';
let taskId = '';
let acmeTaskId = '';

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function open(hash: string, heading: string): Promise<void> {
  await page.goto(`${stack.url}/dashboard/#/${hash}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** Polls until the matcher holds: the suite's one ceiling, never the machine's speed (expect.poll's default is 1 s). */
const eventually = <T>(probe: () => T | Promise<T>) => expect.poll(probe, { timeout: HANG_CEILING_MS, interval: 50 });

/** What the page's own session may do: the browser context's cookies, sent from Node. */
const asPage = (path: string, init: Parameters<Page['request']['fetch']>[1] = {}) =>
  page.request.fetch(`${stack.url}${path}`, { failOnStatusCode: false, ...init });

describe('the dashboard in a browser', needsChromium, () => {
  beforeAll(async () => {
    assets = await buildDashboard(await mkdtemp(join(tmpdir(), 'lxg-dashboard-')));
    shots = process.env.LXG_SCREENSHOTS === '1' ? join(packageRoot, 'docs', 'dashboard') : await mkdtemp(join(tmpdir(), 'lxg-shots-'));
    await mkdir(shots, { recursive: true });
    // The tenant's receiver refuses the first callback for good (410), then takes every one.
    receiver = await startScriptedServer((_req, res, index) => res.writeHead(index === 0 ? 410 : 204).end());
    stack = await startStack({
      config: () => ({
        callbacks: { allowHttp: true, allowHosts: ['127.0.0.1'], retryScheduleMs: [100, 100, 100], pollIntervalMs: 50 },
        reconcile: { afterMs: 300, intervalMs: 50, maxBackoffMs: 300, batch: 20 },
      }),
      deps: { dashboardAssets: assets },
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('request', (request) => requested.push(request.url()));
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await receiver?.close();
    await rm(assets, { recursive: true, force: true });
  });

  it('refuses a wrong token, and every admin call without the session', async () => {
    await page.goto(`${stack.url}/dashboard/`);
    await page.getByLabel('Admin token').fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await eventually(() => page.getByRole('alert').textContent()).toContain('Wrong admin token');
    await shot('sign-in');
    expect((await browser.context.cookies()).filter((c) => c.name === 'lxg_dashboard')).toEqual([]);

    for (const path of ['/admin/v1/tenants', '/admin/v1/stats', '/admin/v1/usage', '/admin/v1/deliveries', '/dashboard/session']) {
      expect((await asPage(path)).status(), path).toBe(401);
    }
    // A cookie of the right name and shape, not signed by this gateway: nothing.
    const forged = `lxg_dashboard=${Date.now() + 3_600_000}.${'a'.repeat(24)}.${'b'.repeat(43)}`;
    expect((await asPage('/admin/v1/tenants', { headers: { cookie: forged } })).status()).toBe(401);
    expect((await asPage('/admin/v1/tenants', { method: 'POST', headers: { cookie: forged }, data: { id: 'x' } })).status()).toBe(401);
  });

  it('signs in with the admin token into an HttpOnly, SameSite=Strict session; a change needs its CSRF proof', async () => {
    // By keyboard: Enter submits the form, the first Tab reaches the skip link, links open pages.
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByLabel('Admin token').press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.getByRole('link', { name: 'Usage' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Usage' }).waitFor();
    const [cookie] = (await browser.context.cookies()).filter((c) => c.name === 'lxg_dashboard');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', secure: false });
    expect(cookie!.value).not.toContain(ADMIN_TOKEN);

    // Reads work with the cookie alone; a change without X-CSRF-Token, or from another origin, does not.
    expect((await asPage('/admin/v1/tenants')).status()).toBe(200);
    const noProof = await asPage('/admin/v1/tenants', { method: 'POST', data: { id: 'forged' } });
    expect(noProof.status()).toBe(403);
    expect(((await noProof.json()) as { msg: string }).msg).toContain('X-CSRF-Token');
    const { data: session } = (await (await asPage('/dashboard/session')).json()) as { data: { csrf: string } };
    const crossSite = await asPage('/admin/v1/tenants', {
      method: 'POST',
      headers: { 'x-csrf-token': session.csrf, origin: 'https://evil.example' },
      data: { id: 'forged' },
    });
    expect(crossSite.status()).toBe(403);
    expect((await asPage('/admin/v1/tenants', { method: 'POST', headers: { 'x-csrf-token': 'wrong' }, data: { id: 'forged' } })).status()).toBe(403);
    expect((await stack.admin('GET', '/tenants')).body.data.map((t: { id: string }) => t.id)).not.toContain('forged');
  });

  it('creates a tenant and a key (its secret shown once, with a copy button), and edits quotas with the API’s messages', async () => {
    await open('tenants', 'Tenants');
    await page.getByLabel('Tenant id').fill(TENANT);
    await page.getByLabel(/^Models/).fill('z-image');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('heading', { name: `Tenant ${TENANT}` }).waitFor();

    await page.getByLabel('Label').fill('e2e');
    await page.getByRole('button', { name: 'Issue key' }).click();
    const secretBox = page.getByLabel('Secret');
    await secretBox.waitFor();
    secret = await secretBox.inputValue();
    expect(secret).toMatch(/^lxg_/);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    const keys = (await stack.admin('GET', `/tenants/${TENANT}/keys`)).body.data as Array<{ id: string; label: string }>;
    expect(keys).toEqual([expect.objectContaining({ label: 'e2e' })]);
    keyId = keys[0]!.id;

    // A quota the API refuses: its own message, naming the field, on the page.
    await page.getByLabel('Tasks per day').fill('0');
    await page.getByRole('button', { name: 'Save quotas' }).click();
    await eventually(() => page.getByRole('alert').textContent()).toContain('quotas.tasksPerDay');
    await page.getByLabel('Tasks per day').fill('100');
    await page.getByRole('button', { name: 'Save quotas' }).click();
    await page.getByText('Saved quotas.').waitFor();
    // The model allow-list: empty means every model.
    await page.getByLabel('Allowed models').fill('');
    await page.getByRole('button', { name: 'Save models' }).click();
    await page.getByText('Saved models.').waitFor();
    expect(((await stack.admin('GET', '/tenants')).body.data as Array<{ id: string; models: unknown }>).find((t) => t.id === TENANT)!.models).toBeNull();
    await page.getByLabel('Allowed models').fill('z-image');
    await page.getByRole('button', { name: 'Save models' }).click();
    await eventually(
      async () => ((await stack.admin('GET', '/tenants')).body.data as Array<{ id: string; models: unknown }>).find((t) => t.id === TENANT)!.models,
    ).toEqual(['z-image']);
    const tenant = ((await stack.admin('GET', '/tenants')).body.data as Array<{ id: string; quotas: object; models: string[] }>).find((t) => t.id === TENANT);
    expect(tenant).toMatchObject({ quotas: { tasksPerDay: 100 }, models: ['z-image'] });

    // Disabling a tenant refuses its keys at once; enabling lets them in again.
    const globexCall = () => raw(`${stack.url}/api/v1/jobs/recordInfo?taskId=none`, { key: GLOBEX_KEY });
    await page.getByRole('button', { name: 'Disable globex' }).click();
    await page.getByRole('button', { name: 'Enable globex' }).waitFor();
    expect((await globexCall()).status).toBe(401);
    await page.getByRole('button', { name: 'Enable globex' }).click();
    await page.getByRole('button', { name: 'Disable globex' }).waitFor();
    expect((await globexCall()).status).toBe(200);
    await shot('tenants');
  });

  it('shows the key’s task in usage, with the numbers and the CSV of /admin/v1/usage', async () => {
    const created = await raw(`${stack.url}/api/v1/jobs/createTask`, {
      key: secret,
      body: { model: 'z-image', input: { prompt: 'a lighthouse', aspect_ratio: '1:1' } },
    });
    expect(created.status, created.text).toBe(200);
    taskId = created.body.data.taskId;
    // And one of acme's, whose callback the receiver refuses for good (for the deliveries page).
    const acme = await raw(`${stack.url}/api/v1/jobs/createTask`, {
      key: ACME_KEY,
      body: { model: 'z-image', callBackUrl: `${receiver.url}/hook`, input: { prompt: 'x', aspect_ratio: '1:1' } },
    });
    expect(acme.status, acme.text).toBe(200);
    acmeTaskId = acme.body.data.taskId;
    await pollUntil('both tasks final', async () => (await stack.store.getTask(taskId))?.finalAt && (await stack.store.getTask(acmeTaskId))?.finalAt);

    await open('usage', 'Usage');
    await page.getByLabel('Tenant').selectOption(TENANT);
    await page.getByRole('button', { name: 'Show' }).click();
    await eventually(() => page.getByTestId('usage-query').textContent()).toContain(`tenant=${TENANT}`);
    const query = (await page.getByTestId('usage-query').textContent())!;
    const api = (await stack.admin('GET', `/usage?${query}`)).body.data as Array<Record<string, string | number>>;
    expect(api).toHaveLength(1);
    expect(api[0]).toMatchObject({ tenantId: TENANT, tasks: 1 });
    const cells = await page.getByTestId('usage-table').locator('tbody tr').first().locator('td').allTextContents();
    expect(cells).toEqual(
      ['tenantId', 'group', 'tasks', 'succeeded', 'failed', 'cancelled', 'expired', 'open', 'queued', 'dispatched', 'estimatedUsd', 'actualUsd'].map((k) =>
        String(api[0]![k]),
      ),
    );
    await page.locator('.chart canvas').first().waitFor();

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const csv = await readFile((await (await download).path())!, 'utf8');
    const expected = await fetch(`${stack.url}/admin/v1/usage?${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/csv' } });
    expect(csv).toBe(await expected.text());
    await shot('usage');
  });

  it('revokes the key at once: the API refuses it, and the overview counts the task and the refusal', async () => {
    await open('tenants', 'Tenants');
    await page.getByRole('button', { name: `Manage ${TENANT}` }).click();
    await page.getByRole('button', { name: `Revoke ${keyId}` }).click();
    await page.getByText(/^revoked /).waitFor();
    const refused = await raw(`${stack.url}/api/v1/jobs/createTask`, { key: secret, body: { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } } });
    expect(refused.status).toBe(401);

    await open('overview', 'Overview');
    await eventually(() => page.getByTestId('tasks-created-15').textContent()).toMatch(/^2 in 15 min/);
    await eventually(() => page.getByTestId('refusals-auth').textContent()).toBe('2');
    // Live: a task created while the page is open shows up at the next reading, without a reload.
    const more = await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: { model: 'z-image', input: { prompt: 'y', aspect_ratio: '1:1' } } });
    expect(more.status).toBe(200);
    await eventually(() => page.getByTestId('tasks-created-15').textContent()).toMatch(/^3 in 15 min/);
    await page.locator('.chart canvas').waitFor();
    await shot('overview');
    await page.getByRole('cell', { name: 'key-a' }).waitFor();
    // Readable at phone width too: nothing wider than the screen but the tables' own scroll.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot('overview-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('finds a task with its record and history, and redelivers a failed callback', async () => {
    await pollUntil('the refused callback marked failed', async () => (await stack.store.listDeliveries({ taskId: acmeTaskId }))[0]?.state === 'failed');
    await open('tasks', 'Tasks and deliveries');
    await page.getByLabel('Task id').fill(acmeTaskId);
    await page.getByRole('button', { name: 'Find task' }).click();
    const record = page.getByTestId('task-record');
    await record.getByText('recorded by the gateway').waitFor();
    expect(await record.textContent()).toContain('success');

    const [delivery] = await stack.store.listDeliveries({ taskId: acmeTaskId });
    const failed = page.getByRole('table', { name: 'Callbacks the gateway gave up on' });
    await failed.getByText('HTTP 410').waitFor();
    await shot('tasks');
    await failed.getByRole('button', { name: `Redeliver ${delivery!.id}` }).click();
    await page.getByText(`Delivery ${delivery!.id} is pending again`).waitFor();
    await pollUntil('the redelivered callback', async () => (await stack.store.listDeliveries({ taskId: acmeTaskId }))[0]?.state === 'delivered');
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([delivery!.id, delivery!.id]);
  });

  it('signs out: the cookie is gone and the admin API refuses the page again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect((await browser.context.cookies()).filter((c) => c.name === 'lxg_dashboard')).toEqual([]);
    expect((await asPage('/admin/v1/stats')).status()).toBe(401);
    // The page asked nothing of any other origin.
    expect(requested.filter((url) => !url.startsWith(stack.url))).toEqual([]);
  });
});
