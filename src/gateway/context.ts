// What every step of the data path is given. Built once by createGateway from the config and
// the dependencies passed in; handlers receive it rather than importing globals.
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { PriceTable } from '../pricing/prices.js';
import type { AliasTable } from '../providers/market/aliases.js';
import type { QuotaBackend } from '../quota/types.js';
import type { SpecValidator } from '../spec/validator.js';
import type { Store, TenantQueueOwn } from '../store/types.js';
import type { Metrics } from './ops/metrics.js';
import type { Upstreams } from './upstreams.js';
import type { CallbackUrlGuard } from './callbacks/ssrf.js';
import type { TenantQueueSettings } from './queue/settings.js';
import type { Tracing } from './ops/tracing.js';
import type { ResultCopies } from './results/types.js';

export interface Clock {
  now(): number;
}

export interface GatewayContext {
  config: Config;
  store: Store;
  /** The upstreams (each its provider, connections and key pool) and the routing over them. */
  upstreams: Upstreams;
  validator: SpecValidator;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  quota: QuotaBackend;
  /**
   * In-process signals between parts: `delivery` (a callback was enqueued), `task` (records.ts
   * stored a change of a task: row, record), `copy` (a result copy is due), `copied` (a copy was
   * made or given up: taskId).
   */
  events: EventEmitter;
  /** The origin tenants and the provider reach this gateway at (known once it listens). */
  publicUrl(): string;
  callbackGuard: CallbackUrlGuard;
  prices: PriceTable;
  /** Result copies (gateway/results/), when `results.enabled`: what a final record shows of them. */
  results?: ResultCopies;
  /** The public Market dialect's model ids and fields (built-in table, config `compat.aliases` over it). */
  aliases: AliasTable;
  /** A tenant's admission-queue settings from its own, as stored with it (queue/settings.ts). */
  queueSettings(own: TenantQueueOwn | undefined): TenantQueueSettings;
  /** OpenTelemetry spans (ops/tracing.ts); does nothing unless `tracing` is configured. */
  tracing: Tracing;
}
