// Every model's valid bodies pass Prism and its invalid ones are refused with the failing field:
// the contract itself is judged by Prism, not by our own code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrism, type RunningPrism } from '../../mock/prism.js';
import { allModels, invalidBodies, validBodies } from '../fixtures/create-task-bodies.js';
import { liangxinExamples } from '../fixtures/liangxin-examples.js';
import { createPrismValidator, type PrismViolation } from '../helpers/prism-validation.js';

let prism: RunningPrism;
let violationsOf: Awaited<ReturnType<typeof createPrismValidator>>;

beforeAll(async () => {
  prism = await startPrism();
  violationsOf = await createPrismValidator();
});
afterAll(() => prism?.close());

async function post(body: unknown) {
  const response = await fetch(`${prism.url}/api/v1/jobs/createTask`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test-key' },
    body: JSON.stringify(body),
  });
  return { response, envelope: (await response.json()) as { code: number; msg: string } };
}

function describeViolation(v: PrismViolation) {
  return `${v.path.slice(1).join('.') || '(body)'} ${v.code}: ${v.message}`;
}

describe('fixtures', () => {
  it('cover every model with valid and invalid bodies, and every LiangXin example', () => {
    const modelOf = (b: unknown) => (b as { model?: string }).model;
    for (const model of allModels) {
      expect(
        validBodies.some((c) => modelOf(c.body) === model),
        `valid body for ${model}`,
      ).toBe(true);
      expect(
        invalidBodies.some((c) => modelOf(c.body) === model),
        `invalid body for ${model}`,
      ).toBe(true);
    }
    for (const example of liangxinExamples) expect(validBodies).toContain(example);
  });
});

describe('Prism accepts every valid body', () => {
  it.each(validBodies)('$name', async ({ body }) => {
    const { response, envelope } = await post(body);
    expect(response.headers.get('sl-violations')).toBeNull();
    expect(response.status).toBe(200);
    expect(envelope.code).toBe(200);
    expect(await violationsOf({ method: 'post', path: '/api/v1/jobs/createTask', body })).toEqual([]);
  });
});

// Prism answers an invalid request with the operation's 422 response when it has one (createTask
// does: LiangXin's "upstream validation rejected"), else 400; LiangXin itself answers 400.
describe('Prism refuses every invalid body, naming the field', () => {
  it.each(invalidBodies.filter((c) => !c.byRule))('$name', async ({ body, at, keyword, mentions }) => {
    const { response, envelope } = await post(body);
    expect(response.status).toBe(422);
    expect(envelope.code).toBe(422);
    expect(response.headers.get('sl-violations')).toBeTruthy();

    const violations = await violationsOf({ method: 'post', path: '/api/v1/jobs/createTask', body });
    const match = violations.find((v) => v.path.slice(1).join('.') === at && v.code === keyword && (!mentions || v.message.includes(mentions)));
    expect(
      match,
      `expected ${at || '(body)'} ${keyword}${mentions ? ` mentioning ${mentions}` : ''} among:\n${violations.map(describeViolation).join('\n')}`,
    ).toBeDefined();
  });
});

// A rule of `x-liangxin-rules` is data Prism cannot read: such a body passes Prism, and only the
// spec's own validator (test/spec) refuses it. This pins down where each refusal comes from.
describe('Prism cannot see x-liangxin-rules', () => {
  it.each(invalidBodies.filter((c) => c.byRule))('$name', async ({ body }) => {
    expect(await violationsOf({ method: 'post', path: '/api/v1/jobs/createTask', body })).toEqual([]);
  });
});

describe('recordInfo through Prism', () => {
  it('refuses a missing taskId', async () => {
    const violations = await violationsOf({ method: 'get', path: '/api/v1/jobs/recordInfo' });
    expect(violations.map((v) => v.message).join('\n')).toMatch(/taskid/i);
  });

  it("refuses a request without credentials with HTTP 401 and LiangXin's non-envelope body", async () => {
    const response = await fetch(`${prism.url}/api/v1/jobs/recordInfo?taskId=abc`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { message: 'invalid token', type: 'new_api_error', code: '' } });
  });
});
