// The SSRF guard for tenants' callback URLs. The gateway POSTs to a tenant's `callBackUrl` from
// inside the operator's network, so that URL must never reach anything private: loopback, the
// private ranges, link-local (and the cloud metadata services that live there), CGNAT, multicast,
// reserved and documentation ranges, in IPv4 and IPv6 and every IPv6 form that embeds an IPv4.
//
// It is checked twice: `checkUrl` at createTask (a clear refusal, 422 with the field), and
// `lookupForConnect` at each delivery, on the address the socket actually connects to. The second
// check is the one that matters against DNS rebinding: a name may resolve to a public address when
// createTask is checked and to 127.0.0.1 a minute later, when the delivery connects.
import type * as dns from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, isIPv6, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';

export type CallbackUrlErrorCode = 'BAD_URL' | 'SCHEME' | 'CREDENTIALS' | 'BLOCKED_ADDRESS' | 'UNRESOLVABLE';

/** A refused callback URL (or a refused connection to one). The message names the reason and is safe to show the tenant. */
export class CallbackUrlError extends Error {
  override readonly name = 'CallbackUrlError';
  readonly code: CallbackUrlErrorCode;

  constructor(code: CallbackUrlErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a name resolves to. Throws (or returns none) when the name does not resolve. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface CallbackUrlGuardOptions {
  /** Allow `http:` as well as `https:` (local development only). */
  allowHttp: boolean;
  /**
   * Host names or IP literals let through even when private (local development: `localhost`,
   * `127.0.0.1`). Names match the URL's host exactly; an IP literal also allows that address when a
   * name resolves to it. The scheme and credentials checks still apply.
   */
  allowHosts: string[];
  /** Defaults to the system resolver (`dns.lookup`, every address, in the order it answers). */
  resolver?: Resolver;
}

export interface CallbackUrlGuard {
  /** Resolves when the URL may be used as a callback; throws CallbackUrlError when not. */
  checkUrl(url: string): Promise<void>;
  /** The name of the blocked class `ip` falls in, or undefined for an address that may be called. */
  isBlockedAddress(ip: string): string | undefined;
  /**
   * A `lookup` for `net.connect` / undici's `connect.lookup`: resolves through the same resolver and
   * fails with a CallbackUrlError when any address is blocked (unless allowed), so the address the
   * socket connects to is the one that was checked. IP literals are checked without resolving.
   */
  lookupForConnect: LookupFunction;
}

const defaultResolver: Resolver = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

// ---------------------------------------------------------------------------------------------
// Address classes. Membership is answered by node:net BlockList (one per class, so the refusal can
// name the class); the only hand-written part is reading the IPv4 address embedded in some IPv6
// forms, which BlockList cannot extract. Order matters: the first match names the class, so the
// narrow names (cloud metadata, broadcast) come before the ranges that contain them.

interface AddressClass {
  name: string;
  list: BlockList;
}

function addressClass(name: string, family: 'ipv4' | 'ipv6', cidrs: string[]): AddressClass {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefix] = cidr.split('/') as [string, string | undefined];
    list.addSubnet(network, Number(prefix ?? (family === 'ipv4' ? 32 : 128)), family);
  }
  return { name, list };
}

const IPV4_CLASSES: AddressClass[] = [
  // Metadata services (AWS/GCP/Azure/OpenStack, AWS ECS task metadata, Alibaba Cloud): already inside
  // link-local and CGNAT below, named apart so the refusal and the logs say what was aimed at.
  addressClass('cloud metadata', 'ipv4', ['169.254.169.254/32', '169.254.170.2/32', '100.100.100.200/32']),
  addressClass('broadcast', 'ipv4', ['255.255.255.255/32']),
  addressClass('this-network', 'ipv4', ['0.0.0.0/8']),
  addressClass('private', 'ipv4', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']),
  addressClass('loopback', 'ipv4', ['127.0.0.0/8']),
  addressClass('link-local', 'ipv4', ['169.254.0.0/16']),
  addressClass('CGNAT', 'ipv4', ['100.64.0.0/10']),
  addressClass('multicast', 'ipv4', ['224.0.0.0/4']),
  addressClass('reserved', 'ipv4', ['240.0.0.0/4']),
  addressClass('IETF protocol assignment', 'ipv4', ['192.0.0.0/24']),
  addressClass('benchmarking', 'ipv4', ['198.18.0.0/15']),
  addressClass('documentation', 'ipv4', ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24']),
  // Deprecated (RFC 7526): nothing legitimate answers there any more, and a relay may be internal.
  addressClass('6to4 relay anycast', 'ipv4', ['192.88.99.0/24']),
];

const IPV6_CLASSES: AddressClass[] = [
  addressClass('cloud metadata', 'ipv6', ['fd00:ec2::254/128']), // AWS IMDS over IPv6 (inside fc00::/7)
  addressClass('unspecified', 'ipv6', ['::/128']),
  addressClass('loopback', 'ipv6', ['::1/128']),
  addressClass('link-local', 'ipv6', ['fe80::/10']),
  addressClass('site-local', 'ipv6', ['fec0::/10']), // deprecated, still routed inside some networks
  addressClass('unique local', 'ipv6', ['fc00::/7']),
  addressClass('multicast', 'ipv6', ['ff00::/8']),
  addressClass('documentation', 'ipv6', ['2001:db8::/32', '3fff::/20']),
  // Local-use NAT64 (RFC 8215): the operator decides how the IPv4 address is embedded, so it cannot
  // be read back reliably; refused whole.
  addressClass('NAT64 local-use', 'ipv6', ['64:ff9b:1::/48']),
  // Teredo tunnels to an (obfuscated) IPv4 address through a relay: refused whole rather than trusted.
  addressClass('Teredo', 'ipv6', ['2001::/32']),
  addressClass('discard-only', 'ipv6', ['100::/64']),
  // Everything outside global unicast is reserved, so anything not named above is refused too.
  // (The IPv4-embedding forms under ::/8 are read before this list is consulted.)
  addressClass('non-global IPv6', 'ipv6', ['::/3', '4000::/2', '8000::/1']),
];

/** The eight 16-bit groups of a valid IPv6 address (no zone), a trailing dotted IPv4 included. */
function ipv6Groups(ip: string): number[] {
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  if (rest === undefined) return front;
  const back = parse(rest);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

function ipv4From(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** The IPv4 address an IPv6 address stands for, when it is one of the forms that carry one. */
function embeddedIpv4(groups: number[]): { form: string; ipv4: string } | undefined {
  const g = (i: number) => groups[i] ?? 0;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g(5) === 0xffff) return { form: 'IPv4-mapped', ipv4: ipv4From(g(6), g(7)) };
  // SIIT's IPv4-translated form (RFC 2765), ::ffff:0:a.b.c.d.
  if (zeros(0, 4) && g(4) === 0xffff && g(5) === 0) return { form: 'IPv4-translated', ipv4: ipv4From(g(6), g(7)) };
  // IPv4-compatible (deprecated); :: and ::1 are not IPv4 and are named by the IPv6 list.
  if (zeros(0, 6) && !(g(6) === 0 && g(7) <= 1)) return { form: 'IPv4-compatible', ipv4: ipv4From(g(6), g(7)) };
  if (g(0) === 0x64 && g(1) === 0xff9b && zeros(2, 6)) return { form: 'NAT64', ipv4: ipv4From(g(6), g(7)) };
  if (g(0) === 0x2002) return { form: '6to4', ipv4: ipv4From(g(1), g(2)) };
  return undefined;
}

interface BlockedClass {
  name: string;
  /** For an IPv6 form that embeds an IPv4 address: the form, and that address (which decided). */
  embedded?: { form: string; ipv4: string };
}

function classify(ip: string): BlockedClass | undefined {
  // A zone (fe80::1%eth0) may come back from the resolver; it does not change the address class.
  const address = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip;
  const family = isIP(address);
  const named = (name: string | undefined) => (name === undefined ? undefined : { name });
  if (family === 4) return named(IPV4_CLASSES.find((c) => c.list.check(address, 'ipv4'))?.name);
  if (family !== 6) return { name: 'not an IP' };
  const embedded = embeddedIpv4(ipv6Groups(address));
  if (embedded) {
    // The connection really goes to the embedded IPv4 address (mapped sockets, NAT64 and 6to4
    // gateways), so that address decides; a public one is as acceptable as it is in IPv4.
    const inner = classify(embedded.ipv4);
    return inner === undefined ? undefined : { name: inner.name, embedded };
  }
  return named(IPV6_CLASSES.find((c) => c.list.check(address, 'ipv6'))?.name);
}

/** The blocked class `ip` falls in (naming an embedded IPv4 address that decided), or undefined. Anything not an IP is blocked. */
export function blockedAddressClass(ip: string): string | undefined {
  const found = classify(ip);
  if (!found?.embedded) return found?.name;
  return `${found.name} (${found.embedded.form} ${found.embedded.ipv4})`;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) && !/^uni/i.test(word) ? 'an' : 'a';
}

/** The class, never the address: tenants read this, and what a name resolves to inside the operator's network is not theirs to learn. */
function blockedMessage(what: string, found: BlockedClass): string {
  return `${what} ${article(found.name)} ${found.name} address${found.embedded ? ` (${found.embedded.form})` : ''}`;
}

/** A host as WHATWG URL writes it (lower case, punycode, canonical IP literals), without IPv6 brackets. */
function canonicalHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  try {
    return stripBrackets(new URL(`http://${isIPv6(bare) ? `[${bare}]` : bare}/`).hostname);
  } catch {
    return bare.toLowerCase();
  }
}

function stripBrackets(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

function familyWanted(family: dns.LookupOptions['family']): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

export function createCallbackUrlGuard(options: CallbackUrlGuardOptions): CallbackUrlGuard {
  const resolver = options.resolver ?? defaultResolver;
  const allowedHosts = new Set(options.allowHosts.map(canonicalHost));

  /** Blocked class of a resolved or literal address, unless that address is itself allowed. */
  function refusal(ip: string): BlockedClass | undefined {
    if (allowedHosts.has(canonicalHost(ip))) return undefined;
    return classify(ip);
  }

  async function resolveAll(host: string): Promise<ResolvedAddress[]> {
    if (isIP(host)) return [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
    let answers: ResolvedAddress[];
    try {
      answers = await resolver(host);
    } catch (error) {
      const code = (error as { code?: unknown })?.code;
      throw new CallbackUrlError('UNRESOLVABLE', `callBackUrl host ${host} does not resolve${typeof code === 'string' ? ` (${code})` : ''}`);
    }
    if (answers.length === 0) throw new CallbackUrlError('UNRESOLVABLE', `callBackUrl host ${host} does not resolve`);
    return answers;
  }

  /** Every address checked, not only the first: the client may connect to any of them. */
  function checkAddresses(addresses: ResolvedAddress[], what: string): void {
    for (const { address } of addresses) {
      const found = refusal(address);
      if (found !== undefined) throw new CallbackUrlError('BLOCKED_ADDRESS', blockedMessage(what, found));
    }
  }

  async function checkUrl(raw: string): Promise<void> {
    let url: URL;
    try {
      // WHATWG URL also normalises odd IPv4 spellings (0x7f.1, 2130706433, 0177.0.0.1 → 127.0.0.1),
      // so the checks below only ever see canonical literals.
      url = new URL(raw);
    } catch {
      throw new CallbackUrlError('BAD_URL', 'callBackUrl is not a valid absolute URL');
    }
    if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) {
      throw new CallbackUrlError('SCHEME', `callBackUrl must use ${options.allowHttp ? 'https or http' : 'https'}, not ${url.protocol.replace(/:$/, '')}`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new CallbackUrlError('CREDENTIALS', 'callBackUrl must not contain a user name or password');
    }
    const host = stripBrackets(url.hostname);
    if (host === '') throw new CallbackUrlError('BAD_URL', 'callBackUrl has no host');
    if (allowedHosts.has(host)) return;
    if (isIP(host)) {
      checkAddresses([{ address: host, family: isIP(host) === 6 ? 6 : 4 }], 'callBackUrl points to');
      return;
    }
    checkAddresses(await resolveAll(host), 'callBackUrl resolves to');
  }

  const lookupForConnect: LookupFunction = (hostname, lookupOptions, callback) => {
    const host = canonicalHost(hostname);
    const wanted = familyWanted(lookupOptions.family);
    const decided = resolveAll(host).then((addresses) => {
      if (!allowedHosts.has(host)) checkAddresses(addresses, `callBackUrl host ${host} resolves at connect time to`);
      const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
      if (usable.length === 0) throw new CallbackUrlError('UNRESOLVABLE', `callBackUrl host ${host} has no IPv${wanted} address`);
      return usable;
    });
    // The callback runs outside the promise chain so an exception thrown by it is not swallowed as a rejection.
    decided.then(
      (usable) =>
        process.nextTick(() => {
          if (lookupOptions.all)
            callback(
              null,
              usable.map((a) => ({ address: a.address, family: a.family })),
            );
          else callback(null, usable[0]!.address, usable[0]!.family);
        }),
      (error: unknown) => process.nextTick(() => callback(error as CallbackUrlError, '')),
    );
  };

  return { checkUrl, isBlockedAddress: blockedAddressClass, lookupForConnect };
}

export interface GuardedDispatcherOptions {
  /** Time to establish the connection (TCP and TLS). Default 10 s. */
  connectTimeoutMs?: number;
  /** Time to wait for the response headers, and between body chunks. Default 15 s. */
  responseTimeoutMs?: number;
  /** Default 4 s (undici's). */
  keepAliveTimeoutMs?: number;
  /** Connections per origin. Default unlimited (undici's). */
  connections?: number;
}

/**
 * The undici dispatcher for deliveries to tenants: every connection's address goes through the
 * guard at connect time. IP-literal hosts never reach a `lookup` (node connects to them directly),
 * so the connector checks those itself before connecting.
 *
 * Redirects are not followed: undici's `request` only follows them when a redirect interceptor is
 * composed onto the dispatcher, and none is. Keep it so: a 3xx is the tenant's answer (recorded as a
 * failed attempt), and following it would send the signed payload to a target nobody checked.
 */
export function createGuardedDispatcher(guard: CallbackUrlGuard, options: GuardedDispatcherOptions = {}): Agent {
  const connector = buildConnector({ timeout: options.connectTimeoutMs ?? 10_000, lookup: guard.lookupForConnect });
  const guardedConnect: buildConnector.connector = (connectOptions, callback) => {
    const host = stripBrackets(connectOptions.hostname);
    if (!isIP(host)) {
      connector(connectOptions, callback);
      return;
    }
    guard.lookupForConnect(host, { all: true }, (error) => {
      if (error) callback(error, null);
      else connector(connectOptions, callback);
    });
  };
  const responseTimeout = options.responseTimeoutMs ?? 15_000;
  return new Agent({
    connect: guardedConnect,
    headersTimeout: responseTimeout,
    bodyTimeout: responseTimeout,
    ...(options.keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeout: options.keepAliveTimeoutMs }),
    ...(options.connections === undefined ? {} : { connections: options.connections }),
  });
}
