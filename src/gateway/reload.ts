// Reload without a restart (SIGHUP, POST /admin/v1/reload): the config file is read again and
// what can change in place does: tenants (their models, quotas, settings, webhook secret, keys:
// seeded as at start, so the store still wins for tenants changed through the admin API),
// provider keys (added, changed, removed: a removed key still reads the tasks it created),
// prices and the public model aliases. Tasks in flight are not touched. A file that does not
// parse is refused with its error and the running config kept. Sections read once at start
// (where it listens, the store, Redis, the admin token, ops, the log, each upstream but its keys,
// callbacks, reconciliation, tasks) keep their running values, and the
// answer names those that differ in the file: they take a restart.
import { DEFAULT_PRICES } from '../pricing/prices.js';
import { aliasTable } from '../providers/market/aliases.js';
import { upstreamsOf, type Config, type UpstreamConfig } from '../config/index.js';
import type { GatewayContext } from './context.js';
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

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** An upstream's entry without its keys: everything but the keys is read at start. */
const withoutKeys = ({ keys: _keys, ...rest }: UpstreamConfig) => rest;

/**
 * The running upstreams with the file's keys: keys change in place; anything else about an
 * upstream (its URL, provider, models, price factor, health, and which upstreams there are) is
 * read at start and named in restartNeeded when the file changes it.
 */
function mergeUpstreams(running: Config, file: Config, restartNeeded: string[]): Pick<Config, 'upstream' | 'upstreams'> {
  const section = running.upstreams ? 'upstreams' : 'upstream';
  const fileEntries = new Map(upstreamsOf(file).map((u) => [u.id, u]));
  const keysOf = (entry: UpstreamConfig) => {
    const inFile = fileEntries.get(entry.id);
    if (!inFile) return entry.keys;
    if (!same(withoutKeys(entry), withoutKeys(inFile))) restartNeeded.push(`${section}.${entry.id}`);
    return inFile.keys;
  };
  const runningIds = upstreamsOf(running).map((u) => u.id);
  if (!same(runningIds, [...fileEntries.keys()]) || Boolean(file.upstreams) !== Boolean(running.upstreams)) restartNeeded.push(section);
  if (running.upstreams) return { upstream: running.upstream, upstreams: running.upstreams.map((u) => ({ ...u, keys: keysOf(u) })) };
  const only = upstreamsOf(running)[0]!;
  return { upstream: { ...running.upstream!, keys: keysOf(only) }, upstreams: undefined };
}

/** The next running config: the file's, with the sections read at start kept; and which of those differ. */
export function mergeForReload(running: Config, file: Config): { config: Config; restartNeeded: string[] } {
  const restartNeeded: string[] = [];
  const kept: Record<string, unknown> = {};
  for (const key of AT_START) {
    if (!same(running[key], file[key])) restartNeeded.push(key);
    kept[key] = running[key];
  }
  const upstreams = mergeUpstreams(running, file, restartNeeded);
  return { config: { ...file, ...kept, ...upstreams } as Config, restartNeeded };
}

/** The config's provider keys into each upstream's pool: new and changed ones added, those gone removed. */
function applyConfigKeys(ctx: GatewayContext, before: Config, after: Config): void {
  const previous = new Map(upstreamsOf(before).map((u) => [u.id, u]));
  for (const entry of upstreamsOf(after)) {
    const pool = ctx.upstreams.byId(entry.id)?.pool;
    if (!pool) continue;
    for (const key of entry.keys) pool.add(key);
    const kept = new Set(entry.keys.map((k) => k.id));
    for (const key of previous.get(entry.id)?.keys ?? []) if (!kept.has(key.id)) pool.remove(key.id);
  }
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
    applyConfigKeys(ctx, before, config);
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
