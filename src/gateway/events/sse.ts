// GET /api/v1/jobs/events[?taskId=…]: a tenant's task events as Server-Sent Events. Each event is
// `id: <seq>` (the tenant's event log position), `event: task`, `data: {taskId, state, record}`;
// a reconnecting client sends `Last-Event-ID` and is replayed what it missed from the log (kept
// events.retainMs), then follows live. With `taskId`, the stream opens with the task's current
// record and ends (`event: done`) once the task is final and its result copy settled. Comments
// (`: heartbeat`) keep idle streams open through proxies. Only the tenant's own tasks, ever: the
// hub reads one tenant's log, and another tenant's taskId is refused like an unknown one.
import type { IncomingMessage } from 'node:http';

import type { TaskEventRow } from '../../store/types.js';
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { recordIsNull, refusal } from '../errors.js';
import type { ApiResponse } from '../respond.js';
import type { PresentedRecord } from '../results/index.js';
import { withQueuePlace } from '../queue/place.js';
import { FINAL, knownRecord, tenantView } from '../tasks/records.js';
import type { EventHub } from './hub.js';

export const EVENTS_PATH = '/api/v1/jobs/events';

/** Final, and nothing more will change what it shows (its result copy is not pending). */
export function isSettled(record: PresentedRecord): boolean {
  return FINAL.has(record.state) && record.resultCopy?.state !== 'pending';
}

/** `Last-Event-ID` (or `?lastEventId=`, for clients that cannot set headers): a seq, or undefined. */
export function parseLastEventId(value: string | string[] | null | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text === null || text === '') return undefined;
  if (!/^\d{1,15}$/.test(text)) throw refusal('bad_event_id', 'Last-Event-ID must be an event id this API sent (a whole number)');
  return Number(text);
}

/** The record of a task as the tenant is shown it now, from the store (no provider call). */
export async function storedRecord(ctx: GatewayContext, principal: Principal, taskId: string): Promise<PresentedRecord> {
  const row = await ctx.store.getTask(taskId);
  if (!row || row.tenantId !== principal.tenantId) throw recordIsNull();
  const view = tenantView(knownRecord(row), row);
  if (ctx.results && view.state === 'success') return ctx.results.present(view, row.taskId);
  return withQueuePlace(ctx, row, view);
}

/**
 * A copied result's links were signed when its event was written; an event replayed later than
 * half their lifetime (a resume, a late listener) is shown with fresh ones, so no event hands out
 * a link that has run out. Live events go as written: no store read per listener.
 */
function relinker(ctx: GatewayContext) {
  const staleAfterMs = (ctx.config.results.linkTtlSeconds * 1000) / 2;
  return async (record: PresentedRecord, event: TaskEventRow): Promise<PresentedRecord> => {
    if (!ctx.results || record.resultCopy?.state !== 'copied' || ctx.clock.now() - event.createdAt < staleAfterMs) return record;
    return ctx.results.present(record, event.taskId);
  };
}

function frame(event: { id?: number; event: string; data: unknown }): string {
  return `${event.id === undefined ? '' : `id: ${event.id}\n`}event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

export function createEventStreams(ctx: GatewayContext, hub: EventHub) {
  const open = new Set<() => void>();
  const relinked = relinker(ctx);

  async function stream(principal: Principal, req: IncomingMessage, res: ApiResponse, query: URLSearchParams): Promise<void> {
    const taskId = query.get('taskId') ?? undefined;
    if (taskId === '')
      throw refusal('validation', 'taskId must not be empty', {
        data: { errors: [{ path: 'taskId', message: 'must not be empty', keyword: 'minLength' }], errorCount: 1 },
      });
    const afterSeq = parseLastEventId(req.headers['last-event-id'] ?? query.get('lastEventId'));
    // Refused in the envelope before the stream starts: another tenant's task is an unknown one.
    const current = taskId === undefined ? undefined : await storedRecord(ctx, principal, taskId);

    // The head goes out with the first write, after the listener is in place: a client whose
    // request has been answered misses nothing written after that.
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let ended = false;
    let stop: () => void = () => undefined;
    const end = () => {
      if (ended) return;
      ended = true;
      stop();
      clearInterval(heartbeat);
      open.delete(end);
      res.end();
    };
    open.add(end);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), ctx.config.events.heartbeatMs);
    res.once('close', end);

    let sent = 0;
    // Events go out one after another, in seq order, even when one needs fresh links first.
    let delivering = Promise.resolve();
    const deliver = async (event: TaskEventRow) => {
      const record = await relinked(JSON.parse(event.record) as PresentedRecord, event);
      if (ended) return;
      res.write(frame({ id: event.seq, event: 'task', data: { taskId: event.taskId, state: event.state, record } }));
      ctx.metrics.eventsSent.inc();
      if (taskId !== undefined && isSettled(record)) {
        res.write(frame({ event: 'done', data: { taskId, state: record.state } }));
        end();
      }
    };
    const send = (event: TaskEventRow) => {
      if (ended) return;
      sent++;
      delivering = delivering
        .then(() => deliver(event))
        .catch((error: unknown) => {
          ctx.logger.warn({ err: error, taskId: event.taskId }, 'events: an event could not be sent; the stream ends (the client resumes)');
          end();
        });
    };
    const listening = await hub.listen(principal.tenantId, { taskId, onEvent: send }, afterSeq);
    stop = listening.stop;
    if (ended) return stop();
    res.write('retry: 2000\n\n');
    // One task, no resume point: its record now, then what changes (the backlog a resume replays instead).
    if (current && afterSeq === undefined && sent === 0) {
      const latest = await storedRecord(ctx, principal, taskId!);
      send({
        seq: listening.seq,
        tenantId: principal.tenantId,
        taskId: taskId!,
        state: latest.state,
        record: JSON.stringify(latest),
        createdAt: ctx.clock.now(),
      });
    }
  }

  return {
    stream,
    /** Ends every open stream (the gateway is stopping; clients reconnect elsewhere with Last-Event-ID). */
    closeAll() {
      for (const end of [...open]) end();
    },
  };
}
