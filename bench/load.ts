// A minimal closed-loop HTTP/1.1 load generator on raw keep-alive sockets. Not autocannon and not
// undici: autocannon keeps latencies in whole milliseconds (useless for sub-millisecond added
// latency), and a full HTTP client would spend the 2-core machine's CPU that the servers under
// test need. Each connection sends one request, reads the whole answer (Content-Length framed;
// every server measured here sets it), then sends the next: no pipelining.
import { connect, type Socket } from 'node:net';

export interface LoadOptions {
  /** Origin, e.g. http://127.0.0.1:4011. */
  url: string;
  connections: number;
  /** Answers before this long are not counted: sockets connect, servers' pools fill. */
  warmupMs?: number;
  /** Measured window after the warm-up. Ignored when `total` is given. */
  durationMs?: number;
  /** Send exactly this many requests instead (no warm-up), e.g. "create 100,000 tasks". */
  total?: number;
  /**
   * The window stretches until at least this many answers are in it: a machine that stalls
   * (other work on its cores) gives slower figures, never none. Ignored when `total` is given.
   */
  minAnswers?: number;
  /** The raw request (head and body) to send as the i-th request, numbered across connections. */
  request: (i: number) => string;
}

export interface LoadResult {
  /** Answers counted: HTTP 200 whose envelope says `"code":200`. */
  ok: number;
  errors: number;
  /** Refusals by kind ("HTTP 429", "code 422"), so a figure measuring refusals is caught. */
  errorKinds: Record<string, number>;
  /** Span of the measured window, ms. */
  elapsedMs: number;
  rps: number;
  /** Latencies of the counted answers, ms, sorted ascending. */
  latencies: Float64Array;
  /** Requests sent in all, the warm-up's included (what the server did work for). */
  sent: number;
}

const OK_PREFIX = '{"code":200,';

/** A request head (and body) as bytes on the wire. */
export function rawRequest(method: 'GET' | 'POST', url: string, path: string, headers: Record<string, string>, body?: string): string {
  const { host } = new URL(url);
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (body !== undefined) head += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
  return `${head}\r\n${body ?? ''}`;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { hostname, port } = new URL(options.url);
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let sent = 0;
  const start = performance.now();
  const bounded = options.total !== undefined;
  const measureFrom = bounded ? start : start + (options.warmupMs ?? 0);
  let measureTo = bounded ? Infinity : measureFrom + (options.durationMs ?? 1000);
  const minAnswers = bounded ? 0 : (options.minAnswers ?? 0);
  const short = () => ok + errors < minAnswers;
  let lastAnswer = start;

  const next = (): string | undefined => {
    if (bounded ? sent >= options.total! : performance.now() >= measureTo && !short()) return undefined;
    return options.request(sent++);
  };
  const answered = (status: number, body: Buffer, startedAt: number, endedAt: number) => {
    if (endedAt < measureFrom || (endedAt > measureTo && !short())) return;
    // An answer still needed stretches the window to it.
    if (endedAt > measureTo) measureTo = endedAt;
    lastAnswer = endedAt;
    if (status === 200 && body.toString('latin1', 0, OK_PREFIX.length) === OK_PREFIX) {
      ok++;
      latencies.push(endedAt - startedAt);
      return;
    }
    errors++;
    const kind = status === 200 ? `code ${/"code":(\d+)/.exec(body.toString('latin1', 0, 40))?.[1] ?? '?'}` : `HTTP ${status}`;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };

  await Promise.all(Array.from({ length: options.connections }, () => connection(hostname, Number(port), next, answered)));
  const elapsedMs = (bounded ? lastAnswer : measureTo) - measureFrom;
  const sorted = Float64Array.from(latencies).sort();
  return { ok, errors, errorKinds, elapsedMs, rps: (ok / elapsedMs) * 1000, latencies: sorted, sent };
}

/** One keep-alive connection: request, whole answer, next request, until `next` has none. */
function connection(
  host: string,
  port: number,
  next: () => string | undefined,
  answered: (status: number, body: Buffer, startedAt: number, endedAt: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host, port });
    socket.setNoDelay(true);
    let pending: Buffer | undefined;
    let total = -1; // bytes of the answer being read (head + body), once its head is in
    let headLength = 0;
    let status = 0;
    let startedAt = 0;
    let done = false;

    const fail = (error: Error) => {
      if (done) return;
      done = true;
      socket.destroy();
      reject(error);
    };
    const sendNext = () => {
      const request = next();
      if (request === undefined) {
        done = true;
        socket.end();
        resolve();
        return;
      }
      startedAt = performance.now();
      socket.write(request, 'latin1');
    };

    socket.on('connect', sendNext);
    socket.on('data', (chunk: Buffer) => {
      pending = pending ? Buffer.concat([pending, chunk]) : chunk;
      if (total < 0) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.toString('latin1', 0, end);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!length) return fail(new Error(`load: an answer without content-length: ${head.split('\r\n')[0]}`));
        status = Number(head.slice(9, 12));
        headLength = end + 4;
        total = headLength + Number(length[1]);
      }
      if (pending.length < total) return;
      answered(status, pending.subarray(headLength, total), startedAt, performance.now());
      pending = pending.length > total ? pending.subarray(total) : undefined;
      total = -1;
      sendNext();
    });
    socket.on('error', fail);
    socket.on('close', () => fail(new Error(`load: ${host}:${port} closed the connection`)));
  });
}

/** Nearest-rank percentile of sorted values (p in 0..1). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
