// Calls a task's callBackUrl when it ends, the way the provider does: one POST of the final
// record in the dialect's payload, signed when the account has an HMAC key, about 15 s timeout
// (LiangXin retries "briefly", how often is not documented: the simulator does not retry, so
// tests see exactly one attempt). Quirks lose, delay, duplicate or follow it with a stale copy.
// Every attempt is logged so tests can see what was sent, a skipped one too: only hosts the
// policy allows are called (callback-hosts.ts), and the first skip of each host is also said on
// `warn`.
import { createHmac } from 'node:crypto';
import { request } from 'undici';
import type { CallbackPayload, TaskRecord } from '../../src/client/types.js';
import type { CallbackHostPolicy } from './callback-hosts.js';
import type { CallbackQuirk } from './quirks.js';

export interface CallbackAttempt {
  taskId: string;
  url: string;
  state: string;
  signed: boolean;
  /** HTTP status of the receiver's answer; undefined when it could not be reached or was skipped. */
  status?: number;
  error?: string;
  /** Why it was not sent (a host that is not this machine and was not allowed): nothing went out. */
  skipped?: string;
  at: number;
}

export interface CallbackPlan {
  url: string;
  record: () => TaskRecord;
  /** Sent with a stale `generating` copy after it for `out-of-order`. */
  staleRecord: () => TaskRecord;
  hmacKey: string | undefined;
  quirks: Set<CallbackQuirk>;
  /** The account's dialect's payload, when it is not the sender's. */
  payload?: (record: TaskRecord) => CallbackPayload;
}

// Written out here rather than imported from the client: the simulator plays the provider, so
// its signature must be an independent implementation for the client's verifier to be tested.
function sign(taskId: string, timestamp: string, key: string): string {
  return createHmac('sha256', key).update(`${taskId}.${timestamp}`).digest('base64');
}

/** One POST and its answer: undici's request, or a test's stand-in. */
export type CallbackTransport = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; headersTimeout: number; bodyTimeout: number },
) => Promise<{ statusCode: number; body: { dump(): Promise<unknown> } }>;

export interface CallbackSenderOptions {
  now: () => number;
  /** What is posted for a final record: the dialect's payload. */
  payload: (record: TaskRecord) => CallbackPayload;
  timeoutMs?: number;
  hosts: CallbackHostPolicy;
  /** Where a skipped host is said, once per host. */
  warn: (line: string) => void;
  send?: CallbackTransport;
}

export function createCallbackSender(options: CallbackSenderOptions) {
  const log: CallbackAttempt[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const send: CallbackTransport = options.send ?? request;
  // Bounded: a long run told of many hosts must not grow without limit (it says one again, at worst).
  const toldHosts = new Set<string>();

  function skip(attempt: CallbackAttempt, reason: string): void {
    attempt.skipped = reason;
    log.push(attempt);
    // The reason names the host: one line per host, not per task.
    if (toldHosts.has(reason)) return;
    if (toldHosts.size >= 1000) toldHosts.clear();
    toldHosts.add(reason);
    options.warn(`simulator: callback for task ${attempt.taskId} not sent: ${reason}`);
  }

  async function post(plan: CallbackPlan, record: TaskRecord): Promise<void> {
    const { url, hmacKey } = plan;
    const payload = (plan.payload ?? options.payload)(record);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (hmacKey) {
      const timestamp = String(Math.floor(options.now() / 1000));
      headers['x-webhook-timestamp'] = timestamp;
      headers['x-webhook-signature'] = sign(record.taskId, timestamp, hmacKey);
    }
    const attempt: CallbackAttempt = { taskId: record.taskId, url, state: record.state, signed: !!hmacKey, at: options.now() };
    const refusal = options.hosts.refusal(url);
    if (refusal) return skip(attempt, refusal);
    try {
      // undici's request rather than fetch: a fraction of the CPU per call, which matters when
      // the simulator shares a machine with the gateway it calls back (the bench). It never
      // follows redirects, as the provider's callback does not.
      const timeoutMs = options.timeoutMs ?? 15_000;
      const response = await send(url, { method: 'POST', headers, body: JSON.stringify(payload), headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      attempt.status = response.statusCode;
      await response.body.dump();
    } catch (error) {
      attempt.error = (error as Error).message;
    }
    log.push(attempt);
  }

  function later(ms: number, fn: () => void) {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

  return {
    log,
    /** Sends the final callback `delayMs` from now, as the plan's quirks say. */
    schedule(plan: CallbackPlan, delayMs: number, lateMs: number): void {
      if (plan.quirks.has('lost')) return;
      const wait = delayMs + (plan.quirks.has('late') ? lateMs : 0);
      later(wait, () => {
        const record = plan.record();
        void post(plan, record);
        if (plan.quirks.has('duplicate')) later(50, () => void post(plan, record));
        if (plan.quirks.has('out-of-order')) later(50, () => void post(plan, plan.staleRecord()));
      });
    },
    close(): void {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
