// The typed LiangXin client. The same code talks to the real provider, the Prism contract mock,
// the simulator and the gateway: only `baseUrl` and `apiKey` change.
//
//   const client = createLiangxinClient({ baseUrl, apiKey });
//   const { taskId } = await client.createTask({ model: 'z-image', input: { prompt, aspect_ratio: '1:1' } });
//   const record = await client.waitForTask(taskId);
//   const { resultUrls } = parseResult(record);
import createClient from 'openapi-fetch';
import type { paths } from '../generated/liangxin.js';
import type { paths as GatewayPaths } from '../generated/gateway.js';
import { unwrapEnvelope } from './envelope.js';
import { LiangxinTransportError } from './errors.js';
import type { CreatedTask, CreateTaskRequest, GatewayTaskRecord, TaskListQuery, TaskPage, TaskRecord } from './types.js';
import { waitForTask, type WaitOptions } from './wait.js';

export interface LiangxinClientOptions {
  /** Origin of the provider, the mock or the gateway, e.g. `http://127.0.0.1:4010`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`; never put in an error or a log. */
  apiKey: string;
  /** A fetch implementation (undici's, a test double); default the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
  /** Extra headers on every request (e.g. Prism's `Prefer`). */
  headers?: Record<string, string>;
  /** Abandon one HTTP call after this long; default 30 s. */
  requestTimeoutMs?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** createTask's options; the gateway's headers are ignored by the provider itself. */
export interface CreateOptions extends CallOptions {
  /**
   * Idempotency-Key (gateway): the same key and body within 24 h get the first answer again, so
   * a retry after a lost answer never starts (or pays for) a second task. `true` makes one up.
   */
  idempotencyKey?: string | true;
  /** Cancel-After (gateway queue): e.g. `5m`; still queued then, the task ends unsent. */
  cancelAfter?: string;
  /** X-Task-Priority (gateway queue): -10 to 10, higher first within the tenant's own queue. */
  priority?: number;
}

export interface LiangxinClient {
  /** Starts a task; resolves with its `taskId`. Throws LiangxinError when refused. */
  createTask(body: CreateTaskRequest, options?: CreateOptions): Promise<CreatedTask>;
  /**
   * Cancels a task still queued at the gateway (a gateway extension: POST /api/v1/jobs/cancelTask);
   * resolves with its final record. A task already at the provider: LiangxinError 409.
   */
  cancelTask(taskId: string, options?: CallOptions): Promise<GatewayTaskRecord>;
  /** Reads a task. A task created a moment ago answers LiangxinError 422 `recordInfo is null`. */
  getTask(taskId: string, options?: CallOptions): Promise<TaskRecord>;
  /** Polls until the task is `success` or `fail` and resolves with that record (a failed task is not an error). */
  waitForTask(taskId: string, options?: WaitOptions): Promise<TaskRecord>;
  /**
   * The caller's own tasks, newest first, one page (liangxin-gateway only: the provider has no
   * such call). Pass the page's `nextCursor` as `cursor` for the next one.
   */
  listTasks(query?: TaskListQuery, options?: CallOptions): Promise<TaskPage>;
}

/** The gateway's request headers of createTask's options (none when none are asked for). */
function gatewayHeaders(options: CreateOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.idempotencyKey !== undefined) headers['Idempotency-Key'] = options.idempotencyKey === true ? crypto.randomUUID() : options.idempotencyKey;
  if (options.cancelAfter !== undefined) headers['Cancel-After'] = options.cancelAfter;
  if (options.priority !== undefined) headers['X-Task-Priority'] = String(options.priority);
  return headers;
}

export function createLiangxinClient(options: LiangxinClientOptions): LiangxinClient {
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const clientOptions = {
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    fetch: options.fetch,
    headers: { ...options.headers, Authorization: `Bearer ${options.apiKey}` },
  };
  const api = createClient<paths>(clientOptions);
  // The gateway's own tenant calls (openapi/gateway.yaml), on the same origin and key.
  const gatewayApi = createClient<GatewayPaths>(clientOptions);

  // openapi-fetch throws for a dead connection, a timeout or a 2xx body that is not JSON; turn
  // those into one error type, but let a caller's own abort through untouched.
  async function call<T>(
    operation: string,
    signal: AbortSignal | undefined,
    send: (signal: AbortSignal) => Promise<{ response: Response; data?: unknown; error?: unknown }>,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let result: { response: Response; data?: unknown; error?: unknown };
    try {
      result = await send(combined);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const reason = timeout.aborted
        ? `no answer within ${requestTimeoutMs} ms`
        : error instanceof SyntaxError
          ? 'the answer is not JSON'
          : 'could not reach the server';
      throw new LiangxinTransportError(operation, reason, { cause: error });
    }
    const { response } = result;
    return unwrapEnvelope<T>(operation, response, response.ok ? result.data : result.error);
  }

  const client: LiangxinClient = {
    createTask(body, callOptions = {}) {
      return call<CreatedTask>('createTask', callOptions.signal, (signal) =>
        api.POST('/api/v1/jobs/createTask', { body, signal, headers: gatewayHeaders(callOptions) }),
      );
    },
    cancelTask(taskId, callOptions = {}) {
      // A gateway extension (openapi/gateway.yaml), not in the provider's contract.
      return call<GatewayTaskRecord>('cancelTask', callOptions.signal, (signal) => gatewayApi.POST('/api/v1/jobs/cancelTask', { body: { taskId }, signal }));
    },
    getTask(taskId, callOptions = {}) {
      return call<TaskRecord>('getTask', callOptions.signal, (signal) =>
        api.GET('/api/v1/jobs/recordInfo', { params: { query: { taskId } }, signal }),
      );
    },
    waitForTask(taskId, waitOptions) {
      return waitForTask(client.getTask, taskId, waitOptions);
    },
    listTasks(query = {}, callOptions = {}) {
      return call<TaskPage>('listTasks', callOptions.signal, (signal) => gatewayApi.GET('/api/v1/jobs/list', { params: { query }, signal }));
    },
  };
  return client;
}

export { parseRetryAfter } from './envelope.js';
export {
  LiangxinError,
  LiangxinParseError,
  LiangxinTimeoutError,
  LiangxinTransportError,
  LiangxinWebhookError,
  type WebhookErrorCode,
} from './errors.js';
export { parseResult, type ParsedResult } from './result.js';
export * from './types.js';
export type { WaitOptions, ProgressInfo } from './wait.js';
export { signWebhook, verifyWebhook, type HeaderBag, type VerifyWebhookInput } from './webhook.js';
export { verifyGatewayWebhook, type GatewayWebhook, type VerifyGatewayWebhookInput } from './gateway-webhook.js';
