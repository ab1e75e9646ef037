// Prometheus metrics of one gateway. Each gateway has its own registry (several run side by side
// in tests); label values are ids and codes, never secrets.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KEY_STATES } from '../keypool.js';
import type { UpstreamHealth } from '../upstreams.js';

export function createMetrics(upstreams: { health(): UpstreamHealth[] }, options: { defaultMetrics?: boolean } = {}) {
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
  return { registry, requests, upstreamSeconds, refusals, tenantCallbacks, providerCallbacks };
}

export type Metrics = ReturnType<typeof createMetrics>;
