// The upstreams a gateway speaks to, each with its provider (src/providers/), its connection
// pool and its own key pool; and the routing of a model over them: the upstreams that serve it,
// healthy ones first, cheapest first (the price table × each upstream's priceFactor; the table
// is the same for all, so its factor orders them), config order breaking ties. A task names the
// upstream it was sent to (migration 0008), so its reads and callbacks go back there; a task from
// before has none and belongs to the upstream that holds its key (else the first).
import type { UpstreamConfig } from '../config/index.js';
import type { components } from '../generated/gateway.js';
import type { ProviderName } from '../providers/names.js';
import type { AliasTable } from '../providers/market/aliases.js';
import { liangxinModelOf } from '../providers/market/translate.js';
import type { Provider } from '../providers/types.js';
import type { KeyCandidate } from '../quota/types.js';
import { createKeyPool, type KeyPool, type KeyStatus } from './keypool.js';
import { createUpstreamClient, type UpstreamClient } from './upstream.js';

export interface Upstream {
  readonly id: string;
  readonly provider: Provider;
  readonly client: UpstreamClient;
  /** The same connection pool without tracing: the readiness probe's calls belong to no task's trace. */
  readonly untracedClient: UpstreamClient;
  readonly pool: KeyPool;
  readonly priceFactor: number;
  /** /readyz re-probes it when its last answer is older than this (ops/probe.ts). */
  readonly probeIntervalMs: number;
  /** The LiangXin models it was configured to serve; null: all its provider can express. */
  readonly models: ReadonlySet<string> | null;
  /** Whether it serves this (LiangXin) model. */
  serves(model: string): boolean;
  /** The HMAC key of one of its keys, for callback signatures. */
  hmacKeyOf(keyId: string): string | undefined;
}

/** One upstream's health, for /readyz, metrics and the admin API (never a secret): the contract's UpstreamStatus. */
export type UpstreamHealth = components['schemas']['UpstreamStatus'] & { keys: KeyStatus[] };

export interface UpstreamsDeps {
  provider(name: ProviderName): Provider;
  aliases: AliasTable;
  now(): number;
  /** Tests and benchmarks may call upstreams their own way. */
  client?(config: UpstreamConfig, provider: Provider): UpstreamClient;
  /** Wraps each upstream's client (tracing: ops/tracing.ts). */
  wrap?(client: UpstreamClient): UpstreamClient;
}

function build(config: UpstreamConfig, deps: UpstreamsDeps): Upstream {
  const provider = deps.provider(config.provider);
  const untracedClient = deps.client?.(config, provider) ?? createUpstreamClient({ baseUrl: config.baseUrl, timeoutMs: config.timeoutMs, provider });
  const client = deps.wrap?.(untracedClient) ?? untracedClient;
  // Models may be written in either dialect; routing compares LiangXin ids.
  const models = config.models ? new Set(config.models.map((m) => liangxinModelOf(m, deps.aliases))) : null;
  const pool = createKeyPool(config.keys, config.health, deps.now);
  return {
    id: config.id,
    provider,
    client,
    untracedClient,
    pool,
    priceFactor: config.priceFactor,
    probeIntervalMs: config.probeIntervalMs,
    models,
    serves: (model) => provider.serves(model) && (models === null || models.has(model)),
    // The pool's: keys added through the admin API carry theirs too.
    hmacKeyOf: (keyId) => pool.hmacKeyOf(keyId),
  };
}

export interface KeyChoices {
  choices: Array<{ upstream: Upstream; keys: KeyCandidate[] }>;
  reasons: string[];
  retryAfterMs: number;
}

export function healthOf(upstream: Upstream): UpstreamHealth {
  const keys = upstream.pool.status();
  const healthy = upstream.pool.hasUsableKey();
  const reason = healthy
    ? null
    : upstream.pool.inMaintenance()
      ? 'provider in maintenance'
      : `no usable key: ${keys.map((k) => `${k.id}: ${k.state}`).join(', ')}`;
  return {
    id: upstream.id,
    provider: upstream.provider.name,
    priceFactor: upstream.priceFactor,
    models: upstream.models ? [...upstream.models] : null,
    healthy,
    reason,
    keys,
  };
}

export function createUpstreams(configs: readonly UpstreamConfig[], deps: UpstreamsDeps) {
  const list = configs.map((config) => build(config, deps));
  const byId = new Map(list.map((u) => [u.id, u]));
  const byKey = new Map(list.flatMap((u) => u.pool.status().map((k) => [k.id, u] as const)));
  // Cheapest first, config order breaking ties; health is looked at per call.
  const byPrice = [...list].sort((a, b) => a.priceFactor - b.priceFactor);

  /** The upstreams that serve a model: healthy ones first, each group cheapest first. */
  function route(model: string): Upstream[] {
    const serving = byPrice.filter((u) => u.serves(model));
    const healthy = serving.filter((u) => u.pool.hasUsableKey());
    return healthy.length === serving.length ? serving : [...healthy, ...serving.filter((u) => !healthy.includes(u))];
  }

  return {
    list: list as readonly Upstream[],
    byId: (id: string) => byId.get(id),
    /** The upstream a task was sent to; undefined when the config no longer has it. */
    ofTask(row: { upstreamId?: string | null; upstreamKeyId: string }): Upstream | undefined {
      if (row.upstreamId) return byId.get(row.upstreamId);
      return byKey.get(row.upstreamKeyId) ?? list[0];
    },
    route,
    /**
     * The model's upstreams in routing order with the keys each could send with now (for the
     * pacing step to pick from), and, for those with none, why (named by upstream once there are
     * several) and the soonest a key may be back.
     */
    keyChoices(model: string): KeyChoices {
      const choices: KeyChoices['choices'] = [];
      const reasons: string[] = [];
      let soonest = Infinity;
      for (const upstream of route(model)) {
        const candidates = upstream.pool.candidates();
        if (candidates.keys.length > 0) choices.push({ upstream, keys: candidates.keys });
        else {
          reasons.push(...candidates.reasons.map((r) => (list.length > 1 ? `${upstream.id}: ${r}` : r)));
          soonest = Math.min(soonest, candidates.retryAfterMs);
        }
      }
      return { choices, reasons, retryAfterMs: soonest === Infinity ? 0 : soonest };
    },
    /** Every upstream's health (readiness: ready while any can serve). */
    health: (): UpstreamHealth[] => list.map(healthOf),
    async close(): Promise<void> {
      await Promise.all(list.map((u) => u.client.close()));
    },
  };
}

export type Upstreams = ReturnType<typeof createUpstreams>;
