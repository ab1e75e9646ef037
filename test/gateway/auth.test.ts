// Tenants: keys compared by hash, revoke and disable take effect at once, per-tenant models.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { LiangxinError, CreateTaskRequest } from '../../src/client/index.js';
import { ACME_KEY, GLOBEX_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as LiangxinError,
  );

describe('tenant authentication', () => {
  it('refuses no key and an unknown key with a real 401 in the envelope', async () => {
    stack = await startStack();
    const none = await raw(`${stack.url}/api/v1/jobs/createTask`, { body: zImage });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ code: 401 });
    const wrong = await refusal(stack.client('lxg_not_a_real_key_00000000').createTask(zImage));
    expect(wrong).toMatchObject({ code: 401, httpStatus: 401 });
    expect(stack.sim.counters().createTask).toBe(0);
  });

  it('accepts a key given in the config as its sha256', async () => {
    const secret = 'lxg_hashed_in_config_0123456789';
    const hash = createHash('sha256').update(secret).digest('hex');
    stack = await startStack({ config: () => ({ tenants: [{ id: 'hashed', apiKeys: [`sha256:${hash}`] }] }) });
    await expect(stack.client(secret).createTask(zImage)).resolves.toMatchObject({ taskId: expect.any(String) });
  });

  it('stores only hashes: the secrets appear nowhere in the store', async () => {
    stack = await startStack();
    const keys = await stack.store.listTenantKeys('acme');
    expect(keys).toHaveLength(1);
    expect(JSON.stringify(keys)).not.toContain(ACME_KEY);
    expect(JSON.stringify(await stack.store.findKeyByHash(createHash('sha256').update(ACME_KEY).digest('hex')))).toContain('acme');
  });

  // The admin API's own answers (secret shown once, listing, 404s) are in admin.test.ts.
  it('serves a key issued through the admin API, and refuses it at once when revoked', async () => {
    stack = await startStack();
    const issued = await stack.admin('POST', '/tenants/acme/keys', { label: 'ci' });
    expect(issued.status).toBe(201);
    const { id, secret } = issued.body.data as { id: string; secret: string };
    await expect(stack.client(secret).createTask(zImage)).resolves.toBeTruthy();

    expect((await stack.admin('DELETE', `/tenants/acme/keys/${id}`)).status).toBe(200);
    expect(await refusal(stack.client(secret).createTask(zImage))).toMatchObject({ code: 401 });
    await expect(stack.client(ACME_KEY).createTask(zImage)).resolves.toBeTruthy(); // other keys unaffected
  });

  it('disables and re-enables a tenant at once', async () => {
    stack = await startStack();
    await stack.admin('PATCH', '/tenants/acme', { disabled: true });
    expect(await refusal(stack.client().getTask('x'))).toMatchObject({ code: 401 });
    await stack.admin('PATCH', '/tenants/acme', { disabled: false });
    await expect(stack.client().createTask(zImage)).resolves.toBeTruthy();
  });
});

describe('model allow-list', () => {
  it('refuses a model the tenant may not use with 403, before anything is sent upstream', async () => {
    stack = await startStack();
    const globex = stack.client(GLOBEX_KEY);
    await expect(globex.createTask(zImage)).resolves.toBeTruthy();
    const refused = await refusal(globex.createTask({ model: 'kling-v3-pro', input: { prompt: 'x' } }));
    expect(refused).toMatchObject({ code: 403, httpStatus: 403, data: { allowed: ['z-image'] } });
    expect(stack.sim.counters().createTask).toBe(1);
  });
});
