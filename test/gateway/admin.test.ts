// The admin API (/admin/v1, Express) through supertest on `gateway.app`: the admin token, tenants,
// their keys (a secret shown once, stored only hashed), the provider keys' states, deliveries, and
// refusals in the envelope. Nothing here needs the API's own routes or a provider; what the admin
// API changes on the API's path (a revoked key refused at once, a disabled tenant, quotas taking
// effect) is tested with real sockets in auth.test.ts and quota.test.ts.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildGatewayApp, type GatewayApp } from '../helpers/gateway-app.js';
import { ACME_KEY, ADMIN_TOKEN } from '../helpers/gateway-stack.js';

let app: GatewayApp;
beforeEach(async () => {
  app = await buildGatewayApp();
});
afterEach(() => app.close());

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the admin token', () => {
  it.each([
    ['no token', undefined],
    ['a wrong token', `Bearer ${ADMIN_TOKEN}x`],
    ['a tenant key', `Bearer ${ACME_KEY}`],
    ['the token without its scheme', ADMIN_TOKEN],
  ])('refuses %s with a real 401 in the envelope', async (_name, authorization) => {
    const call = app.http.get('/admin/v1/tenants');
    const response = await (authorization ? call.set('authorization', authorization) : call);
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ code: 401, msg: 'Admin token required', data: null });
    expect(response.text).not.toContain(ADMIN_TOKEN);
  });

  it('guards every admin path, known or not, before saying whether it exists', async () => {
    expect((await app.http.get('/admin/v1/no-such-thing')).status).toBe(401);
    const known = await app.admin('get', '/no-such-thing');
    expect(known.status).toBe(404);
    expect(known.body).toMatchObject({ code: 404, msg: 'No route GET /admin/v1/no-such-thing' });
  });
});

describe('tenants', () => {
  it('creates a tenant, refuses a second one of that id, and lists them all', async () => {
    const created = await app.admin('post', '/tenants').send({ id: 'initech', models: ['z-image'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ code: 200, data: { id: 'initech', models: ['z-image'], disabled: false, source: 'admin' } });
    expect((await app.admin('post', '/tenants').send({ id: 'initech' })).body).toMatchObject({ code: 409 });
    const listed = await app.admin('get', '/tenants');
    expect((listed.body.data as Array<{ id: string }>).map((t) => t.id).sort()).toEqual(['acme', 'globex', 'initech']);
    expect(listed.text).not.toContain(ACME_KEY);
  });

  it('validates bodies against openapi/gateway.yaml, naming every failing field', async () => {
    const bad = await app.admin('post', '/tenants').send({ id: 'has space', colour: 'red' });
    expect(bad.status).toBe(422);
    expect((bad.body.data.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual(['colour', 'id']);
    expect(await app.store.getTenant('has space')).toBeUndefined();
  });

  it('refuses a body that is not JSON (400) or too large (413), in the envelope', async () => {
    const broken = await app.admin('post', '/tenants').set('content-type', 'application/json').send('{"id": ');
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ code: 400 });
    const huge = await app.admin('post', '/tenants').send({ id: 'big', models: ['x'.repeat(100_000)] });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ code: 413 });
  });

  it('updates a tenant, and answers 404 for one that does not exist', async () => {
    const patched = await app.admin('patch', '/tenants/globex').send({ models: ['z-image', 'kling-v3-pro'], disabled: true });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ id: 'globex', models: ['z-image', 'kling-v3-pro'], disabled: true });
    expect(await app.store.getTenant('globex')).toMatchObject({ models: ['z-image', 'kling-v3-pro'], disabled: true });
    expect((await app.admin('patch', '/tenants/nobody').send({ disabled: true })).body).toMatchObject({ code: 404, msg: 'No tenant nobody' });
  });
});

describe('tenant keys', () => {
  it('issues a key whose secret is shown once and stored only as its hash', async () => {
    const issued = await app.admin('post', '/tenants/acme/keys').send({ label: 'ci' });
    expect(issued.status).toBe(201);
    const { id, secret, tenantId } = issued.body.data as { id: string; secret: string; tenantId: string };
    expect(tenantId).toBe('acme');
    expect(secret).toMatch(/^lxg_[A-Za-z0-9_-]{32}$/);
    expect(await app.store.findKeyByHash(sha256(secret))).toMatchObject({ tenantId: 'acme' });
    expect(JSON.stringify(await app.store.listTenantKeys('acme'))).not.toContain(secret);

    const listed = await app.admin('get', '/tenants/acme/keys');
    expect(listed.text).not.toContain(secret);
    expect(listed.body.data).toEqual(expect.arrayContaining([expect.objectContaining({ id, label: 'ci', source: 'admin', revokedAt: null })]));
  });

  it('issues a key without a body too', async () => {
    expect((await app.admin('post', '/tenants/globex/keys')).status).toBe(201);
  });

  it("revokes a key of its own tenant only, and never another tenant's", async () => {
    const { id } = (await app.admin('post', '/tenants/acme/keys').send({})).body.data as { id: string };
    expect((await app.admin('delete', `/tenants/globex/keys/${id}`)).body).toMatchObject({ code: 404 });
    expect((await app.admin('delete', `/tenants/acme/keys/${id}`)).body).toEqual({ code: 200, msg: 'success', data: null });
    const listed = (await app.admin('get', '/tenants/acme/keys')).body.data as Array<{ id: string; revokedAt: number | null }>;
    expect(listed.find((k) => k.id === id)?.revokedAt).toEqual(expect.any(Number));
  });

  it('answers 404 for the keys of a tenant that does not exist', async () => {
    expect((await app.admin('get', '/tenants/nobody/keys')).body).toMatchObject({ code: 404 });
    expect((await app.admin('post', '/tenants/nobody/keys').send({})).body).toMatchObject({ code: 404 });
  });
});

describe('provider keys and deliveries', () => {
  it('lists the provider keys by id and state, never their secrets', async () => {
    const response = await app.admin('get', '/upstream-keys');
    expect(response.body.data).toEqual([expect.objectContaining({ id: 'key-a', state: 'active' })]);
    expect(response.text).not.toContain('sk-up-a');
  });

  it('lists deliveries, and answers 404 for redelivering one that does not exist', async () => {
    expect((await app.admin('get', '/deliveries?tenant=acme')).body).toEqual({ code: 200, msg: 'success', data: [] });
    expect((await app.admin('post', '/deliveries/msg_nope/redeliver')).body).toMatchObject({ code: 404, msg: 'No delivery msg_nope' });
  });
});
