// Bodies are validated against the provider's contract before anything goes upstream.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aliasTable } from '../../src/providers/market/aliases.js';
import { translateMarketBody } from '../../src/providers/market/translate.js';
import { REPORTED_ERRORS } from '../../src/spec/validator.js';
import { invalidBodies as allInvalidBodies, validBodies } from '../fixtures/create-task-bodies.js';
import { ACME_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { head, openRaw, parseAnswer } from '../helpers/raw-http.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { createPer10s: 1000 },
    config: (simUrl) => ({ upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1000 }] } }),
  });
});
afterAll(() => stack?.close());

/**
 * Invalid in LiangXin's dialect, but the public Market dialect's under a shared id (z-image with
 * nsfw_checker): the gateway translates those (test/gateway/compat.test.ts).
 */
const invalidBodies = allInvalidBodies.filter(({ body }) => {
  const translated = translateMarketBody(body as Record<string, unknown>, aliasTable());
  return !translated.ok || translated.notes.renamed.length + translated.notes.dropped.length === 0;
});

const createTask = (body: unknown) => raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body });

describe('validation from the spec', () => {
  it('refuses every invalid body with 400, listing every failing field, and sends nothing', async () => {
    for (const { name, body, at, keyword, mentions } of invalidBodies) {
      const answer = await createTask(body);
      expect(answer.status, name).toBe(400);
      expect(answer.body.code, name).toBe(400);
      const field = (keyword === 'required' || keyword === 'additionalProperties') && mentions ? [at, mentions].filter(Boolean).join('.') : at;
      const paths = (answer.body.data.errors as Array<{ path: string; message: string }>).map((e) => e.path);
      expect(paths, name).toContain(field);
      expect(answer.body.msg, name).toMatch(/^Invalid request: /);
    }
    expect(stack.sim.counters().createTask).toBe(0);
  });

  it('passes every valid body through', async () => {
    for (const { name, body } of validBodies) {
      const answer = await createTask(body);
      expect(answer.status, name).toBe(200);
      expect(answer.body.data.taskId, name).toEqual(expect.any(String));
    }
    expect(stack.sim.tasks()).toHaveLength(validBodies.length);
  });

  it('answers a body that is not JSON with 400, and a huge one with 413', async () => {
    const broken = await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, rawBody: '{"model":' });
    expect(broken).toMatchObject({ status: 400, body: { code: 400, msg: 'Request body is not valid JSON' } });
    const huge = await raw(`${stack.url}/api/v1/jobs/createTask`, {
      key: ACME_KEY,
      rawBody: JSON.stringify({ model: 'z-image', input: { prompt: 'a'.repeat(2_000_000) } }),
    });
    expect(huge).toMatchObject({ status: 413, body: { code: 413 } });
  });

  it('reads bodies as express.json did: strict JSON, the limit counted as it streams, other types unread', async () => {
    const post = async (body: BodyInit, headers: Record<string, string>) => {
      const response = await fetch(`${stack.url}/api/v1/jobs/createTask`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ACME_KEY}`, ...headers },
        body,
        duplex: 'half',
      } as RequestInit);
      return { status: response.status, body: (await response.json()) as { code: number; msg: string; data: any } };
    };
    const sent = stack.sim.counters().createTask;
    // A JSON scalar is not a request body.
    expect(await post('"z-image"', { 'content-type': 'application/json' })).toMatchObject({
      status: 400,
      body: { code: 400, msg: 'Request body is not valid JSON' },
    });
    // An empty JSON body is an empty object: every required field is named.
    const empty = await post('', { 'content-type': 'application/json' });
    expect(empty).toMatchObject({ status: 400, body: { code: 400 } });
    expect(empty.body.data.errors.map((e: { path: string }) => e.path)).toContain('model');
    // A body not declared as JSON is not parsed.
    expect(await post(JSON.stringify(validBodies[0]!.body), { 'content-type': 'text/plain' })).toMatchObject({ status: 400, body: { code: 400 } });
    // No Content-Length (chunked): refused once the bytes pass the limit.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 24; i++) controller.enqueue(new Uint8Array(100_000).fill(0x61));
        controller.close();
      },
    });
    expect(await post(chunks as unknown as BodyInit, { 'content-type': 'application/json' })).toMatchObject({ status: 413, body: { code: 413 } });
    expect(stack.sim.counters().createTask).toBe(sent);
  });

  it('answers a missing taskId with 400 naming the field', async () => {
    const answer = await raw(`${stack.url}/api/v1/jobs/recordInfo`, { key: ACME_KEY });
    expect(answer).toMatchObject({ status: 400, body: { code: 400, data: { errors: [{ path: 'taskId' }] } } });
  });
});

describe('hostile bodies', () => {
  // Just under the 1 MiB limit of unknown `input` fields: once an 11.8 MB answer naming each of
  // them twice, after seconds of blocked event loop.
  const hostile = (() => {
    const parts = ['{"model":"z-image","input":{"prompt":"x"'];
    let length = parts[0]!.length + 2;
    for (let i = 0; ; i++) {
      const field = `,"f${i}":1`;
      if (length + field.length > 1024 * 1024) break;
      parts.push(field);
      length += field.length;
    }
    return `${parts.join('')}}}`;
  })();
  const SMALL_ANSWER = 8 * 1024;

  it('answers a 1 MiB body of unknown fields with the first ones and a count, in a few KB', async () => {
    const answer = await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, rawBody: hostile });
    expect(answer.status).toBe(400);
    expect(answer.text.length).toBeLessThan(SMALL_ANSWER);
    expect(answer.body.data.errors).toHaveLength(REPORTED_ERRORS);
    expect(answer.body.data.errors[0]).toEqual({ path: 'input.f0', message: 'is not a field here', keyword: 'additionalProperties' });
    expect(answer.body.data).toMatchObject({ partial: true, errorCount: expect.any(Number) });
    expect(answer.body.msg).toMatch(/^Invalid request: input\.f0 is not a field here; input\.f1 is not a field here; .*; and at least \d+ more$/);
  });

  it("caps the admin API's refusals the same way", async () => {
    const fields = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`f${i}`, 1]));
    const answer = await stack.admin('POST', '/tenants', { id: 'hostile', ...fields });
    expect(answer.status).toBe(422);
    expect(answer.body.data.errors).toHaveLength(REPORTED_ERRORS);
    expect(answer.body.data).toMatchObject({ partial: true });
    expect(JSON.stringify(answer.body).length).toBeLessThan(SMALL_ANSWER);
  });

  it('answers /healthz while five hostile bodies are in flight, and each of them after', async () => {
    const connections = await Promise.all(Array.from({ length: 5 }, () => openRaw(stack.url)));
    let started = 0;
    const onRequest = () => started++;
    stack.server.server.on('request', onRequest);
    const headers = { authorization: `Bearer ${ACME_KEY}`, 'content-type': 'application/json', 'content-length': hostile.length, connection: 'close' };
    // Every byte but the last: the five are being read, none can be answered yet.
    for (const c of connections) c.socket.write(head('POST', '/api/v1/jobs/createTask', headers) + hostile.slice(0, -1));
    await vi.waitFor(() => expect(started).toBe(5), { timeout: 30_000, interval: 10 });
    stack.server.server.off('request', onRequest);
    const health = await fetch(`${stack.url}/healthz`);
    expect(health.status).toBe(200);
    expect(connections.every((c) => c.received() === '')).toBe(true);

    for (const c of connections) c.socket.write(hostile.slice(-1));
    const [during] = await Promise.all([fetch(`${stack.url}/healthz`).then((r) => r.status), ...connections.map((c) => c.closed)]);
    expect(during).toBe(200);
    for (const c of connections) {
      expect(c.received().length).toBeLessThan(SMALL_ANSWER);
      const answer = parseAnswer(c.received());
      expect(answer.status).toBe(400);
      expect(answer.body.data.errors).toHaveLength(REPORTED_ERRORS);
    }
  });
});
