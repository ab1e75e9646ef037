// A tenant's admission-queue settings: its own (config tenants[].queue) over the top-level
// `queue` defaults. Tenants made with the admin API have no entry in the config: the defaults.
import type { Config } from '../../config/index.js';

export interface TenantQueueSettings {
  admission: 'queue' | 'reject';
  weight: number;
  maxQueued: number | undefined;
  cancelAfterMs: number | undefined;
}

export function queueSettings(config: Config): (tenantId: string) => TenantQueueSettings {
  const defaults = config.queue;
  const byTenant = new Map(
    config.tenants.map((t) => [
      t.id,
      {
        admission: t.queue?.admission ?? defaults.admission,
        weight: t.queue?.weight ?? defaults.weight,
        maxQueued: t.queue?.maxQueued ?? defaults.maxQueued,
        cancelAfterMs: t.queue?.cancelAfterMs ?? defaults.cancelAfterMs,
      } satisfies TenantQueueSettings,
    ]),
  );
  const fallback: TenantQueueSettings = {
    admission: defaults.admission,
    weight: defaults.weight,
    maxQueued: defaults.maxQueued,
    cancelAfterMs: defaults.cancelAfterMs,
  };
  return (tenantId) => byTenant.get(tenantId) ?? fallback;
}

/** The settings of whatever config runs now: rebuilt when a reload replaces it, else the same table. */
export function liveQueueSettings(running: () => Config): (tenantId: string) => TenantQueueSettings {
  let built: { config: Config; of: (tenantId: string) => TenantQueueSettings } | undefined;
  return (tenantId) => {
    const config = running();
    if (built?.config !== config) built = { config, of: queueSettings(config) };
    return built.of(tenantId);
  };
}
