// The admin API of issue 19, end to end against the simulator: webhook secrets set and rotated
// (both signatures sent during the overlap), one tenant read and deleted, key expiry and labels,
// provider keys added, disabled and removed without a restart (seen by a second instance), and
// the rule between config and admin API (the store wins once the API changed a tenant) across a
// restart.
import { afterEach, describe, expect, it } from 'vitest';
import { verifyGatewayWebhook } from '../../src/client/index.js';
import { ACME_KEY, ACME_WEBHOOK_SECRET, GLOBEX_KEY, raw } from '../helpers/gateway-stack.js';
import { startInstances, type Instances } from '../helpers/instances.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { manualClock, pollUntil } from '../helpers/wait.js';

let instances: Instances | undefined;
let receiver: ScriptedServer | undefined;
afterEach(async () => {
  await instances?.close();
  await receiver?.close();
  instances = undefined;
  receiver = undefined;
});

const zImage = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
const create = (url: string, key: string, body: unknown = zImage) => raw(`${url}/api/v1/jobs/createTask`, { key, body });

describe('webhook secrets', () => {
  it('lets a tenant made through the API use callbacks, and signs with both secrets during a rotation', async () => {
    instances = await startInstances();
    receiver = await startScriptedServer((_req, res) => res.writeHead(204).end());
    const gw = await instances.start();
    expect((await gw.admin('post', '/tenants', { id: 'initech' })).status).toBe(201);
    const { secret: tenantKey } = (await gw.admin('post', '/tenants/initech/keys', { label: 'ci' })).body.data;
    const hook = { ...zImage, callBackUrl: `${receiver.url}/hook` };
    // No secret yet: a callBackUrl is refused, naming the field.
    expect((await create(gw.url, tenantKey, hook)).body.data.errors[0].path).toBe('callBackUrl');

    const first = await gw.admin('post', '/tenants/initech/webhook-secret', {});
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ tenantId: 'initech', secret: expect.stringMatching(/^whsec_/), previousValidUntil: null });
    expect((await gw.admin('get', '/tenants/initech')).body.data).toMatchObject({ hasWebhookSecret: true });
    expect(JSON.stringify((await gw.admin('get', '/tenants/initech')).body)).not.toContain(first.body.data.secret);

    expect((await create(gw.url, tenantKey, hook)).status).toBe(200);
    const one = await pollUntil('the first callback', () => receiver!.requests[0]);
    expect(verifyGatewayWebhook({ body: one.body, headers: one.headers, secret: first.body.data.secret }).payload.data.state).toBe('success');

    const second = await gw.admin('post', '/tenants/initech/webhook-secret', { overlapSeconds: 3600 });
    expect(second.body.data.previousValidUntil).toEqual(expect.any(Number));
    expect(second.body.data.secret).not.toBe(first.body.data.secret);
    expect((await create(gw.url, tenantKey, hook)).status).toBe(200);
    const two = await pollUntil('the second callback', () => receiver!.requests[1]);
    // Two signatures, and a receiver holding either secret accepts the callback.
    expect(String(two.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [first.body.data.secret, second.body.data.secret])
      expect(() => verifyGatewayWebhook({ body: two.body, headers: two.headers, secret })).not.toThrow();

    // Without an overlap the old secret stops at once.
    const third = await gw.admin('post', '/tenants/initech/webhook-secret', { overlapSeconds: 0 });
    expect((await create(gw.url, tenantKey, hook)).status).toBe(200);
    const three = await pollUntil('the third callback', () => receiver!.requests[2]);
    expect(String(three.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => verifyGatewayWebhook({ body: three.body, headers: three.headers, secret: third.body.data.secret })).not.toThrow();
    expect(() => verifyGatewayWebhook({ body: three.body, headers: three.headers, secret: second.body.data.secret })).toThrow();
  });

  it('refuses a given secret that is not in the Standard Webhooks form, naming the field', async () => {
    instances = await startInstances();
    const gw = await instances.start();
    const bad = await gw.admin('post', '/tenants/acme/webhook-secret', { secret: 'hunter2' });
    expect(bad.status).toBe(422);
    expect(bad.body.data.errors[0].path).toBe('secret');
    expect(bad.body.msg).not.toContain('hunter2');
  });
});

describe('one tenant', () => {
  it('reads and deletes a tenant made through the API (its keys refused at once); refuses to delete a config tenant', async () => {
    instances = await startInstances();
    const gw = await instances.start();
    expect((await gw.admin('get', '/tenants/acme')).body.data).toMatchObject({ id: 'acme', source: 'config', hasWebhookSecret: true });
    expect((await gw.admin('get', '/tenants/nobody')).status).toBe(404);
    await gw.admin('post', '/tenants', { id: 'initech' });
    const { secret } = (await gw.admin('post', '/tenants/initech/keys', {})).body.data;
    expect((await create(gw.url, secret)).status).toBe(200);
    expect((await gw.admin('delete', '/tenants/initech')).status).toBe(200);
    expect((await create(gw.url, secret)).status).toBe(401);
    expect((await gw.admin('get', '/tenants/initech')).status).toBe(404);
    const refused = await gw.admin('delete', '/tenants/acme');
    expect(refused).toMatchObject({ status: 409, body: { msg: expect.stringContaining('config file') } });
    expect((await create(gw.url, ACME_KEY)).status).toBe(200);
  });
});

describe('tenant keys: expiry and labels', () => {
  it("refuses a key from its expiresAt on (by the gateway's clock), and a PATCH moves or clears it", async () => {
    instances = await startInstances();
    const clock = manualClock();
    const gw = await instances.start({}, clock);
    const issued = (await gw.admin('post', '/tenants/acme/keys', { label: 'temp', expiresAt: clock.now() + 60_000 })).body.data;
    expect((await gw.admin('get', '/tenants/acme/keys')).body.data).toContainEqual(
      expect.objectContaining({ id: issued.id, label: 'temp', expiresAt: clock.now() + 60_000 }),
    );
    expect((await create(gw.url, issued.secret)).status).toBe(200);
    clock.advance(60_000);
    const expired = await create(gw.url, issued.secret);
    expect(expired).toMatchObject({ status: 401, body: { msg: 'Invalid or revoked API key' } });
    expect((await gw.admin('patch', `/tenants/acme/keys/${issued.id}`, { expiresAt: null, label: 'kept' })).status).toBe(200);
    expect((await create(gw.url, issued.secret)).status).toBe(200);
    expect((await gw.admin('get', '/tenants/acme/keys')).body.data).toContainEqual(expect.objectContaining({ id: issued.id, label: 'kept', expiresAt: null }));
    expect((await gw.admin('patch', '/tenants/acme/keys/tk_nope', { label: 'x' })).status).toBe(404);
    expect((await gw.admin('patch', `/tenants/acme/keys/${issued.id}`, {})).status).toBe(422);
  });
});

describe('provider keys through the API', () => {
  it('adds, disables and removes keys without a restart; a second instance follows; secrets never shown', async () => {
    instances = await startInstances();
    const a = await instances.start();
    const b = await instances.start();
    const added = await a.admin('post', '/upstream-keys', { id: 'key-b', apiKey: 'sk-up-b', createPer10s: 7 });
    expect(added).toMatchObject({ status: 201, body: { data: { id: 'key-b', state: 'active', allowance: 7, source: 'admin' } } });
    expect(JSON.stringify(added.body)).not.toContain('sk-up-b');
    expect((await a.admin('post', '/upstream-keys', { id: 'key-a', apiKey: 'x' })).status).toBe(409);
    expect((await a.admin('post', '/upstream-keys', { id: 'key-b', apiKey: 'x' })).status).toBe(409);

    // The config's key disabled: every createTask goes to the added one, on both instances.
    expect((await a.admin('patch', '/upstream-keys/key-a', { disabled: true })).body.data).toMatchObject({
      id: 'key-a',
      state: 'disabled',
      reason: 'disabled by the operator',
      source: 'config',
    });
    await pollUntil('instance b to see key-b and key-a disabled', async () => {
      const keys = (await b.admin('get', '/upstream-keys')).body.data as Array<{ id: string; state: string }>;
      return keys.some((k) => k.id === 'key-b') && keys.find((k) => k.id === 'key-a')?.state === 'disabled';
    });
    for (const gw of [a, b]) {
      const created = await create(gw.url, ACME_KEY);
      expect(created.status).toBe(200);
      const task = (await gw.admin('get', `/tasks?limit=1`)).body.data.items[0];
      expect(task).toMatchObject({ taskId: created.body.data.taskId, upstreamKey: 'key-b' });
    }
    const listed = await b.admin('get', '/upstream-keys');
    expect(JSON.stringify(listed.body)).not.toContain('sk-up');

    // A config key cannot be removed here; an added one can, and with key-a disabled nothing serves.
    expect((await a.admin('delete', '/upstream-keys/key-a')).status).toBe(409);
    const lastTask = (await a.admin('get', '/tasks?limit=1')).body.data.items[0].taskId as string;
    expect((await a.admin('delete', '/upstream-keys/key-b')).status).toBe(200);
    expect((await a.admin('delete', '/upstream-keys/key-b')).status).toBe(404);
    expect((await create(a.url, ACME_KEY)).status).toBe(503);
    // The removed key still reads the tasks it created.
    expect((await raw(`${a.url}/api/v1/jobs/recordInfo?taskId=${lastTask}`, { key: ACME_KEY })).body).toMatchObject({ code: 200, data: { taskId: lastTask } });
    await pollUntil(
      'instance b to drop key-b',
      async () => !((await b.admin('get', '/upstream-keys')).body.data as Array<{ id: string }>).some((k) => k.id === 'key-b'),
    );
    expect((await create(b.url, ACME_KEY)).status).toBe(503);

    // Enabled again; and the switch is kept across a restart.
    await a.admin('patch', '/upstream-keys/key-a', { disabled: false });
    expect((await create(a.url, ACME_KEY)).status).toBe(200);
    await a.admin('patch', '/upstream-keys/key-a', { disabled: true });
    await a.close();
    const again = await instances.start();
    expect((await again.admin('get', '/upstream-keys')).body.data).toEqual([expect.objectContaining({ id: 'key-a', state: 'disabled' })]);
    expect((await again.admin('patch', '/upstream-keys/nope', { disabled: true })).status).toBe(404);
  });
});

describe('config and admin API: the store wins once the API changed a tenant', () => {
  it('keeps a config tenant disabled through the API disabled across a restart, and marks it admin', async () => {
    instances = await startInstances();
    const first = await instances.start();
    const patched = await first.admin('patch', '/tenants/globex', { disabled: true, quotas: { tasksPerDay: 5 } });
    expect(patched.body.data).toMatchObject({ disabled: true, source: 'admin' });
    await first.close();

    // The deploy brings the same config (globex enabled, no quotas) and a new key for it.
    const base = instances.config();
    const tenants = base.tenants!.map((t) => (t.id === 'globex' ? { ...t, apiKeys: [GLOBEX_KEY, 'lxg_test_globex_second_key_0123'] } : t));
    const second = await instances.start({ tenants });
    expect((await second.admin('get', '/tenants/globex')).body.data).toMatchObject({ disabled: true, quotas: { tasksPerDay: 5 }, source: 'admin' });
    expect((await create(second.url, GLOBEX_KEY)).status).toBe(401);
    // Its config keys are still added (keys only ever add).
    expect(((await second.admin('get', '/tenants/globex/keys')).body.data as unknown[]).length).toBe(2);
    await second.admin('patch', '/tenants/globex', { disabled: false });
    expect((await create(second.url, 'lxg_test_globex_second_key_0123')).status).toBe(200);

    // A config tenant the API never changed still follows the config.
    await second.close();
    const third = await instances.start({ tenants: base.tenants!.map((t) => (t.id === 'acme' ? { ...t, models: ['z-image'] } : t)) });
    expect((await third.admin('get', '/tenants/acme')).body.data).toMatchObject({ models: ['z-image'], source: 'config' });
  });

  it("applies a config tenant's new webhookSecret with the old one still signing for the overlap", async () => {
    instances = await startInstances();
    receiver = await startScriptedServer((_req, res) => res.writeHead(204).end());
    const first = await instances.start();
    await first.close();
    const next = 'whsec_bmV4dC1hY21lLXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3';
    const tenants = instances.config().tenants!.map((t) => (t.id === 'acme' ? { ...t, webhookSecret: next } : t));
    const second = await instances.start({ tenants });
    expect((await create(second.url, ACME_KEY, { ...zImage, callBackUrl: `${receiver.url}/hook` })).status).toBe(200);
    const delivered = await pollUntil('the callback', () => receiver!.requests[0]);
    for (const secret of [ACME_WEBHOOK_SECRET, next])
      expect(() => verifyGatewayWebhook({ body: delivered.body, headers: delivered.headers, secret })).not.toThrow();
  });
});
