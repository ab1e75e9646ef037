// Fetches one provider result file to a temporary file, as safely as a callback is sent: the URL
// passes the callbacks' SSRF guard (callbacks/ssrf.ts) and every connection's address is checked
// again at connect time (a name that turns private later is caught); redirects are followed by
// hand, a few, each checked the same way. The size limit holds whatever Content-Length claims, and
// the content type must be the kind of media the model makes.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request, type Dispatcher } from 'undici';
import { CallbackUrlError, type CallbackUrlGuard } from '../callbacks/ssrf.js';

export type MediaKind = 'image' | 'video';

export type CopyErrorCode = 'BLOCKED' | 'TOO_LARGE' | 'CONTENT_TYPE' | 'HTTP' | 'TRANSPORT' | 'REDIRECTS';

/** A download that failed; `permanent` ones are not retried (the same URL would fail the same way). */
export class ResultCopyError extends Error {
  override readonly name = 'ResultCopyError';
  constructor(
    readonly code: CopyErrorCode,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export interface Downloaded {
  path: string;
  contentType: string;
  bytes: number;
}

export interface DownloaderOptions {
  guard: CallbackUrlGuard;
  /** A dispatcher whose connections go through the guard (createGuardedDispatcher). */
  dispatcher: Dispatcher;
  maxBytes: number;
  timeoutMs: number;
  /** Where downloads are written before the blob store takes them (default: the OS's tmp). */
  tmpDir?: string;
}

const MAX_REDIRECTS = 3;

/** Video models make video; every other model makes images (mock/simulator and the provider agree). */
export function mediaKindOf(model: string): MediaKind {
  return /kling|video|veo|sora|seedance|hailuo|wan-/i.test(model) ? 'video' : 'image';
}

function contentTypeOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

export function createDownloader(options: DownloaderOptions) {
  const dir = options.tmpDir ?? join(tmpdir(), 'lxg-results');

  async function check(url: string): Promise<void> {
    try {
      await options.guard.checkUrl(url);
    } catch (error) {
      if (error instanceof CallbackUrlError) {
        // The guard words its messages for callBackUrls; the reason is the same for a result URL.
        const why = error.message.replace(/^callBackUrl/, 'result URL');
        throw new ResultCopyError('BLOCKED', why, error.code !== 'UNRESOLVABLE');
      }
      throw error;
    }
  }

  async function open(url: string, signal: AbortSignal | undefined, redirects = 0): Promise<Dispatcher.ResponseData> {
    await check(url);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'GET',
        signal,
        dispatcher: options.dispatcher,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        headers: { 'user-agent': 'liangxin-gateway' },
      });
    } catch (error) {
      if (error instanceof CallbackUrlError)
        throw new ResultCopyError('BLOCKED', error.message.replace(/callBackUrl/, 'result URL'), error.code !== 'UNRESOLVABLE');
      throw new ResultCopyError('TRANSPORT', `download failed: ${(error as Error).message}`, false);
    }
    const location = response.headers.location;
    if (response.statusCode >= 300 && response.statusCode < 400 && location) {
      await response.body.dump();
      if (redirects >= MAX_REDIRECTS) throw new ResultCopyError('REDIRECTS', `more than ${MAX_REDIRECTS} redirects`, true);
      return open(new URL(String(location), url).toString(), signal, redirects + 1);
    }
    return response;
  }

  /** `signal` aborts it (the gateway stopping): a transport failure, retried by whoever takes the copy next. */
  return async function download(url: string, kind: MediaKind, signal?: AbortSignal): Promise<Downloaded> {
    const response = await open(url, signal);
    const status = response.statusCode;
    if (status !== 200) {
      await response.body.dump();
      // 404/410: the provider's link is gone and will not come back; anything else may pass.
      throw new ResultCopyError('HTTP', `the result URL answered HTTP ${status}`, status === 404 || status === 410);
    }
    const contentType = contentTypeOf(response.headers['content-type']);
    if (!contentType.startsWith(`${kind}/`)) {
      await response.body.dump();
      throw new ResultCopyError('CONTENT_TYPE', `the result URL sent ${contentType || 'no content type'}, not the ${kind} the model makes`, true);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      await response.body.dump();
      throw new ResultCopyError('TOO_LARGE', `the result file is ${declared} bytes, over the limit of ${options.maxBytes}`, true);
    }
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${randomUUID()}.part`);
    let bytes = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > options.maxBytes) done(new ResultCopyError('TOO_LARGE', `the result file is over the limit of ${options.maxBytes} bytes`, true));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(response.body, limit, createWriteStream(path));
    } catch (error) {
      await rm(path, { force: true });
      if (error instanceof ResultCopyError) throw error;
      throw new ResultCopyError('TRANSPORT', `download failed: ${(error as Error).message}`, false);
    }
    return { path, contentType, bytes };
  };
}

export type Downloader = ReturnType<typeof createDownloader>;
