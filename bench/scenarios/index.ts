// Every scenario measured, in table order. The first is the baseline of added latency; the bare
// proxy is the floor of the throughput ratio (measure.ts looks them up by id), nginx a second
// floor beside it. A scenario whose services are missing (nginx, or Redis and PostgreSQL) is
// skipped with its reason, not measured.
import { gatewayEmbedded } from './gateway-embedded.js';
import { gatewayRedisPg } from './gateway-redis-pg.js';
import { nginxProxy } from './nginx.js';
import { bareProxy } from './proxy.js';
import type { Scenario } from './types.js';
import { upstreamAlone } from './upstream.js';

export const BASELINE = 'upstream';
export const FLOOR = 'proxy';

export const SCENARIOS: readonly Scenario[] = [upstreamAlone, nginxProxy, bareProxy, gatewayEmbedded, gatewayRedisPg];
