// The typed client against the contract mock: every operation, example and dynamic answers,
// errors inside HTTP 200 and as real HTTP errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrism, type RunningPrism } from '../../mock/prism.js';
import { createLiangxinClient, LiangxinError, LiangxinTimeoutError, parseResult, type CreateTaskRequest, type TaskRecord } from '../../src/client/index.js';
import { loadLiangxinSpec } from '../../src/spec/document.js';

let prism: RunningPrism;
let dynamicPrism: RunningPrism;

beforeAll(async () => {
  [prism, dynamicPrism] = await Promise.all([startPrism(), startPrism({ dynamic: true })]);
});
afterAll(async () => {
  await Promise.all([prism?.close(), dynamicPrism?.close()]);
});

const body: CreateTaskRequest = {
  model: 'kling-v3-pro',
  callBackUrl: 'https://your-domain.com/api/callback',
  input: { prompt: 'A cinematic coffee commercial', aspect_ratio: '16:9', duration: 5, generate_audio: true },
};

function client(prefer?: string, url = prism.url) {
  return createLiangxinClient({ baseUrl: url, apiKey: 'sk-test-123', headers: prefer ? { Prefer: prefer } : {} });
}

async function refusal(promise: Promise<unknown>): Promise<LiangxinError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LiangxinError);
  return error as LiangxinError;
}

describe('createTask', () => {
  it('answers the taskId', async () => {
    await expect(client().createTask(body)).resolves.toEqual({ taskId: 'task_seedream-v4-5_1777600000000' });
  });

  it('keeps recordId when the answer carries it', async () => {
    const created = await client('example=accepted-with-record-id').createTask(body);
    expect(created.recordId).toBe(created.taskId);
  });

  it.each([
    ['insufficient-credits', 402],
    ['unauthorized', 401],
    ['sub-key-limit', 433],
    ['maintenance', 455],
  ])('turns an error inside HTTP 200 (%s) into LiangxinError %i', async (example, code) => {
    const error = await refusal(client(`example=${example}`).createTask(body));
    expect(error.code).toBe(code);
    expect(error.httpStatus).toBe(200);
    expect(error.operation).toBe('createTask');
  });

  it.each([400, 401, 402, 403, 413, 422, 429, 433, 455, 500, 505])('turns a real HTTP %i into LiangxinError with that code', async (status) => {
    const error = await refusal(client(`code=${status}`).createTask(body));
    expect(error.code).toBe(status);
    expect(error.httpStatus).toBe(status);
  });

  it("reads LiangXin's non-envelope 401: the message becomes msg", async () => {
    expect(await refusal(client('code=401').createTask(body))).toMatchObject({ code: 401, msg: 'invalid token', httpStatus: 401 });
  });

  it('reads Retry-After of a 429', async () => {
    const error = await refusal(client('code=429').createTask(body));
    expect(error.retryAfterMs).toBe(10_000);
  });

  it('gets 422 for a body the contract refuses', async () => {
    const bad = { model: 'seedream-v4-5', input: { prompt: 'x', aspect_ratio: '5:4' } } as unknown as CreateTaskRequest;
    const error = await refusal(client().createTask(bad));
    expect(error).toMatchObject({ code: 422, httpStatus: 422 });
  });
});

describe('getTask', () => {
  it('reads a record in progress', async () => {
    const record = await client().getTask('task_kling_v3_pro_1765166238716');
    expect(record).toMatchObject({ state: 'generating', progress: 45, resultJson: '', completeTime: null });
    expect(parseResult(record).param?.input).toMatchObject({ duration: 5 });
  });

  it.each([
    ['success-image', 'success', 1],
    ['success-video', 'success', 1],
    ['failed', 'fail', 0],
  ] as const)('reads the %s example', async (example, state, urls) => {
    const record = await client(`example=${example}`).getTask('t');
    const parsed = parseResult(record);
    expect(parsed.state).toBe(state);
    expect(parsed.resultUrls).toHaveLength(urls);
    if (state === 'fail') expect(parsed.failMsg).toBeTruthy();
  });

  it('turns "recordInfo is null" inside HTTP 200 into LiangxinError 422', async () => {
    const error = await refusal(client('example=record-is-null').getTask('just-created'));
    expect(error).toMatchObject({ code: 422, msg: 'recordInfo is null', httpStatus: 200 });
  });

  it('turns a real HTTP 404 into LiangxinError 404', async () => {
    expect(await refusal(client('code=404').getTask('gone'))).toMatchObject({ code: 404, httpStatus: 404 });
  });
});

// Prism generates each answer from the schema: the 200 answer is a oneOf of the success envelope
// and the error envelope, so either comes back. Each must be typed data or a LiangxinError with
// a documented code, never anything else.
describe('generated (dynamic) answers', () => {
  const documentedCodes = loadLiangxinSpec().components.schemas.ErrorCode!.enum as number[];

  async function outcomes<T>(call: () => Promise<T>, check: (data: T) => void) {
    const seen = { data: 0, refused: 0 };
    for (let i = 0; i < 30; i++) {
      try {
        check(await call());
        seen.data++;
      } catch (error) {
        expect(error).toBeInstanceOf(LiangxinError);
        expect(documentedCodes).toContain((error as LiangxinError).code);
        seen.refused++;
      }
    }
    return seen;
  }

  it('createTask', async () => {
    const seen = await outcomes(
      () => client(undefined, dynamicPrism.url).createTask(body),
      (created) => expect(created.taskId).toEqual(expect.any(String)),
    );
    expect(seen.data).toBeGreaterThan(0);
  });

  it('getTask', async () => {
    const seen = await outcomes(
      () => client(undefined, dynamicPrism.url).getTask('t'),
      (record: TaskRecord) => {
        expect(['waiting', 'queuing', 'generating', 'success', 'fail']).toContain(record.state);
        expect(typeof record.param).toBe('string');
        expect(typeof record.createTime).toBe('number');
      },
    );
    expect(seen.data).toBeGreaterThan(0);
  });
});

describe('waitForTask', () => {
  it('resolves with the final record', async () => {
    const seen: string[] = [];
    const record = await client('example=success-video').waitForTask('task_kling_v3_pro_1765166238716', {
      initialDelayMs: 10,
      onProgress: (r) => seen.push(r.state),
    });
    expect(record.state).toBe('success');
    expect(seen).toEqual(['success']);
  });

  it('gives up with LiangxinTimeoutError naming the last state', async () => {
    const error = await client()
      // Long enough that the first poll is answered before the deadline even on a busy machine
      // (Prism's task is generating forever, so the wait always ends in the timeout).
      .waitForTask('task_kling_v3_pro_1765166238716', { initialDelayMs: 20, timeoutMs: 3000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LiangxinTimeoutError);
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT', lastState: 'generating' });
    expect(String(error)).toMatch(/not final after .* \(last state: generating\)/);
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    const waiting = client().waitForTask('t', { initialDelayMs: 20, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user gave up')), 100);
    await expect(waiting).rejects.toThrow('user gave up');
  });
});
