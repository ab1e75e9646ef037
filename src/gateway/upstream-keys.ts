// Provider keys managed through the admin API, merged with the config's: the store keeps the
// keys added there (with their secret and the upstream they belong to) and the operator's
// disabled/removed marks on any key; each instance applies them to its upstreams' key pools at
// start, every `keySyncMs` of the first upstream, and at once after a change it made itself. A
// config key has no row until the operator disables it. Key ids are unique across upstreams.
import { upstreamKeySchema, upstreamsOf, type Config } from '../config/index.js';
import type { Store, UpstreamKeyRow } from '../store/types.js';
import type { Upstreams } from './upstreams.js';

/** The upstream a stored key belongs to: its own, else the first (a config with one `upstream:`). */
export const upstreamOfRow = (row: Pick<UpstreamKeyRow, 'upstreamId'>, config: Config): string => row.upstreamId ?? upstreamsOf(config)[0]!.id;

/** The config entry of a key, with the upstream that lists it; undefined for keys added through the API. */
export function configKeyOf(config: Config, keyId: string): { upstreamId: string } | undefined {
  for (const upstream of upstreamsOf(config)) if (upstream.keys.some((k) => k.id === keyId)) return { upstreamId: upstream.id };
  return undefined;
}

/** Brings every upstream's pool in line with the store's rows (config keys without a row are enabled). */
export function applyUpstreamKeys(upstreams: Pick<Upstreams, 'byId'>, config: Config, rows: readonly UpstreamKeyRow[]): void {
  const marked = new Set<string>();
  for (const row of rows) {
    marked.add(row.id);
    const configured = configKeyOf(config, row.id);
    const upstream = upstreams.byId(configured?.upstreamId ?? upstreamOfRow(row, config));
    // A key of an upstream no longer configured: nothing to apply it to.
    if (!upstream) continue;
    if (row.apiKey !== null && !configured) {
      // Through the config's schema: a column left null gets the config's default.
      upstream.pool.add(
        upstreamKeySchema.parse({
          id: row.id,
          apiKey: row.apiKey,
          ...(row.webhookHmacKey !== null && { webhookHmacKey: row.webhookHmacKey }),
          ...(row.createPer10s !== null && { createPer10s: row.createPer10s }),
          ...(row.recordInfoPerSecond !== null && { recordInfoPerSecond: row.recordInfoPerSecond }),
        }),
      );
      if (row.removedAt !== null) upstream.pool.remove(row.id);
    }
    upstream.pool.setDisabled(row.id, row.disabled);
  }
  for (const entry of upstreamsOf(config)) {
    const pool = upstreams.byId(entry.id)?.pool;
    for (const key of entry.keys) if (!marked.has(key.id)) pool?.setDisabled(key.id, false);
  }
}

export function createUpstreamKeySync(store: Store, upstreams: Pick<Upstreams, 'byId'>, config: () => Config) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const sync = async () => applyUpstreamKeys(upstreams, config(), await store.listUpstreamKeys());
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
