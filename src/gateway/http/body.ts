// Reads a JSON request body for the plain node:http routes, with the same answers express.json
// gave: a body that is not JSON is 400, one over the limit is 413 (said before reading it when
// Content-Length already tells), and a body that is not declared as JSON is not parsed (the
// handler then finds no body and says which field is missing).
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.js';

const STRICT = /^[\x20\x09\x0a\x0d]*[[{]/;
const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;

export const tooLarge = () => new GatewayError({ code: 413, msg: 'Request body is too large', reason: 'too_large' });
export const notJson = () => new GatewayError({ code: 400, msg: 'Request body is not valid JSON', reason: 'bad_json' });

/** The parsed body, or undefined when the request declares no JSON body. */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > limitBytes) {
    // Not read: the connection cannot be reused for another request, so close it after answering.
    req.resume();
    return Promise.reject(tooLarge());
  }
  const isJson = JSON_TYPE.test(req.headers['content-type'] ?? '');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limitBytes) {
        failed = true;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (failed) return;
      if (!isJson) return resolve(undefined);
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
      // As express.json (strict): an empty body is an empty object, and only an object or an
      // array is a body at all.
      if (text.length === 0) return resolve({});
      if (!STRICT.test(text)) return reject(notJson());
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(notJson());
      }
    });
    req.once('error', (error) => {
      if (failed) return;
      failed = true;
      reject(error);
    });
  });
}
