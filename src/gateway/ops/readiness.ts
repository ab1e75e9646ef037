// The upstreams' part of /readyz: "ok" while any upstream can take a task (failover covers the
// others), else why none can. One plain function of the upstreams' health, so a prober (or a
// stricter policy) can build on it.
import type { UpstreamHealth } from '../upstreams.js';

export function upstreamReadiness(upstreams: readonly UpstreamHealth[]): string {
  if (upstreams.some((u) => u.healthy)) return 'ok';
  // One upstream: its reason as it always read ("provider in maintenance", "no usable key: …").
  if (upstreams.length === 1) return upstreams[0]!.reason ?? 'unavailable';
  return upstreams.map((u) => `${u.id}: ${u.reason ?? 'unavailable'}`).join('; ');
}
