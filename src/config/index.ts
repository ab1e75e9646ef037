export { ConfigError, loadConfigFile, parseConfig, publicUrlOf } from './load.js';
export type { Config, ConfigInput, HealthConfig, TenantConfig, UpstreamKeyConfig } from './schema.js';
