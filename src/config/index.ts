export { ConfigError, loadConfigFile, parseConfig, publicUrlOf } from './load.js';
export { isLoopbackHost, TENANT_SETTING_DEFAULTS, tenantQueue as tenantQueueSchema, upstreamKey as upstreamKeySchema } from './schema.js';
export type { Config, ConfigInput, HealthConfig, TenantConfig, TenantQuotas, UpstreamConfig, UpstreamKeyConfig } from './schema.js';
export { DEFAULT_UPSTREAM_ID, upstreamsOf } from './upstreams.js';
