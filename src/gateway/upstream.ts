// One upstream, as the gateway calls it: createTask and recordInfo with a given key, at the
// provider's endpoints with its auth, over one keep-alive connection pool (undici). It reports
// what came back and never decides policy: the provider (src/providers/) reads the answer.
import { Pool, errors as undiciErrors } from 'undici';
import { parseRetryAfter } from '../client/envelope.js';
import type { Provider, ProviderAnswer } from '../providers/types.js';

export interface UpstreamAnswer extends ProviderAnswer {
  durationMs: number;
}

/**
 * No usable answer. `sent` is false only when the request provably never reached the provider
 * (connection refused or never established): only then may a createTask go to another key.
 */
export class UpstreamTransportError extends Error {
  override readonly name = 'UpstreamTransportError';
  readonly code = 'UPSTREAM_TRANSPORT' as const;
  readonly sent: boolean;
  readonly durationMs: number;

  constructor(message: string, sent: boolean, durationMs: number, cause?: unknown) {
    super(message, { cause });
    this.sent = sent;
    this.durationMs = durationMs;
  }
}

export interface UpstreamClient {
  /** `headers`: extra request headers (a W3C traceparent, ops/tracing.ts); never the authorization. */
  createTask(apiKey: string, body: unknown, headers?: Record<string, string>): Promise<UpstreamAnswer>;
  recordInfo(apiKey: string, taskId: string, headers?: Record<string, string>): Promise<UpstreamAnswer>;
  close(): Promise<void>;
}

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code;
}

export interface UpstreamClientOptions {
  baseUrl: string;
  timeoutMs: number;
  connections?: number;
  /** Its endpoints and auth. */
  provider: Pick<Provider, 'endpoints' | 'auth'>;
}

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const { endpoints, auth } = options.provider;
  // One Pool for the provider's origin (no per-call URL parsing or origin lookup, as an Agent
  // does); a base URL with a path keeps it as a prefix.
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const pool = new Pool(base.origin, {
    keepAliveTimeout: 30_000,
    connections: options.connections ?? 64,
    connect: { timeout: Math.min(options.timeoutMs, 10_000) },
  });

  // The headers of each key's reads and writes, made once (undici copies them; they are never changed).
  const headerSets = new Map<string, { read: Record<string, string>; write: Record<string, string> }>();
  function headersOf(apiKey: string, write: boolean): Record<string, string> {
    let set = headerSets.get(apiKey);
    if (!set) {
      const read = auth(apiKey);
      set = { read, write: { ...read, 'content-type': 'application/json' } };
      headerSets.set(apiKey, set);
    }
    return write ? set.write : set.read;
  }

  async function call(method: 'GET' | 'POST', path: string, apiKey: string, body?: unknown, extra?: Record<string, string>): Promise<UpstreamAnswer> {
    const started = performance.now();
    try {
      const response = await pool.request({
        method,
        path: `${prefix}${path}`,
        // Extra headers (a trace's traceparent) on a copy; the shared sets are never changed.
        headers: extra ? { ...headersOf(apiKey, body !== undefined), ...extra } : headersOf(apiKey, body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
      const text = await response.body.text();
      const durationMs = performance.now() - started;
      let parsed: { code?: unknown; msg?: unknown; data?: unknown } | undefined;
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        parsed = undefined;
      }
      const retryAfter = response.headers['retry-after'];
      const envelope = parsed && typeof parsed.code === 'number';
      return {
        httpStatus: response.statusCode,
        code: envelope ? (parsed!.code as number) : response.statusCode >= 200 && response.statusCode < 300 ? 502 : response.statusCode,
        msg: envelope && typeof parsed!.msg === 'string' ? parsed!.msg : `HTTP ${response.statusCode} without an envelope`,
        data: envelope ? (parsed!.data ?? null) : null,
        retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0]! : (retryAfter ?? null)),
        durationMs,
      };
    } catch (error) {
      const durationMs = performance.now() - started;
      const code = errorCode(error);
      const sent = !(code && NOT_SENT.has(code));
      const what =
        error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError
          ? `no answer within ${options.timeoutMs} ms`
          : (code ?? 'connection failed');
      throw new UpstreamTransportError(`upstream ${method} ${path.split('?')[0]}: ${what}`, sent, durationMs, error);
    }
  }

  return {
    createTask: (apiKey, body, headers) => call('POST', endpoints.createTask, apiKey, body, headers),
    recordInfo: (apiKey, taskId, headers) => call('GET', endpoints.recordInfo(taskId), apiKey, undefined, headers),
    close: () => pool.close(),
  };
}
