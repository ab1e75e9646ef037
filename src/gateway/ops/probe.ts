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
// One probe per upstream; readiness asks whether any of them can serve (failover covers the
// others). What an answer means is the upstream's provider's to say (its body-code table).
import type { Upstream } from '../upstreams.js';
import { UpstreamTransportError } from '../upstream.js';

export interface ProbeResult {
  ok: boolean;
  /** What was learnt, for /readyz: `ok`, or why not. Never a secret. */
  detail: string;
  /** The gateway clock's time of the answer. */
  at: number;
}

export interface ProbeOptions {
  /** The upstream it probes: its raw client (untraced), provider and key pool. */
  upstream: Pick<Upstream, 'id' | 'client' | 'provider' | 'pool'>;
  now: () => number;
  /** An answer older than this is refreshed (upstream.probeIntervalMs). */
  intervalMs: number;
}

/** A task id no provider has: the answer is "not found", which proves the provider answers. */
export const PROBE_TASK_ID = 'lxg-readiness-probe';

export function createUpstreamProbe(options: ProbeOptions) {
  const { upstream, now } = options;
  const { pool } = upstream;
  let last: ProbeResult | undefined;
  let running: Promise<ProbeResult> | undefined;

  async function once(): Promise<ProbeResult> {
    const keyId = pool.candidates().keys[0]?.id;
    if (keyId === undefined) return { ok: false, detail: 'no provider key to probe with', at: now() };
    const read = pool.tryRead(keyId);
    // The key's reads are spent on tenants' polls: those prove more than a probe would.
    if (!read.ok) return last ?? { ok: true, detail: 'ok', at: now() };
    try {
      const answer = await upstream.client.recordInfo(read.apiKey, PROBE_TASK_ID);
      const verdict = upstream.provider.readRecord(answer);
      if (verdict.kind === 'unavailable') {
        if (verdict.key !== 'none') pool.report(keyId, verdict.key, `readiness probe: ${verdict.reason}`, verdict.retryAfterMs);
        if (verdict.key === 'maintenance') return { ok: false, detail: 'provider in maintenance', at: now() };
        if (verdict.key === 'disabled') return { ok: false, detail: `provider refused key ${keyId} (${answer.code})`, at: now() };
        if (answer.code >= 500) return { ok: false, detail: `provider answered ${answer.code}`, at: now() };
      }
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

/** Every upstream's probe as one answer: ok while any upstream answers, else each one's reason. */
export function combineProbes(probes: ReadonlyArray<{ id: string; probe: UpstreamProbe }>) {
  return {
    async current(): Promise<Omit<ProbeResult, 'at'>> {
      const results = await Promise.all(probes.map(async ({ id, probe }) => ({ id, result: await probe.current() })));
      if (results.some(({ result }) => result.ok)) return { ok: true, detail: 'ok' };
      if (results.length === 1) return { ok: false, detail: results[0]!.result.detail };
      return { ok: false, detail: results.map(({ id, result }) => `${id}: ${result.detail}`).join('; ') };
    },
  };
}

export type UpstreamProbes = ReturnType<typeof combineProbes>;
