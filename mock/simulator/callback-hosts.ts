// Where the simulator may deliver a callback: by default to this machine only. It plays the
// provider offline, and real clients of the public API default callBackUrl to the provider's own
// callback host: a simulator that posted wherever it was told would have a development setup
// reach out to the internet, and to someone else's server, on every task. Other hosts are
// delivered to only when named (allowCallbackHosts, `simulate --allow-callback-host`).
import { isLoopbackHost } from '../../src/config/schema.js';

/** In allowCallbackHosts: deliver anywhere, as the real provider does. */
export const ANY_CALLBACK_HOST = '*';

export interface CallbackHostPolicy {
  /** Why a callback to `url` is not sent; undefined when it may be. */
  refusal(url: string): string | undefined;
}

/** `[::1]` and `::1`, `Example.org` and `example.org` name the same host. */
const bare = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase();

export function createCallbackHostPolicy(allowHosts: readonly string[] = []): CallbackHostPolicy {
  const allowed = new Set(allowHosts.map(bare));
  const anywhere = allowed.has(ANY_CALLBACK_HOST);
  return {
    refusal(url) {
      let host: string;
      try {
        host = bare(new URL(url).hostname);
      } catch {
        return 'callBackUrl is not a URL';
      }
      if (anywhere || isLoopbackHost(host) || allowed.has(host)) return undefined;
      return `${host} is not this machine: the simulator delivers callbacks to loopback only, unless told otherwise (simulate --allow-callback-host ${host}, or the allowCallbackHosts option)`;
    },
  };
}
