// The upstreams a config names, as one list: `upstreams` as written, or the `upstream` shorthand
// as a single LiangXin entry with id `default` (the upstream of every task recorded before tasks
// named theirs, migration 0008).
import type { Config, UpstreamConfig } from './schema.js';

export const DEFAULT_UPSTREAM_ID = 'default';

export function upstreamsOf(config: Pick<Config, 'upstream' | 'upstreams'>): readonly UpstreamConfig[] {
  if (config.upstreams) return config.upstreams;
  if (!config.upstream) return [];
  return [{ id: DEFAULT_UPSTREAM_ID, provider: 'liangxin', priceFactor: 1, ...config.upstream }];
}
