// Prometheus metrics of one gateway. Each gateway has its own registry (several run side by side
// in tests); label values are ids and codes, never secrets.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KEY_STATES } from '../keypool.js';
import type { Upstreams } from '../upstreams.js';

/** Seconds; fine below 50 ms, where the gateway's own time lives. */
export const ADDED_LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5];

export interface MetricsOptions {
  defaultMetrics?: boolean;
  /** Queued tasks per tenant, read from the store at each scrape (every instance's queue). */
  queueDepths?: () => Promise<Array<{ tenantId: string; queued: number }>>;
}

export function createMetrics(upstreams: Pick<Upstreams, 'health' | 'list'>, options: MetricsOptions = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'lxg_' });

  const requests = new Counter({
    name: 'lxg_requests_total',
    help: 'Requests answered, by route, envelope code and tenant',
    labelNames: ['route', 'code', 'tenant'] as const,
    registers: [registry],
  });
  const upstreamSeconds = new Histogram({
    name: 'lxg_upstream_duration_seconds',
    help: 'Latency of calls to the upstreams, by upstream, operation and body code (or "transport")',
    labelNames: ['upstream', 'operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  // The gateway's own answer time (what a tenant waits), by route as declared: bounded labels.
  const responseSeconds = new Histogram({
    name: 'lxg_response_duration_seconds',
    help: 'The gateway\'s response time, by route (the declared path, or "unmatched")',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'lxg_refusals_total',
    help: 'Requests the gateway refused, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const tenantCallbacks = new Counter({
    name: 'lxg_tenant_callback_attempts_total',
    help: 'Attempts to deliver a callback to a tenant, by what became of the delivery (delivered, pending = will retry, failed)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const providerCallbacks = new Counter({
    name: 'lxg_provider_callbacks_total',
    help: 'Callbacks from the upstreams, by outcome (accepted, or the refusal reason: callback_unknown, callback_signature, callback_invalid)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  // A histogram (under a microsecond to observe; a windowed summary took ~8 µs per createTask):
  // the dashboard's p50/p99 are interpolated from its buckets (admin/latency.ts).
  const addedSeconds = new Histogram({
    name: 'lxg_added_latency_seconds',
    help: 'Time an accepted createTask spent in the gateway, its calls to the provider left out',
    buckets: ADDED_LATENCY_BUCKETS,
    registers: [registry],
  });
  const resultCopies = new Counter({
    name: 'lxg_result_copies_total',
    help: "Attempts to copy a task's result files, by what became of the copy (copied, pending = will retry, failed = the provider URLs stay)",
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const resultCopyBytes = new Counter({ name: 'lxg_result_copy_bytes_total', help: 'Bytes of result files copied into the blob store', registers: [registry] });
  const resultCopySeconds = new Histogram({
    name: 'lxg_result_copy_file_seconds',
    help: 'Time to download and store one result file',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const resultBytesStored = new Gauge({
    name: 'lxg_result_bytes_stored',
    help: 'Bytes of result copies kept now, per tenant (from the store, refreshed after copies and sweeps)',
    labelNames: ['tenant'] as const,
    registers: [registry],
  });
  const eventListeners = new Gauge({ name: 'lxg_event_listeners', help: 'Open SSE streams and Prefer: wait requests on this instance', registers: [registry] });
  const eventsSent = new Counter({ name: 'lxg_events_sent_total', help: 'Task events written to SSE streams', registers: [registry] });
  new Gauge({
    name: 'lxg_upstream_key_state',
    help: '1 for the state each provider key is in',
    labelNames: ['upstream', 'key', 'state'] as const,
    registers: [registry],
    collect() {
      for (const upstream of upstreams.health()) {
        for (const key of upstream.keys) for (const state of KEY_STATES) this.set({ upstream: upstream.id, key: key.id, state }, key.state === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'lxg_upstream_healthy',
    help: '1 when some key of the upstream can serve a createTask now (not in maintenance, a key not resting)',
    labelNames: ['upstream'] as const,
    registers: [registry],
    collect() {
      for (const upstream of upstreams.health()) this.set({ upstream: upstream.id }, upstream.healthy ? 1 : 0);
    },
  });
  // The recordInfo budget of each key (tasks/read-budget.ts): where it stands, and what the provider refused.
  new Gauge({
    name: 'lxg_upstream_read_allowed_per_second',
    help: 'recordInfo per second each provider key may send now (AIMD: halved on a 429, +1 per clean second up to its ceiling)',
    labelNames: ['upstream', 'key'] as const,
    registers: [registry],
    collect() {
      for (const { id, pool } of upstreams.list) for (const key of pool.readStatus()) this.set({ upstream: id, key: key.id }, key.allowed);
    },
  });
  new Gauge({
    name: 'lxg_upstream_reads_refused',
    help: 'recordInfo the provider refused with 429, per provider key, since start',
    labelNames: ['upstream', 'key'] as const,
    registers: [registry],
    collect() {
      for (const { id, pool } of upstreams.list) for (const key of pool.readStatus()) this.set({ upstream: id, key: key.id }, key.refused);
    },
  });
  // The admission queue (issue 16).
  const queueDepths = options.queueDepths;
  new Gauge({
    name: 'lxg_queue_depth',
    help: 'Tasks waiting in the admission queue, by tenant (all instances: read from the store)',
    labelNames: ['tenant'] as const,
    registers: [registry],
    async collect() {
      if (!queueDepths) return;
      this.reset();
      for (const { tenantId, queued } of await queueDepths()) this.set({ tenant: tenantId }, queued);
    },
  });
  const queueWaitSeconds = new Histogram({
    name: 'lxg_queue_wait_seconds',
    help: 'Time from acceptance to dispatch of queued tasks, by tenant',
    labelNames: ['tenant'] as const,
    buckets: [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
  });
  const dispatched = new Counter({
    name: 'lxg_dispatched_total',
    help: 'Queued tasks handed to the provider, by upstream, key and outcome (created, requeued, refused, unknown)',
    labelNames: ['upstream', 'key', 'outcome'] as const,
    registers: [registry],
  });
  const queueEnded = new Counter({
    name: 'lxg_queue_ended_total',
    help: 'Queued tasks that ended unsent, by tenant and why (cancelled, expired)',
    labelNames: ['tenant', 'why'] as const,
    registers: [registry],
  });
  return {
    registry,
    requests,
    responseSeconds,
    upstreamSeconds,
    addedSeconds,
    refusals,
    tenantCallbacks,
    providerCallbacks,
    resultCopies,
    resultCopyBytes,
    resultCopySeconds,
    resultBytesStored,
    eventListeners,
    eventsSent,
    queueWaitSeconds,
    dispatched,
    queueEnded,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
