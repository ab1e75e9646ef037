// Task events over Server-Sent Events, as the gateway offers them (`GET /api/v1/jobs/events`):
// an async iterator that reconnects after a dropped connection with `Last-Event-ID`, so nothing
// is missed or repeated. The real provider has no such endpoint: `eventsOffered` tells whether a
// server does (waitForTask then falls back to polling).
import { unwrapEnvelope } from './envelope.js';
import { LiangxinTransportError } from './errors.js';
import type { TaskRecord, TaskState } from './types.js';

export const EVENTS_PATH = '/api/v1/jobs/events';
/** On the gateway's createTask and recordInfo answers: its events route (the provider sends none). */
export const EVENTS_HEADER = 'x-liangxin-events';

export interface TaskEvent {
  /** The event's id (the tenant's event log position): what a resume names. */
  id: string;
  taskId: string;
  state: TaskState;
  /** The record as it is now shown (a success carries its durable result URLs once copied). */
  record: TaskRecord;
}

export interface EventsOptions {
  signal?: AbortSignal;
  /** Resume after this event id. */
  lastEventId?: string;
  /** Wait between reconnects, unless the server's `retry:` says otherwise; default 1000 ms. */
  reconnectDelayMs?: number;
}

export interface EventsConnection {
  baseUrl: string;
  headers: Record<string, string>;
  fetch: (request: Request) => Promise<Response>;
}

interface Frame {
  id?: string;
  event: string;
  data: string;
  retry?: number;
}

/** Splits an SSE byte stream into frames (the WHATWG format: fields, blank line ends a frame). */
export async function* readFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const decoder = new TextDecoder();
  let buffer = '';
  let frame: Frame = { event: 'message', data: '' };
  let hasData = false;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let newline = buffer.search(/\r\n|\n|\r/); newline !== -1; newline = buffer.search(/\r\n|\n|\r/)) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (hasData || frame.retry !== undefined) yield frame;
        frame = { event: 'message', data: '' };
        hasData = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') {
        frame.data = hasData ? `${frame.data}\n${value}` : value;
        hasData = true;
      } else if (field === 'event') frame.event = value;
      else if (field === 'id') frame.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) frame.retry = Number(value);
    }
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * The events of one task (ends once it is final and settled) or of all the tenant's tasks (runs
 * until `signal` aborts). A refusal (a wrong key, an unknown task) throws LiangxinError; a dropped
 * connection reconnects from the last event id.
 */
export async function* taskEvents(connection: EventsConnection, taskId: string | undefined, options: EventsOptions = {}): AsyncGenerator<TaskEvent> {
  let lastEventId = options.lastEventId;
  let delay = options.reconnectDelayMs ?? 1000;
  const url = `${connection.baseUrl}${EVENTS_PATH}${taskId === undefined ? '' : `?taskId=${encodeURIComponent(taskId)}`}`;
  while (!options.signal?.aborted) {
    let response: Response;
    try {
      const headers = { ...connection.headers, accept: 'text/event-stream', ...(lastEventId !== undefined && { 'last-event-id': lastEventId }) };
      response = await connection.fetch(new Request(url, { headers, signal: options.signal }));
    } catch (error) {
      if (options.signal?.aborted) return;
      await sleep(delay, options.signal);
      if (lastEventId === undefined && taskId === undefined) throw new LiangxinTransportError('events', 'could not reach the server', { cause: error });
      continue;
    }
    if (!response.ok || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: unwrapEnvelope names what came back
      }
      unwrapEnvelope('events', response, body);
      throw new LiangxinTransportError('events', `the server answered HTTP ${response.status} without an event stream`);
    }
    try {
      for await (const frame of readFrames(response.body!)) {
        if (frame.retry !== undefined) delay = frame.retry;
        if (frame.event === 'done') return;
        if (frame.event !== 'task') continue;
        if (frame.id !== undefined) lastEventId = frame.id;
        const data = JSON.parse(frame.data) as { taskId: string; state: TaskState; record: TaskRecord };
        yield { id: frame.id ?? '', taskId: data.taskId, state: data.state, record: data.record };
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      if (error instanceof SyntaxError) throw error;
      // The connection dropped mid-stream: reconnect from the last event.
    }
    await sleep(delay, options.signal);
  }
}
