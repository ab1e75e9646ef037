// Prometheus metrics of one gateway. Each gateway has its own registry (several run side by side
// in tests); label values are ids and codes, never secrets.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KEY_STATES, type KeyPool } from '../keypool.js';

export function createMetrics(pool: KeyPool, options: { defaultMetrics?: boolean } = {}) {
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
    help: 'Latency of calls to the provider, by operation and body code (or "transport")',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
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
    help: 'Callbacks from the provider, by outcome (accepted, or why refused)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const resultCopies = new Counter({
    name: 'lxg_result_copies_total',
    help: 'Attempts to copy a task\'s result files, by what became of the copy (copied, pending = will retry, failed = the provider URLs stay)',
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
  const resultBytesStored = new Gauge({ name: 'lxg_result_bytes_stored', help: 'Bytes of result copies kept now, per tenant (from the store, refreshed after copies and sweeps)', labelNames: ['tenant'] as const, registers: [registry] });
  const eventListeners = new Gauge({ name: 'lxg_event_listeners', help: 'Open SSE streams and Prefer: wait requests on this instance', registers: [registry] });
  const eventsSent = new Counter({ name: 'lxg_events_sent_total', help: 'Task events written to SSE streams', registers: [registry] });
  new Gauge({
    name: 'lxg_upstream_key_state',
    help: '1 for the state each provider key is in',
    labelNames: ['key', 'state'] as const,
    registers: [registry],
    collect() {
      for (const key of pool.status()) for (const state of KEY_STATES) this.set({ key: key.id, state }, key.state === state ? 1 : 0);
    },
  });
  return { registry, requests, upstreamSeconds, refusals, tenantCallbacks, providerCallbacks, resultCopies, resultCopyBytes, resultCopySeconds, resultBytesStored, eventListeners, eventsSent };
}

export type Metrics = ReturnType<typeof createMetrics>;
