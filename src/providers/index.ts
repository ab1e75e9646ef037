// The providers the gateway can speak to, by the name config `upstreams[].provider` uses. Adding
// one: a folder beside liangxin/ and market/ implementing Provider (types.ts), and its entry here
// (and in names.ts, which the config schema reads).
import type { SpecValidator } from '../spec/validator.js';
import { createLiangxinProvider } from './liangxin/index.js';
import type { AliasTable } from './market/aliases.js';
import { createMarketProvider } from './market/provider.js';
import type { ProviderName } from './names.js';
import type { Provider } from './types.js';

export interface ProviderDeps {
  /** LiangXin's contract, compiled (the gateway's own validator). */
  validator: SpecValidator;
  /** The public dialect's alias table (config `compat.aliases` over the built-in one). */
  aliases: AliasTable;
}

const FACTORIES: Readonly<Record<ProviderName, (deps: ProviderDeps) => Provider>> = {
  liangxin: (deps) => createLiangxinProvider({ validator: deps.validator }),
  market: (deps) => createMarketProvider({ aliases: deps.aliases }),
};

/** One instance per provider name, built on first use (the Market contract compiles only when used). */
export function createProviders(deps: ProviderDeps): (name: ProviderName) => Provider {
  const built = new Map<ProviderName, Provider>();
  return (name) => {
    let provider = built.get(name);
    if (!provider) {
      provider = FACTORIES[name](deps);
      built.set(name, provider);
    }
    return provider;
  };
}

export type { Provider } from './types.js';
