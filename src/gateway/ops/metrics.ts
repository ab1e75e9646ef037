// Prometheus metrics of one gateway. Each gateway has its own registry (several run side by side
// in tests); label values are ids and codes, never secrets.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KEY_STATES, type KeyPool } from '../keypool.js';

export interface MetricsOptions {
  defaultMetrics?: boolean;
  /** Queued tasks per tenant, read from the store at each scrape (every instance's queue). */
  queueDepths?: () => Promise<Array<{ tenantId: string; queued: number }>>;
}

export function createMetrics(pool: KeyPool, options: MetricsOptions = {}) {
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
  new Gauge({
    name: 'lxg_upstream_key_state',
    help: '1 for the state each provider key is in',
    labelNames: ['key', 'state'] as const,
    registers: [registry],
    collect() {
      for (const key of pool.status()) for (const state of KEY_STATES) this.set({ key: key.id, state }, key.state === state ? 1 : 0);
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
    help: 'Queued tasks handed to the provider, by key and outcome (created, requeued, refused, unknown)',
    labelNames: ['key', 'outcome'] as const,
    registers: [registry],
  });
  const queueEnded = new Counter({
    name: 'lxg_queue_ended_total',
    help: 'Queued tasks that ended unsent, by tenant and why (cancelled, expired)',
    labelNames: ['tenant', 'why'] as const,
    registers: [registry],
  });
  return { registry, requests, upstreamSeconds, refusals, tenantCallbacks, providerCallbacks, queueWaitSeconds, dispatched, queueEnded };
}

export type Metrics = ReturnType<typeof createMetrics>;
