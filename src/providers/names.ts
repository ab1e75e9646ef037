// The provider dialects an upstream may speak (config `upstreams[].provider`). Kept apart from
// index.ts so the config schema can name them without loading any provider.
export const PROVIDER_NAMES = ['liangxin', 'market'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];
