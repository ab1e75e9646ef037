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
import { progressOf, waitForTask, type WaitOptions } from './wait.js';
import { EVENTS_HEADER, taskEvents, type EventsOptions, type TaskEvent } from './events.js';

/** Ends a poll loop that learnt the server offers events (waitForTask then follows them). */
class SwitchToEvents extends Error {}
import { LiangxinError, LiangxinTimeoutError } from './errors.js';
import { isFinalState } from './types.js';

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
  /**
   * Resolves with the task's record once it is `success` or `fail` (a failed task is not an error):
   * from the gateway's live events when the server offers them, else by polling.
   */
  waitForTask(taskId: string, options?: WaitOptions): Promise<TaskRecord>;
  /**
   * The caller's own tasks, newest first, one page (liangxin-gateway only: the provider has no
   * such call). Pass the page's `nextCursor` as `cursor` for the next one.
   */
  listTasks(query?: TaskListQuery, options?: CallOptions): Promise<TaskPage>;

  /**
   * The gateway's task events (SSE): one task's until it is final, or all the tenant's tasks until
   * `signal` aborts; reconnects with Last-Event-ID. The provider itself offers none (LiangxinError 404).
   */
  events(taskId?: string, options?: EventsOptions): AsyncGenerator<TaskEvent>;
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
    // The gateway names its events route on its answers; the provider never does.
    if (response.headers.get(EVENTS_HEADER)) eventsOffered = true;
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
      return call<TaskRecord>('getTask', callOptions.signal, (signal) => api.GET('/api/v1/jobs/recordInfo', { params: { query: { taskId } }, signal }));
    },
    async waitForTask(taskId, waitOptions = {}) {
      const useEvents = waitOptions.events !== false;
      if (useEvents && eventsOffered) {
        const record = await waitWithEvents(taskId, waitOptions);
        if (record) return record;
      }
      // Polling; a poll that learns the server offers events switches to them.
      const started = Date.now();
      const poll: typeof client.getTask = async (id, callOptions) => {
        const record = await client.getTask(id, callOptions);
        if (useEvents && eventsOffered && !isFinalState(record.state)) {
          // This poll's record is progress too (a queued task's place is on it) before events take over.
          waitOptions.onProgress?.(record, progressOf(record, Date.now() - started, 1));
          throw new SwitchToEvents();
        }
        return record;
      };
      try {
        return await waitForTask(poll, taskId, waitOptions);
      } catch (error) {
        if (!(error instanceof SwitchToEvents)) throw error;
        return (await waitWithEvents(taskId, waitOptions)) ?? waitForTask(client.getTask, taskId, waitOptions);
      }
    },
    events(taskId, eventsOptions) {
      return taskEvents(connection, taskId, eventsOptions);
    },
    listTasks(query = {}, callOptions = {}) {
      return call<TaskPage>('listTasks', callOptions.signal, (signal) => gatewayApi.GET('/api/v1/jobs/list', { params: { query }, signal }));
    },
  };

  const connection = {
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { ...options.headers, Authorization: `Bearer ${options.apiKey}` },
    fetch: options.fetch ?? ((request: Request) => fetch(request)),
  };
  /** Whether the server offers task events: learnt from its answers (EVENTS_HEADER), or a 404 of the route. */
  let eventsOffered: boolean | undefined;

  /** The final record from the task's events; undefined when the server offers none (then poll). */
  async function waitWithEvents(taskId: string, waitOptions: WaitOptions): Promise<TaskRecord | undefined> {
    const timeoutMs = waitOptions.timeoutMs ?? 15 * 60_000;
    const started = Date.now();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = waitOptions.signal ? AbortSignal.any([waitOptions.signal, timeout]) : timeout;
    let last: TaskRecord | undefined;
    try {
      for await (const event of taskEvents(connection, taskId, { signal })) {
        eventsOffered = true;
        last = event.record;
        waitOptions.onProgress?.(event.record, progressOf(event.record, Date.now() - started, 0));
      }
    } catch (error) {
      if (waitOptions.signal?.aborted) throw waitOptions.signal.reason;
      // No events here (the provider, a mock: 404), or not for this task yet: polling decides.
      if (error instanceof LiangxinError && error.code === 404) eventsOffered = false;
      if (last === undefined) return undefined;
      throw error;
    }
    if (waitOptions.signal?.aborted) throw waitOptions.signal.reason;
    if (last && isFinalState(last.state)) return last;
    if (timeout.aborted) throw new LiangxinTimeoutError(taskId, Date.now() - started, last?.state);
    return undefined;
  }
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
export { EVENTS_HEADER, readFrames, type EventsOptions, type TaskEvent } from './events.js';
export { signWebhook, verifyWebhook, type HeaderBag, type VerifyWebhookInput } from './webhook.js';
export { verifyGatewayWebhook, type GatewayWebhook, type VerifyGatewayWebhookInput } from './gateway-webhook.js';
