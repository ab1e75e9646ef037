// Every scenario measured, in table order. The first is the baseline of added latency, the
// second the floor of the throughput ratio (measure.ts looks them up by id). The gateway on
// Redis quotas and PostgreSQL records joins this list with the Redis/PostgreSQL work.
import { gatewayEmbedded } from './gateway-embedded.js';
import { bareProxy } from './proxy.js';
import type { Scenario } from './types.js';
import { upstreamAlone } from './upstream.js';

export const BASELINE = 'upstream';
export const FLOOR = 'proxy';

export const SCENARIOS: readonly Scenario[] = [upstreamAlone, bareProxy, gatewayEmbedded];
