// Reload without a restart (SIGHUP, POST /admin/v1/reload): the config file is read again and
// what can change in place does: tenants (their models, quotas, settings, webhook secret, keys:
// seeded as at start, so the store still wins for tenants changed through the admin API),
// provider keys (added, changed, removed: a removed key still reads the tasks it created),
// prices and the public model aliases. Tasks in flight are not touched. A file that does not
// parse is refused with its error and the running config kept. Sections read once at start
// (where it listens, the store, Redis, the admin token, ops, the log, the provider's URL and
// timeout, key health, callbacks, reconciliation, tasks) keep their running values, and the
// answer names those that differ in the file: they take a restart.
import { DEFAULT_PRICES } from '../pricing/prices.js';
import { aliasTable } from '../providers/market/aliases.js';
import type { Config } from '../config/index.js';
import type { GatewayContext } from './context.js';
import type { KeyPool } from './keypool.js';
import { seedTenants } from './tenants.js';
import type { UpstreamKeySync } from './upstream-keys.js';

export interface ReloadOutcome {
  /** What took effect. */
  applied: string[];
  /** Sections the file changes that take a restart (kept as they run). */
  restartNeeded: string[];
}

/** No file to read again: the gateway was built from an object (tests, the quick start). */
export class ReloadUnavailableError extends Error {
  override readonly name = 'ReloadUnavailableError';
  readonly code = 'RELOAD_UNAVAILABLE' as const;
}

const AT_START = ['listen', 'publicUrl', 'store', 'redis', 'admin', 'ops', 'log', 'callbacks', 'reconcile', 'tasks'] as const;
const UPSTREAM_AT_START = ['baseUrl', 'timeoutMs', 'health', 'keySyncMs', 'probeIntervalMs'] as const;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The next running config: the file's, with the sections read at start kept; and which of those differ. */
export function mergeForReload(running: Config, file: Config): { config: Config; restartNeeded: string[] } {
  const restartNeeded: string[] = [];
  const kept: Record<string, unknown> = {};
  for (const key of AT_START) {
    if (!same(running[key], file[key])) restartNeeded.push(key);
    kept[key] = running[key];
  }
  const upstream: Record<string, unknown> = { ...file.upstream };
  for (const key of UPSTREAM_AT_START) {
    if (!same(running.upstream[key], file.upstream[key])) restartNeeded.push(`upstream.${key}`);
    upstream[key] = running.upstream[key];
  }
  return { config: { ...file, ...kept, upstream } as Config, restartNeeded };
}

/** The config's provider keys into the pool: new and changed ones added, those gone removed. */
function applyConfigKeys(pool: KeyPool, before: Config, after: Config): void {
  for (const key of after.upstream.keys) pool.add(key);
  const kept = new Set(after.upstream.keys.map((k) => k.id));
  for (const key of before.upstream.keys) if (!kept.has(key.id)) pool.remove(key.id);
}

export function createReloader(ctx: GatewayContext, parts: { keySync: UpstreamKeySync; loadConfig?: () => Config | Promise<Config> }) {
  let queue: Promise<unknown> = Promise.resolve();

  async function reload(): Promise<ReloadOutcome> {
    if (!parts.loadConfig) throw new ReloadUnavailableError('this gateway was not started from a config file: nothing to reload');
    // Throws (ConfigError) before anything changed: the running config stays.
    const file = await parts.loadConfig();
    const before = ctx.config;
    const { config, restartNeeded } = mergeForReload(before, file);
    await seedTenants(ctx.store, config.tenants, ctx.clock.now(), { secretOverlapMs: config.callbacks.secretOverlapMs });
    applyConfigKeys(ctx.pool, before, config);
    ctx.config = config;
    await parts.keySync.sync();
    ctx.prices = { ...DEFAULT_PRICES, ...config.prices };
    ctx.aliases = aliasTable(config.compat.aliases);
    ctx.logger.info({ restartNeeded }, 'config reloaded');
    return { applied: ['tenants', 'upstream.keys', 'prices', 'compat'], restartNeeded };
  }

  return {
    /** One reload at a time: a SIGHUP during an admin reload waits for it. */
    reload(): Promise<ReloadOutcome> {
      const next = queue.then(reload, reload);
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

export type Reloader = ReturnType<typeof createReloader>;
