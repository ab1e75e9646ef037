// `Prefer: wait=N` on createTask and recordInfo, as Replicate has it: the answer is held until the
// task is final (and its result copy settled) or N seconds pass (N ≤ events.maxWaitSeconds, 60),
// then it is the task's record, or as much as was known, with `Preference-Applied: wait=N`. The
// wait listens on the event path (hub.ts): nothing asks the provider again while it waits.
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import type { Answer } from '../http/types.js';

import type { PresentedRecord } from '../results/index.js';
import type { EventHub } from './hub.js';
import { isSettled, storedRecord } from './sse.js';

/** The wait a `Prefer` header asks for, in seconds (bare `wait`: the longest); undefined when none. */
export function preferredWait(header: string | string[] | undefined, maxSeconds: number): number | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return undefined;
  for (const part of text.split(/[,;]/)) {
    const match = /^\s*wait(?:\s*=\s*"?(\d+)"?)?\s*$/i.exec(part);
    if (!match) continue;
    const seconds = match[1] === undefined ? maxSeconds : Number(match[1]);
    return Math.min(Math.max(seconds, 0), maxSeconds);
  }
  return undefined;
}

export interface Waiter {
  /** Until the task is settled or `ms` passed (or `signal` aborts); whether it settled. */
  until(taskId: string, ms: number, signal?: AbortSignal): Promise<boolean>;
  stop(): void;
}

/**
 * Starts listening to the tenant's events now, before the task is known (createTask: the task may
 * end before its id comes back); `until` then also sees what arrived meanwhile.
 */
export async function startWaiter(hub: EventHub, principal: Principal): Promise<Waiter> {
  const settled = new Set<string>();
  const waiting = new Map<string, () => void>();
  const listening = await hub.listen(principal.tenantId, {
    onEvent(event) {
      if (!isSettled(JSON.parse(event.record) as PresentedRecord)) return;
      settled.add(event.taskId);
      waiting.get(event.taskId)?.();
    },
  });
  return {
    until(taskId, ms, signal) {
      if (settled.has(taskId)) return Promise.resolve(true);
      if (signal?.aborted) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const done = (value: boolean) => {
          clearTimeout(timer);
          waiting.delete(taskId);
          signal?.removeEventListener('abort', aborted);
          resolve(value);
        };
        const aborted = () => done(false);
        const timer = setTimeout(() => done(false), ms);
        waiting.set(taskId, () => done(true));
        signal?.addEventListener('abort', aborted, { once: true });
      });
    },
    stop: listening.stop,
  };
}

/** The header that says the wait was honoured. */
export const preferenceApplied = (seconds: number) => `wait=${seconds}`;

/** A held call: how long, and what aborts it (the caller went away). */
export interface Hold {
  seconds: number;
  signal: AbortSignal;
}

/** The two held calls, as plain functions around the ordinary ones (http/api.ts adapts them). */
export function createHeldCalls(ctx: GatewayContext, hub: EventHub) {
  const settledAnswer = async (principal: Principal, taskId: string, log: Answer['log']): Promise<Answer> => ({
    body: { code: 200, msg: 'success', data: await storedRecord(ctx, principal, taskId) },
    log,
  });

  return {
    /** createTask held: listening starts before the task exists (it may end before its id comes back). */
    async createTask(principal: Principal, hold: Hold, create: () => Promise<Answer>): Promise<Answer> {
      const waiter = await startWaiter(hub, principal);
      try {
        const answer = await create();
        const taskId = answer.log?.taskId;
        if (taskId === undefined || !(await waiter.until(taskId, hold.seconds * 1000, hold.signal))) return answer;
        return await settledAnswer(principal, taskId, answer.log);
      } finally {
        waiter.stop();
      }
    },

    /** recordInfo held: listening first, then the one ordinary read (which may bring the end), then only events. */
    async recordInfo(principal: Principal, taskId: string, hold: Hold, read: () => Promise<Answer>): Promise<Answer> {
      const waiter = await startWaiter(hub, principal);
      try {
        const answer = await read();
        const shown = (answer.body as { data?: PresentedRecord }).data;
        if (!shown || isSettled(shown)) return answer;
        await waiter.until(taskId, hold.seconds * 1000, hold.signal);
        // Settled or not: what the store knows now (the read above was this call's one provider read).
        return await settledAnswer(principal, taskId, answer.log);
      } finally {
        waiter.stop();
      }
    },
  };
}
