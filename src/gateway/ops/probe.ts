// Whether the provider can serve, probed rather than inferred: key states only change when a
// tenant's call fails, so with the provider unreachable and no traffic /readyz would say ready
// while the next createTask got 503. A cheap call (recordInfo of a task that does not exist: no
// cost, no task) goes out with a key offered to createTasks, within that key's recordInfo
// allowance. What it learns about the key (401) or the provider (455) goes to the key pool like
// any answer.
//
// It probes when /readyz asks and the last answer is older than the interval (the gateway's
// clock decides), not on a timer of its own: whatever polls readiness (a load balancer, every few
// seconds) sets the pace, and a gateway nobody asks sends nothing (nor do tests that never read
// /readyz: their scripted upstreams see only their own calls). The first ask waits for its
// answer; a later one gets the last answer at once and refreshes it behind, so /readyz stays
// fast even when the provider hangs, and says so one ask later.
//
// One upstream today (the UpstreamClient the gateway has); with several upstreams, one probe
// per upstream, and readiness asks whether any of them can serve.
import type { KeyPool } from '../keypool.js';
import { UpstreamTransportError, type UpstreamClient } from '../upstream.js';

export interface ProbeResult {
  ok: boolean;
  /** What was learnt, for /readyz: `ok`, or why not. Never a secret. */
  detail: string;
  /** The gateway clock's time of the answer. */
  at: number;
}

export interface ProbeOptions {
  upstream: UpstreamClient;
  pool: KeyPool;
  now: () => number;
  /** An answer older than this is refreshed (upstream.probeIntervalMs). */
  intervalMs: number;
}

/** A task id no provider has: the answer is "not found", which proves the provider answers. */
export const PROBE_TASK_ID = 'lxg-readiness-probe';

export function createUpstreamProbe(options: ProbeOptions) {
  const { upstream, pool, now } = options;
  let last: ProbeResult | undefined;
  let running: Promise<ProbeResult> | undefined;

  async function once(): Promise<ProbeResult> {
    const keyId = pool.candidates().keys[0]?.id;
    if (keyId === undefined) return { ok: false, detail: 'no provider key to probe with', at: now() };
    const read = pool.tryRead(keyId);
    // The key's reads are spent on tenants' polls: those prove more than a probe would.
    if (!read.ok) return last ?? { ok: true, detail: 'ok', at: now() };
    try {
      const answer = await upstream.recordInfo(read.apiKey, PROBE_TASK_ID);
      if (answer.code === 401 || answer.code === 455) pool.report(keyId, answer.code, answer.retryAfterMs);
      if (answer.code === 455) return { ok: false, detail: 'provider in maintenance', at: now() };
      if (answer.code === 401) return { ok: false, detail: `provider refused key ${keyId} (401)`, at: now() };
      if (answer.code >= 500) return { ok: false, detail: `provider answered ${answer.code}`, at: now() };
      pool.clearMaintenance();
      return { ok: true, detail: 'ok', at: now() };
    } catch (error) {
      if (!(error instanceof UpstreamTransportError)) throw error;
      return { ok: false, detail: `provider unreachable (${error.message})`, at: now() };
    }
  }

  /** Probes now (joining a probe already out) and keeps the answer. */
  function probe(): Promise<ProbeResult> {
    running ??= once()
      .then((result) => (last = result))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    probe,
    /** The answer for /readyz: the first probe's; later the last one, refreshed behind when stale. */
    current(): Promise<ProbeResult> {
      if (!last) return probe();
      if (now() - last.at >= options.intervalMs) void probe().catch(() => undefined);
      return Promise.resolve(last);
    },
  };
}

export type UpstreamProbe = ReturnType<typeof createUpstreamProbe>;
