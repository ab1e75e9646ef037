// Requests that never finish arriving: bodies promised and not sent, headers that never end,
// clients that hang up mid-body. Each is cut or counted as what it is (408, 499), never as the
// gateway's error; every wait here is for an event (the socket closing, a count appearing).
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACME_KEY, ADMIN_TOKEN, startStack, type Stack } from '../helpers/gateway-stack.js';
import { head, openRaw } from '../helpers/raw-http.js';

const CREATE = '/api/v1/jobs/createTask';
const json = { 'content-type': 'application/json' };

/** lxg_requests_total summed over the labels given. */
async function counted(stack: Stack, labels: { code: string; route?: string }): Promise<number> {
  const { values } = await stack.gateway.context.metrics.requests.get();
  return values
    .filter((v) => v.labels.code === labels.code && (labels.route === undefined || v.labels.route === labels.route))
    .reduce((n, v) => n + v.value, 0);
}

function expectNoGatewayError(stack: Stack): Promise<void> {
  expect(stack.logs.filter((line) => line.msg === 'unexpected error')).toEqual([]);
  return counted(stack, { code: '500' }).then((n) => expect(n).toBe(0));
}

describe('the request timeouts (listen.headersTimeoutMs, listen.requestTimeoutMs)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ config: () => ({ listen: { host: '127.0.0.1', port: 0, headersTimeoutMs: 200, requestTimeoutMs: 300 } }) });
  });
  afterAll(() => stack?.close());

  it('cuts a body promised and not sent: 408, the connection closed, counted as 408', async () => {
    const connection = await openRaw(stack.url);
    connection.socket.write(head('POST', CREATE, { authorization: `Bearer ${ACME_KEY}`, ...json, 'content-length': 1000 }) + '{');
    await connection.closed;
    expect(connection.received()).toMatch(/^HTTP\/1\.1 408 /);
    await vi.waitFor(async () => expect(await counted(stack, { code: '408', route: CREATE })).toBe(1), { timeout: 30_000, interval: 10 });
    await expectNoGatewayError(stack);
  });

  it('cuts headers that never end', async () => {
    const connection = await openRaw(stack.url);
    connection.socket.write(`POST ${CREATE} HTTP/1.1\r\nHost: gateway.test\r\n`);
    await connection.closed;
    expect(connection.received()).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe('clients that leave, and bodies never read', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  /** Sends a request's head and part of its body, then hangs up once the gateway has the request. */
  async function hangUpMidBody(path: string, headers: Record<string, string>): Promise<void> {
    const connection = await openRaw(stack.url);
    const arrived = once(stack.server.server, 'request');
    connection.socket.write(head('POST', path, { ...headers, ...json, 'content-length': 1000 }) + '{"model":');
    await arrived;
    connection.socket.destroy();
  }

  it('counts a tenant that hangs up mid-body as 499, not as an error', async () => {
    await hangUpMidBody(CREATE, { authorization: `Bearer ${ACME_KEY}` });
    await vi.waitFor(async () => expect(await counted(stack, { code: '499', route: CREATE })).toBe(1), { timeout: 30_000, interval: 10 });
    await expectNoGatewayError(stack);
  });

  it('counts an admin client that hangs up mid-body as 499, not as an error', async () => {
    const before = await counted(stack, { code: '499' });
    await hangUpMidBody('/admin/v1/tenants', { authorization: `Bearer ${ADMIN_TOKEN}` });
    await vi.waitFor(async () => expect(await counted(stack, { code: '499' })).toBe(before + 1), { timeout: 30_000, interval: 10 });
    await expectNoGatewayError(stack);
  });

  it('counts a provider callback that hangs up mid-body as 499, not as an error', async () => {
    const before = await counted(stack, { code: '499' });
    await hangUpMidBody('/callbacks/liangxin/some-token', {});
    await vi.waitFor(async () => expect(await counted(stack, { code: '499' })).toBe(before + 1), { timeout: 30_000, interval: 10 });
    await expectNoGatewayError(stack);
  });

  it('closes the connection after refusing a request whose body it did not read, rather than drain it', async () => {
    for (const [headers, status] of [
      [{}, 401], // refused before the body is read
      [{ authorization: `Bearer ${ACME_KEY}` }, 413], // refused on its Content-Length
    ] as const) {
      const connection = await openRaw(stack.url);
      connection.socket.write(head('POST', CREATE, { ...headers, ...json, 'content-length': 10_000_000 }) + '{"model":');
      await connection.closed;
      expect(connection.received()).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(connection.received()).toMatch(/\r\nconnection: close\r\n/i);
      // One answer: the connection was not held until the request timeout cut it (a 408).
      expect(connection.received().match(/HTTP\/1\.1/g)).toHaveLength(1);
    }
  });
});
