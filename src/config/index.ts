export { ConfigError, loadConfigFile, parseConfig, publicUrlOf } from './load.js';
export type { Config, ConfigInput, HealthConfig, TenantConfig, TenantQuotas, UpstreamKeyConfig } from './schema.js';
