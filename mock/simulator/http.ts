// Small HTTP helpers for the simulator. It uses node:http directly rather than a framework: it
// has five routes, and as the "upstream alone" of the benchmarks it should cost next to nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  // Answered before the body was read (refused, or too large): close rather than drain it.
  const close = res.req && !res.req.complete ? { connection: 'close' } : {};
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...close, ...headers });
  res.end(text);
}

/** A client slow to send its request is answered 408 and cut, as the gateway does, rather than after Node's 300 s. */
export const SERVER_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1000 } as const;

/** The provider's envelope. */
export function envelope(res: ServerResponse, httpStatus: number, code: number, msg: string, data: unknown = null, headers: Record<string, string> = {}): void {
  send(res, httpStatus, { code, msg, data }, headers);
}

/** A request body that cannot be read: too large (413) or not JSON (400). */
export class BodyError extends Error {
  readonly code: 'BODY_TOO_LARGE' | 'BODY_NOT_JSON';
  constructor(code: BodyError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

const MAX_BODY_BYTES = 1024 * 1024;
const tooLarge = () => new BodyError('BODY_TOO_LARGE', `Request body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`);

/** Reads a JSON body; throws BodyError for one that is too large or not JSON. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyError('BODY_NOT_JSON', 'Request body is not valid JSON');
  }
}

export function bearer(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
