// Reads a JSON request body for the plain node:http routes, with the same answers express.json
// gave: a body that is not JSON is 400, one over the limit is 413 (said before reading it when
// Content-Length already tells), and a body that is not declared as JSON is not parsed (the
// handler then finds no body and says which field is missing). A sender that leaves mid-body, or
// is cut by the server's request timeout, is a 499 or a 408: its own doing, not the gateway's.
import type { IncomingMessage } from 'node:http';
import { refusal, type GatewayError } from '../errors.js';

const STRICT = /^[ \t\n\r]*[[{]/;
const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;
/** Bodies up to this size are parsed at once; larger ones wait for their own event-loop turn. */
const PARSE_AT_ONCE_BYTES = 64 * 1024;

export const tooLarge = () => refusal('too_large', 'Request body is too large');
export const notJson = () => refusal('bad_json', 'Request body is not valid JSON');

/**
 * The refusal for a request whose sender is gone: nobody reads the answer, but metrics and logs
 * say what happened. 408 when the server's request timeout cut it (listen.requestTimeoutMs; Node
 * has already answered 408 and closed), 499 (client closed the request) otherwise.
 */
export function requestAborted(req: IncomingMessage | undefined): GatewayError {
  const cause = (req?.socket?.errored as NodeJS.ErrnoException | null | undefined)?.code;
  return cause === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? refusal('request_timeout', 'The request was not received in time')
    : refusal('client_closed', 'The client closed the request');
}

// Parsing a 1 MiB body takes tens of milliseconds; a burst of them parsed back to back would hold
// the event loop for all of theirs (health checks and small requests waiting). Large bodies are
// parsed one per event-loop turn instead, so other I/O is served between any two of them. Per
// process, like the event loop it shares out.
let parsing: Promise<unknown> = Promise.resolve();
function parseOnItsOwnTurn(text: string): Promise<unknown> {
  const turn = () =>
    new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(parseStrict(text));
        } catch (error) {
          reject(error);
        }
      }),
    );
  const parsed = parsing.then(turn);
  parsing = parsed.catch(() => undefined);
  return parsed;
}

function parseStrict(text: string): unknown {
  // As express.json (strict): an empty body is an empty object, and only an object or an
  // array is a body at all.
  if (text.length === 0) return {};
  if (!STRICT.test(text)) throw notJson();
  try {
    return JSON.parse(text);
  } catch {
    throw notJson();
  }
}

/** The parsed body, or undefined when the request declares no JSON body. */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  // The sender may have left while the request was authenticated: no 'end' would ever come.
  if (req.destroyed) return Promise.reject(requestAborted(req));
  const declared = Number(req.headers['content-length']);
  if (declared > limitBytes) {
    // Not read; the answer closes the connection (respond.ts) rather than drain it.
    req.resume();
    return Promise.reject(tooLarge());
  }
  const isJson = JSON_TYPE.test(req.headers['content-type'] ?? '');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (error: GatewayError) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limitBytes) return fail(tooLarge());
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (settled) return;
      settled = true;
      if (!isJson) return resolve(undefined);
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
      if (size > PARSE_AT_ONCE_BYTES) return resolve(parseOnItsOwnTurn(text));
      try {
        resolve(parseStrict(text));
      } catch (error) {
        reject(error);
      }
    });
    // 'error' (aborted) and 'close' before 'end': the sender left or the request timeout cut it.
    // 'close' also comes after every body read to its end: the refusal is made only if it still
    // matters (an Error's stack trace, twice per request, was ~5% of a createTask's CPU).
    const aborted = () => {
      if (!settled) fail(requestAborted(req));
    };
    req.once('error', aborted);
    req.once('close', aborted);
  });
}
