export { ConfigError, loadConfigFile, parseConfig, publicUrlOf } from './load.js';
export { isLoopbackHost, TENANT_SETTING_DEFAULTS, upstreamKey as upstreamKeySchema } from './schema.js';
export type { Config, ConfigInput, HealthConfig, TenantConfig, TenantQuotas, UpstreamKeyConfig } from './schema.js';
