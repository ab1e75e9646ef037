// The key cache on /metrics: whether it is trusted now (its bus live) and how many keys it holds.
import { Gauge, type Registry } from 'prom-client';
import type { InvalidationBus } from './bus.js';

/** Registers the two gauges on the gateway's registry. */
export function registerCacheMetrics(registry: Registry, bus: InvalidationBus, size: () => number): void {
  new Gauge({
    name: 'lxg_auth_key_cache_live',
    help: '1 while the key cache hears of changes from every instance (its bus is live); 0: every call is looked up in the store',
    labelNames: ['bus'] as const,
    registers: [registry],
    collect() {
      this.set({ bus: bus.kind }, bus.live() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'lxg_auth_key_cache_entries',
    help: 'Tenant keys held in the key cache',
    registers: [registry],
    collect() {
      this.set(size());
    },
  });
}
