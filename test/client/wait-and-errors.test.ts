// waitForTask's pacing and the client's error types, against a real server that plays an exact
// sequence of answers.
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiangxinClient, LiangxinError, LiangxinTransportError, type TaskRecord } from '../../src/client/index.js';
import { json, startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const apiKey = 'sk-live-SECRET-0123456789';
let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function record(state: TaskRecord['state'], extra: Partial<TaskRecord> = {}): TaskRecord {
  return {
    taskId: 't1',
    model: 'z-image',
    state,
    param: '{"model":"z-image","input":{"prompt":"x","aspect_ratio":"1:1"}}',
    resultJson: state === 'success' ? '{"resultUrls":["http://127.0.0.1/r.png"]}' : '',
    failCode: null,
    failMsg: null,
    costTime: null,
    completeTime: null,
    createTime: 1,
    ...extra,
  };
}

const ok = (data: unknown) => ({ code: 200, msg: 'success', data });

/**
 * The delays waitForTask asks for (its setTimeout calls, told apart by their stack), in order.
 * Exact on any machine; the gaps the server saw are then only checked from below (a busy machine
 * can only make them longer).
 */
function recordWaits(): number[] {
  const delays: number[] = [];
  const real = globalThis.setTimeout;
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
    if (new Error().stack?.includes('/client/wait.')) delays.push(ms ?? 0);
    return real(fn, ms);
  }) as typeof setTimeout);
  return delays;
}
afterEach(() => {
  vi.restoreAllMocks();
});

describe('waitForTask pacing', () => {
  it('waits through "recordInfo is null", honours Retry-After, and reports progress', async () => {
    const script = [
      (res: Parameters<typeof json>[0]) => json(res, 200, { code: 422, msg: 'recordInfo is null', data: null }),
      (res: Parameters<typeof json>[0]) => json(res, 429, { code: 429, msg: 'Too many requests', data: null }, { 'retry-after': '1' }),
      (res: Parameters<typeof json>[0]) => json(res, 200, ok(record('generating', { progress: 50 }))),
      (res: Parameters<typeof json>[0]) => json(res, 200, ok(record('success', { progress: 100 }))),
    ];
    server = await startScriptedServer((_req, res, i) => script[i]!(res));
    const client = createLiangxinClient({ baseUrl: server.url, apiKey });
    const waits = recordWaits();
    const progress: Array<[string, number | undefined]> = [];
    const final = await client.waitForTask('t1', {
      initialDelayMs: 50,
      backoffFactor: 1,
      onProgress: (r) => progress.push([r.state, r.progress]),
    });
    expect(final.state).toBe('success');
    expect(progress).toEqual([
      ['generating', 50],
      ['success', 100],
    ]);
    // 50 ms through "recordInfo is null" (not a reason to slow down), then Retry-After's 1 s.
    expect(waits).toEqual([50, 50, 1000, 1000]);
    const at = server.requests.map((r) => r.at);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(990); // Retry-After: 1 s, not the 50 ms backoff
    expect(server.requests.every((r) => r.url === '/api/v1/jobs/recordInfo?taskId=t1')).toBe(true);
  });

  it('backs off by the factor up to the cap', async () => {
    server = await startScriptedServer((_req, res, i) => json(res, 200, ok(record(i < 5 ? 'queuing' : 'fail'))));
    const client = createLiangxinClient({ baseUrl: server.url, apiKey });
    const waits = recordWaits();
    const final = await client.waitForTask('t1', { initialDelayMs: 60, backoffFactor: 2, maxDelayMs: 200 });
    expect(final.state).toBe('fail'); // a failed task ends the wait; it is not an error
    const at = server.requests.map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(115); // 120
    expect(gaps[1]).toBeGreaterThanOrEqual(195); // 240 capped at 200
    expect(waits).toEqual([60, 120, 200, 200, 200, 200]);
  });

  it('ends at once on a refusal that waiting cannot fix', async () => {
    server = await startScriptedServer((_req, res) => json(res, 200, { code: 401, msg: 'You do not have access permissions', data: null }));
    const client = createLiangxinClient({ baseUrl: server.url, apiKey });
    const error = await client.waitForTask('t1', { initialDelayMs: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LiangxinError);
    expect(error).toMatchObject({ code: 401, httpStatus: 200 });
    expect(server.requests).toHaveLength(1);
  });

  it('gives up after five dropped connections in a row', async () => {
    server = await startScriptedServer((_req, res) => res.socket?.destroy());
    const client = createLiangxinClient({ baseUrl: server.url, apiKey });
    const error = await client.waitForTask('t1', { initialDelayMs: 5, backoffFactor: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LiangxinTransportError);
    expect(server.requests).toHaveLength(5);
  });
});

describe('errors', () => {
  const collected: unknown[] = [];

  async function failure(promise: Promise<unknown>) {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    collected.push(error);
    return error;
  }

  it('an HTML 502 page becomes LiangxinError 502', async () => {
    server = await startScriptedServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad Gateway</html>');
    });
    const error = await failure(createLiangxinClient({ baseUrl: server.url, apiKey }).getTask('t1'));
    expect(error).toBeInstanceOf(LiangxinError);
    expect(error).toMatchObject({ code: 502, httpStatus: 502 });
  });

  it('an HTTP 200 that is not JSON becomes LiangxinTransportError', async () => {
    server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"code":200,');
    });
    const error = await failure(createLiangxinClient({ baseUrl: server.url, apiKey }).getTask('t1'));
    expect(error).toBeInstanceOf(LiangxinTransportError);
    expect(String(error)).toMatch(/not JSON/);
  });

  it('a refused connection becomes LiangxinTransportError', async () => {
    server = await startScriptedServer(() => undefined);
    const url = server.url;
    await server.close();
    server = undefined;
    const body = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } } as const;
    const error = await failure(createLiangxinClient({ baseUrl: url, apiKey }).createTask(body));
    expect(error).toBeInstanceOf(LiangxinTransportError);
    expect(String(error)).toMatch(/could not reach/);
  });

  it('a silent server becomes LiangxinTransportError after requestTimeoutMs', async () => {
    server = await startScriptedServer(() => undefined); // never answers
    const error = await failure(createLiangxinClient({ baseUrl: server.url, apiKey, requestTimeoutMs: 200 }).getTask('t1'));
    expect(error).toBeInstanceOf(LiangxinTransportError);
    expect(String(error)).toMatch(/no answer within 200 ms/);
  });

  it("LiangXin's non-envelope 401 becomes LiangxinError 401 with its message", async () => {
    server = await startScriptedServer((_req, res) => json(res, 401, { error: { message: 'invalid token', type: 'new_api_error', code: '' } }));
    const client = createLiangxinClient({ baseUrl: server.url, apiKey });
    const error = await failure(client.createTask({ model: 'z-image', input: { prompt: 'x' } }));
    expect(error).toBeInstanceOf(LiangxinError);
    expect(error).toMatchObject({ code: 401, msg: 'invalid token', httpStatus: 401, data: { type: 'new_api_error', code: '' } });
    // Waiting cannot fix a wrong key: waitForTask ends at once.
    await expect(client.waitForTask('t1', { initialDelayMs: 10 })).rejects.toMatchObject({ code: 401, msg: 'invalid token' });
    expect(server.requests).toHaveLength(2);
  });

  it('an error inside HTTP 200 keeps its data', async () => {
    server = await startScriptedServer((_req, res) => json(res, 200, { code: 422, msg: 'Invalid input', data: { errors: [{ path: 'input.prompt' }] } }));
    const error = await failure(createLiangxinClient({ baseUrl: server.url, apiKey }).getTask('t1'));
    expect(error).toMatchObject({ code: 422, data: { errors: [{ path: 'input.prompt' }] } });
  });

  it('sends the key only in the Authorization header, and no error ever shows it', async () => {
    server = await startScriptedServer((_req, res) => json(res, 200, { code: 401, msg: 'Unauthorized', data: null }));
    await failure(createLiangxinClient({ baseUrl: server.url, apiKey }).getTask('t1'));
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(collected.length).toBeGreaterThanOrEqual(6);
    for (const error of collected) {
      const shown = [String(error), inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error)].join('\n');
      expect(shown).not.toContain('SECRET');
    }
  });
});
