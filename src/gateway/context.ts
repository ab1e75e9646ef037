// What every step of the data path is given. Built once by createGateway from the config and
// the dependencies passed in; handlers receive it rather than importing globals.
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { SpecValidator } from '../spec/validator.js';
import type { Store } from '../store/types.js';
import type { KeyPool } from './keypool.js';
import type { Metrics } from './ops/metrics.js';
import type { UpstreamClient } from './upstream.js';

export interface Clock {
  now(): number;
}

export interface GatewayContext {
  config: Config;
  store: Store;
  upstream: UpstreamClient;
  pool: KeyPool;
  validator: SpecValidator;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
}
