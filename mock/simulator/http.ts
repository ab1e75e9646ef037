// Small HTTP helpers for the simulator. It uses node:http directly rather than a framework: it
// has five routes, and as the "upstream alone" of the benchmarks it should cost next to nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

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

/** Reads a JSON body; throws BodyError for one that is too large or not JSON. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyError('BODY_TOO_LARGE', 'request body too large (over 1 MiB)');
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
