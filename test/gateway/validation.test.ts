// Bodies are validated against the provider's contract before anything goes upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidBodies, validBodies } from '../fixtures/create-task-bodies.js';
import { ACME_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { createPer10s: 1000 },
    config: (simUrl) => ({ upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1000 }] } }),
  });
});
afterAll(() => stack?.close());

const createTask = (body: unknown) => raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body });

describe('validation from the spec', () => {
  it('refuses every invalid body with 422, listing every failing field, and sends nothing', async () => {
    for (const { name, body, at, keyword, mentions } of invalidBodies) {
      const answer = await createTask(body);
      expect(answer.status, name).toBe(422);
      expect(answer.body.code, name).toBe(422);
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
    const huge = await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, rawBody: JSON.stringify({ model: 'z-image', input: { prompt: 'a'.repeat(2_000_000) } }) });
    expect(huge).toMatchObject({ status: 413, body: { code: 413 } });
  });

  it('reads bodies as express.json did: strict JSON, the limit counted as it streams, other types unread', async () => {
    const post = async (body: BodyInit, headers: Record<string, string>) => {
      const response = await fetch(`${stack.url}/api/v1/jobs/createTask`, { method: 'POST', headers: { authorization: `Bearer ${ACME_KEY}`, ...headers }, body, duplex: 'half' } as RequestInit);
      return { status: response.status, body: (await response.json()) as { code: number; msg: string; data: any } };
    };
    const sent = stack.sim.counters().createTask;
    // A JSON scalar is not a request body.
    expect(await post('"z-image"', { 'content-type': 'application/json' })).toMatchObject({ status: 400, body: { code: 400, msg: 'Request body is not valid JSON' } });
    // An empty JSON body is an empty object: every required field is named.
    const empty = await post('', { 'content-type': 'application/json' });
    expect(empty).toMatchObject({ status: 422, body: { code: 422 } });
    expect(empty.body.data.errors.map((e: { path: string }) => e.path)).toContain('model');
    // A body not declared as JSON is not parsed.
    expect(await post(JSON.stringify(validBodies[0]!.body), { 'content-type': 'text/plain' })).toMatchObject({ status: 422, body: { code: 422 } });
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
