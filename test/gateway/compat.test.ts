// The public Market dialect through the gateway, against the simulator: its ids and fields are
// translated into LiangXin's before validation and sending, and the tenant reads back its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME_KEY, GLOBEX_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    // Visible at once, so the gateway's recordInfo reads the provider's record (LiangXin's model and body).
    simulator: { createPer10s: 1000, recordInfoPerSecond: 1000, timing: { visibleAfterMs: 0 } },
    config: (simUrl) => ({
      upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1000, recordInfoPerSecond: 1000 }] },
      tenants: [
        { id: 'acme', apiKeys: [ACME_KEY] },
        // An allow-list written with a public id admits its LiangXin model in either dialect.
        { id: 'globex', apiKeys: [GLOBEX_KEY], models: ['google/nano-banana'] },
      ],
      compat: { aliases: { 'my-lighthouse': { model: 'z-image', fields: { size: { action: 'rename', to: 'image_size' } } } } },
    }),
  });
});
afterAll(() => stack?.close());

const createTask = (body: unknown, key = ACME_KEY) => raw(`${stack.url}/api/v1/jobs/createTask`, { key, body });
const recordInfo = (taskId: string, key = ACME_KEY) => raw(`${stack.url}/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`, { key });
const img = 'https://example.com/a.png';

/** What the provider was sent, as it reports it (its record's param). */
async function upstreamBody(taskId: string): Promise<{ model: string; input: Record<string, unknown> }> {
  const response = await fetch(`${stack.sim.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { headers: { authorization: 'Bearer sk-up-a' } });
  const answer = (await response.json()) as { code: number; data: { model: string; param: string } };
  expect(answer.code).toBe(200);
  const param = JSON.parse(answer.data.param) as { model: string; input: Record<string, unknown> };
  expect(answer.data.model).toBe(param.model);
  return { model: param.model, input: param.input };
}

/** Each public body, and the LiangXin body the provider must receive for it. */
const cases: Array<{ sent: Record<string, unknown>; upstream: { model: string; input: Record<string, unknown> } }> = [
  {
    sent: { model: 'seedream/4.5-text-to-image', input: { prompt: 'A tea bottle', aspect_ratio: '16:9', quality: 'basic', nsfw_checker: false } },
    upstream: { model: 'seedream-v4-5', input: { prompt: 'A tea bottle', aspect_ratio: '16:9', enable_safety_checker: false } },
  },
  {
    sent: { model: 'seedream/4.5-edit', input: { prompt: 'A poster', image_urls: [img], aspect_ratio: '1:1', quality: 'basic' } },
    upstream: { model: 'seedream-v4-5-edit', input: { prompt: 'A poster', image_urls: [img], aspect_ratio: '1:1' } },
  },
  {
    sent: { model: 'seedream/5-lite-text-to-image', input: { prompt: 'A forest', aspect_ratio: '9:16', quality: 'basic' } },
    upstream: { model: 'seedream-v5-lite', input: { prompt: 'A forest', aspect_ratio: '9:16' } },
  },
  {
    sent: {
      model: 'seedream/5-lite-image-to-image',
      input: { prompt: 'A forest', image_urls: [img], aspect_ratio: '4:3', quality: 'basic', nsfw_checker: true },
    },
    upstream: { model: 'seedream-v5-lite-edit', input: { prompt: 'A forest', image_urls: [img], aspect_ratio: '4:3', enable_safety_checker: true } },
  },
  {
    sent: { model: 'z-image', input: { prompt: 'A cafe', aspect_ratio: '1:1', nsfw_checker: true } },
    upstream: { model: 'z-image', input: { prompt: 'A cafe', aspect_ratio: '1:1', enable_safety_checker: true } },
  },
  {
    sent: { model: 'google/nano-banana', input: { prompt: 'A room', image_size: '16:9', output_format: 'png' } },
    upstream: { model: 'gemini-2.5-flash-image-preview', input: { prompt: 'A room', aspect_ratio: '16:9', output_format: 'png' } },
  },
  {
    sent: { model: 'google/nano-banana-edit', input: { prompt: 'A room', image_urls: [img] } },
    upstream: { model: 'gemini-2.5-flash-image-preview', input: { prompt: 'A room', image_urls: [img] } },
  },
  {
    sent: { model: 'nano-banana-pro', input: { prompt: 'An espresso machine', resolution: '2K' } },
    upstream: { model: 'nano-banana-pro', input: { prompt: 'An espresso machine', resolution: '2K' } },
  },
  {
    sent: { model: 'nano-banana-2', input: { prompt: 'An app icon', aspect_ratio: '1:1', google_search: true } },
    upstream: { model: 'nano-banana-pro-flash', input: { prompt: 'An app icon', aspect_ratio: '1:1', use_google_search_tool: true } },
  },
  {
    sent: { model: 'google/imagen4-fast', input: { prompt: 'A poster', negative_prompt: 'text', num_images: '2', seed: 42 } },
    upstream: { model: 'imagen4-fast', input: { prompt: 'A poster', negative_prompt: 'text', num_images: '2', seed: 42 } },
  },
  {
    sent: { model: 'google/imagen4-ultra', input: { prompt: 'A poster', aspect_ratio: '16:9', seed: '7' } },
    upstream: { model: 'imagen4-ultra', input: { prompt: 'A poster', aspect_ratio: '16:9', seed: 7 } },
  },
  {
    sent: { model: 'flux-2/pro-text-to-image', input: { prompt: 'A lighthouse', aspect_ratio: '3:2', resolution: '1K', nsfw_checker: false } },
    upstream: { model: 'flux-2-pro', input: { prompt: 'A lighthouse', aspect_ratio: '3:2' } },
  },
  {
    sent: { model: 'my-lighthouse', input: { prompt: 'A lighthouse', size: 'square_hd' } },
    upstream: { model: 'z-image', input: { prompt: 'A lighthouse', image_size: 'square_hd' } },
  },
];

describe('the public dialect through the gateway', () => {
  it('creates each alias upstream as LiangXin body; recordInfo shows the tenant its own model id and param', async () => {
    for (const { sent, upstream } of cases) {
      const callBackUrl = '';
      const created = await createTask({ ...sent, callBackUrl });
      expect(created.status, String(sent.model)).toBe(200);
      expect(await upstreamBody((await stack.store.getTask(created.body.data.taskId))!.providerTaskId!), String(sent.model)).toEqual(upstream);
      // "" is no callback: nothing stored to deliver to (the tenant has no webhookSecret, and is not refused).
      expect((await stack.store.getTask(created.body.data.taskId))!.callBackUrl).toBeNull();
      const read = await recordInfo(created.body.data.taskId);
      expect(read.status).toBe(200);
      expect(read.body.data.model, String(sent.model)).toBe(sent.model);
      expect(JSON.parse(read.body.data.param), String(sent.model)).toEqual({ ...sent, callBackUrl });
    }
  });

  it('refuses an untranslatable field naming the LiangXin model and field, and sends nothing', async () => {
    const before = stack.sim.counters().createTask;
    const seed = await createTask({ model: 'google/imagen4-ultra', input: { prompt: 'A poster', seed: 'lighthouse-7' } });
    expect(seed.status).toBe(400);
    expect(seed.body.data.errors).toEqual([{ path: 'input.seed', message: expect.stringMatching(/LiangXin's imagen4-ultra.*integer/), keyword: 'compat' }]);
    const high = await createTask({ model: 'seedream/4.5-text-to-image', input: { prompt: 'A poster', aspect_ratio: '1:1', quality: 'high' } });
    expect(high.body).toMatchObject({ code: 400, data: { errors: [{ path: 'input.quality', message: expect.stringContaining("LiangXin's seedream-v4-5") }] } });
    expect(stack.sim.counters().createTask).toBe(before);
  });

  it('names the LiangXin model (and the tenant field it came from) when the translated body is invalid', async () => {
    const flash = await createTask({ model: 'nano-banana-2', input: { prompt: 'An icon', aspect_ratio: '8:1', google_search: 'yes' } });
    expect(flash.status).toBe(400);
    const errors = flash.body.data.errors as Array<{ path: string; message: string }>;
    expect(errors.find((e) => e.path === 'input.aspect_ratio')?.message).toMatch(/\(LiangXin's nano-banana-pro-flash\)$/);
    expect(errors.find((e) => e.path === 'input.use_google_search_tool')?.message).toMatch(/LiangXin's nano-banana-pro-flash, from input\.google_search/);
  });

  it('checks the allow-list by LiangXin model, whichever id it was written with', async () => {
    const gemini = { input: { prompt: 'A room', aspect_ratio: '1:1' } };
    expect((await createTask({ model: 'gemini-2.5-flash-image-preview', ...gemini }, GLOBEX_KEY)).status).toBe(200);
    expect((await createTask({ model: 'google/nano-banana', ...gemini }, GLOBEX_KEY)).status).toBe(200);
    const refused = await createTask({ model: 'z-image', input: { prompt: 'A cafe' } }, GLOBEX_KEY);
    expect(refused).toMatchObject({ status: 403, body: { code: 403, msg: 'Model z-image is not enabled for this tenant' } });
  });
});

describe('errors.httpStatus', () => {
  const BODY_KEY = 'lxg_test_bodymode_0123456789abcdef';
  let quirky: Stack;
  beforeAll(async () => {
    // Every createTask answered 505 (feature disabled) inside HTTP 200, as the public API does.
    quirky = await startStack({
      simulator: { accounts: [{ apiKey: 'sk-up-a', quirks: ['error=505'] }] },
      config: () => ({
        tenants: [
          { id: 'acme', apiKeys: [ACME_KEY] },
          { id: 'bodies', apiKeys: [BODY_KEY], errors: { httpStatus: 'body' } },
        ],
      }),
    });
  });
  afterAll(() => quirky?.close());
  const at = (path: string, key: string, body?: unknown) => raw(`${quirky.url}${path}`, { key, body });

  it("provider (default): LiangXin's statuses; recordInfo is null and relayed refusals inside HTTP 200", async () => {
    expect(await at('/api/v1/jobs/recordInfo?taskId=nope', ACME_KEY)).toMatchObject({ status: 200, body: { code: 422, msg: 'recordInfo is null' } });
    expect(await at('/api/v1/jobs/createTask', ACME_KEY, { model: 'z-image', input: {} })).toMatchObject({ status: 400, body: { code: 400 } });
    expect(await at('/api/v1/jobs/createTask', ACME_KEY, { model: 'z-image', input: { prompt: 'A cafe' } })).toMatchObject({
      status: 200,
      body: { code: 505 },
    });
  });

  it('body: the HTTP status is the body code', async () => {
    expect(await at('/api/v1/jobs/recordInfo?taskId=nope', BODY_KEY)).toMatchObject({ status: 422, body: { code: 422, msg: 'recordInfo is null' } });
    expect(await at('/api/v1/jobs/createTask', BODY_KEY, { model: 'z-image', input: {} })).toMatchObject({ status: 400, body: { code: 400 } });
    expect(await at('/api/v1/jobs/createTask', BODY_KEY, { model: 'z-image', input: { prompt: 'A cafe' } })).toMatchObject({
      status: 505,
      body: { code: 505 },
    });
  });

  it("gateway-only refusals keep real statuses; the admin API switches a tenant's mode at once", async () => {
    expect(await at('/api/v1/jobs/createTask', 'lxg_unknown_key_0123456789', { model: 'z-image', input: { prompt: 'A cafe' } })).toMatchObject({
      status: 401,
      body: { code: 401 },
    });
    await quirky.admin('PATCH', '/tenants/acme', { errors: { httpStatus: 'body' } });
    const patched = await quirky.admin('GET', '/tenants');
    expect(patched.body.data.find((t: { id: string }) => t.id === 'acme')).toMatchObject({
      errors: { httpStatus: 'body' },
      validation: { unknownFields: 'reject' },
    });
    expect(await at('/api/v1/jobs/recordInfo?taskId=nope', ACME_KEY)).toMatchObject({ status: 422 });
  });
});

describe('validation.unknownFields', () => {
  const keys = { reject: 'lxg_test_reject_0123456789abcdef', drop: 'lxg_test_dropmode_0123456789abcd', forward: 'lxg_test_forward_0123456789abcdef' };
  let modes: Stack;
  beforeAll(async () => {
    modes = await startStack({
      config: () => ({
        tenants: [
          { id: 'rejects', apiKeys: [keys.reject] },
          { id: 'drops', apiKeys: [keys.drop], validation: { unknownFields: 'drop' } },
          { id: 'forwards', apiKeys: [keys.forward], validation: { unknownFields: 'forward' } },
        ],
      }),
    });
  });
  afterAll(() => modes?.close());
  const body = { model: 'z-image', input: { prompt: 'A cafe', num_images: 2, foo: 'bar' } };
  const create = (key: string) => raw(`${modes.url}/api/v1/jobs/createTask`, { key, body });

  it('reject (the default): 400 naming each unknown field, nothing sent', async () => {
    const answer = await create(keys.reject);
    expect(answer.status).toBe(400);
    expect((answer.body.data.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual(['input.foo', 'input.num_images']);
    expect(answer.headers.get('x-liangxin-dropped-fields')).toBeNull();
    expect(modes.sim.counters().createTask).toBe(0);
  });

  it('drop: sent without them, named in X-LiangXin-Dropped-Fields; the record keeps what the tenant sent', async () => {
    const answer = await create(keys.drop);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-liangxin-dropped-fields')).toBe('num_images, foo');
    const read = await raw(`${modes.url}/api/v1/jobs/recordInfo?taskId=${answer.body.data.taskId}`, { key: keys.drop });
    expect(JSON.parse(read.body.data.param)).toEqual(body);
    expect(modes.sim.counters().createTask).toBe(1);
  });

  it('forward: sent on as they are, and the provider (LiangXin validates strictly) refuses them', async () => {
    const answer = await create(keys.forward);
    expect(modes.sim.counters().createTask).toBe(2);
    expect(answer).toMatchObject({ status: 400, body: { code: 400, msg: expect.stringContaining('input.num_images') } });
    expect(answer.headers.get('x-liangxin-dropped-fields')).toBeNull();
  });
});
