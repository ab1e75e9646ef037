// readJsonBody on its own, with requests made of plain streams: how large bodies share the event
// loop, and what a request whose sender is gone becomes. (Its answers as express.json gave them
// are covered through the server in validation.test.ts, slow and aborted requests in
// slow-requests.test.ts.)
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readJsonBody } from '../../src/gateway/http/body.js';

const LIMIT = 1024 * 1024;

function request(
  headers: Record<string, string> = { 'content-type': 'application/json' },
  socket: { errored: Error | null } = { errored: null },
): PassThrough & IncomingMessage {
  return Object.assign(new PassThrough(), { headers, socket }) as unknown as PassThrough & IncomingMessage;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('readJsonBody', () => {
  it('parses large bodies one per event-loop turn, so other I/O is served between them', async () => {
    // Counts event-loop turns: one step per check phase.
    let turn = 0;
    let counting = true;
    const step = () => {
      turn++;
      if (counting) setImmediate(step);
    };
    setImmediate(step);
    const parse = JSON.parse;
    const parsedAt: number[] = [];
    vi.spyOn(JSON, 'parse').mockImplementation((text: string) => {
      if (text.length > 100_000) parsedAt.push(turn); // ours, not whatever else parses JSON meanwhile
      return parse(text);
    });

    const body = JSON.stringify({ prompt: 'x'.repeat(100_000) });
    const requests = Array.from({ length: 5 }, () => request());
    const bodies = requests.map((req) => readJsonBody(req, LIMIT));
    // All five arrive complete in the same turn, as after a burst.
    for (const req of requests) req.end(body);
    expect(await Promise.all(bodies)).toEqual(Array(5).fill({ prompt: 'x'.repeat(100_000) }));
    counting = false;
    expect(new Set(parsedAt).size).toBe(5);
  });

  it('parses a small body at once', async () => {
    const req = request();
    const body = readJsonBody(req, LIMIT);
    req.end('{"model":"z-image"}');
    expect(await body).toEqual({ model: 'z-image' });
  });

  it('refuses a request whose sender left as 499, and one the request timeout cut as 408', async () => {
    const left = request();
    const leaving = readJsonBody(left, LIMIT);
    left.write('{"model":');
    left.destroy();
    await expect(leaving).rejects.toMatchObject({ code: 499, reason: 'client_closed' });

    const timeout = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    const cut = request(undefined, { errored: timeout });
    const cutting = readJsonBody(cut, LIMIT);
    cut.destroy();
    await expect(cutting).rejects.toMatchObject({ code: 408, reason: 'request_timeout' });
  });

  it('refuses at once a request whose sender left before its body was asked for', async () => {
    const gone = request();
    gone.destroy();
    await expect(readJsonBody(gone, LIMIT)).rejects.toMatchObject({ code: 499 });
  });
});
