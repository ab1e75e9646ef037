// `Prefer: wait=N` on createTask and recordInfo, as Replicate has it: the answer is held until the
// task is final (and its result copy settled) or N seconds pass (N ≤ events.maxWaitSeconds, 60),
// then it is the task's record, or as much as was known, with `Preference-Applied: wait=N`. The
// wait listens on the event path (hub.ts): nothing asks the provider again while it waits.
import type { Principal } from '../auth.js';

import type { PresentedRecord } from '../results/index.js';
import type { EventHub } from './hub.js';
import { isSettled } from './sse.js';

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


