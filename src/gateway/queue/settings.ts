// A tenant's admission-queue settings: its own (config tenants[].queue, or the admin API's
// `queue`; both stored with its other settings, tenants.settings) over the running config's
// top-level `queue` defaults. Read where the tenant's row already is: createTask from its key's
// principal (the key cache is cleared on every tenant change), the dispatcher from the tenant
// list it re-reads every queue.pollIntervalMs; so a change applies without a restart.
import type { Config } from '../../config/index.js';
import type { TenantQueueOwn } from '../../store/types.js';

export interface TenantQueueSettings {
  admission: 'queue' | 'reject';
  weight: number;
  maxQueued: number | undefined;
  cancelAfterMs: number | undefined;
}

function queueSettingsOf(defaults: Config['queue'], own: TenantQueueOwn | undefined): TenantQueueSettings {
  return {
    admission: own?.admission ?? defaults.admission,
    weight: own?.weight ?? defaults.weight,
    maxQueued: own?.maxQueued ?? defaults.maxQueued,
    cancelAfterMs: own?.cancelAfterMs ?? defaults.cancelAfterMs,
  };
}

/** Over the defaults of whatever config runs now (a reload replaces them). */
export function liveQueueSettings(running: () => Config): (own: TenantQueueOwn | undefined) => TenantQueueSettings {
  return (own) => queueSettingsOf(running().queue, own);
}
