// Provider keys managed through the admin API, merged with the config's: the store keeps the
// keys added there (with their secret) and the operator's disabled/removed marks on any key;
// each instance applies them to its key pool at start, every `upstream.keySyncMs`, and at once
// after a change it made itself. A config key has no row until the operator disables it.
import { upstreamKeySchema, type Config } from '../config/index.js';
import type { Store, UpstreamKeyRow } from '../store/types.js';
import type { KeyPool } from './keypool.js';

/** Brings the pool in line with the store's rows (config keys without a row are enabled). */
export function applyUpstreamKeys(pool: KeyPool, config: Config, rows: readonly UpstreamKeyRow[]): void {
  const configIds = new Set(config.upstream.keys.map((k) => k.id));
  const marked = new Set<string>();
  for (const row of rows) {
    marked.add(row.id);
    if (row.apiKey !== null && !configIds.has(row.id)) {
      // Through the config's schema: a column left null gets the config's default.
      pool.add(
        upstreamKeySchema.parse({
          id: row.id,
          apiKey: row.apiKey,
          ...(row.webhookHmacKey !== null && { webhookHmacKey: row.webhookHmacKey }),
          ...(row.createPer10s !== null && { createPer10s: row.createPer10s }),
          ...(row.recordInfoPerSecond !== null && { recordInfoPerSecond: row.recordInfoPerSecond }),
        }),
      );
      if (row.removedAt !== null) pool.remove(row.id);
    }
    pool.setDisabled(row.id, row.disabled);
  }
  for (const id of configIds) if (!marked.has(id)) pool.setDisabled(id, false);
}

export function createUpstreamKeySync(store: Store, pool: KeyPool, config: () => Config) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const sync = async () => applyUpstreamKeys(pool, config(), await store.listUpstreamKeys());
  return {
    sync,
    /** Re-reads on an interval; a failed read is logged by the caller's onError and retried next time. */
    start(intervalMs: number, onError: (error: unknown) => void): void {
      const tick = () => {
        if (stopped) return;
        sync()
          .catch(onError)
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, intervalMs).unref();
          });
      };
      timer = setTimeout(tick, intervalMs).unref();
    },
    stop(): void {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export type UpstreamKeySync = ReturnType<typeof createUpstreamKeySync>;
