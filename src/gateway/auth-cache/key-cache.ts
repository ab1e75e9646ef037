// Tenant keys already looked up, by their SHA-256, in this process: the store's key-and-tenant
// lookup was about a seventh of a request's CPU, and its quotas and settings were decoded again
// on every call. An entry lives until tenants or keys change anywhere (bus.ts clears it on every
// instance), its age reaches the configured ceiling (a writer that bypasses the gateway, e.g.
// SQL typed by hand), or the cache is full. A lookup that raced with a change is not kept: the
// generation it started in must still be current when it ends.
import type { KeyLookup } from '../../store/types.js';

export interface CachedKey<P> {
  found: KeyLookup;
  /** What the authenticator built from it once (the principal, quotas and settings decoded). */
  principal: P;
}

export interface KeyCacheOptions {
  /** How long an entry may be served, in ms; 0 turns the cache off. */
  maxAgeMs: number;
  /** Entries kept at most (unknown keys are never kept, so a scan cannot grow it). */
  maxEntries?: number;
  now: () => number;
}

const DEFAULT_MAX_ENTRIES = 10_000;

export function createKeyCache<P>(options: KeyCacheOptions) {
  const entries = new Map<string, CachedKey<P> & { at: number }>();
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  let generation = 0;

  return {
    enabled: options.maxAgeMs > 0,

    /** The generation a lookup starts in: pass it to `set`. */
    generation: () => generation,

    get(hash: string): CachedKey<P> | undefined {
      const entry = entries.get(hash);
      if (!entry) return undefined;
      if (options.now() - entry.at >= options.maxAgeMs) {
        entries.delete(hash);
        return undefined;
      }
      return entry;
    },

    /** Keeps a lookup made in `startedIn`, unless a change came meanwhile. */
    set(hash: string, startedIn: number, value: CachedKey<P>): void {
      if (options.maxAgeMs <= 0 || startedIn !== generation) return;
      // The oldest insertion goes first (Map keeps insertion order): enough for a bounded cache.
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(hash, { ...value, at: options.now() });
    },

    /** Tenants or keys changed: nothing kept is trusted any more. */
    clear(): void {
      generation += 1;
      entries.clear();
    },

    size: () => entries.size,
  };
}

export type KeyCache<P> = ReturnType<typeof createKeyCache<P>>;
