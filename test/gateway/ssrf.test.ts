// The SSRF guard for tenants' callback URLs, table-driven: every refused address class (IPv4, IPv6,
// the IPv6 forms that embed an IPv4), names resolving to private addresses, odd IPv4 spellings, the
// allow-list, and at delivery time DNS rebinding and redirects through the guarded dispatcher.
// No real network: names go through a test resolver, and the only connections made are to servers
// this file starts on 127.0.0.1.
import { createServer, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { request, type Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CallbackUrlError,
  createCallbackUrlGuard,
  createGuardedDispatcher,
  type CallbackUrlErrorCode,
  type Resolver,
} from '../../src/gateway/callbacks/ssrf.js';

/** A resolver from a fixed table; names not in it do not resolve (ENOTFOUND, like getaddrinfo). */
function tableResolver(table: Record<string, string[]>): Resolver {
  return async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

const DNS: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34'],
  'hooks6.example.com': ['2606:2800:220:1:248:1893:25c8:1946'],
  'dual.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'internal.example.com': ['10.0.0.5'],
  'mixed.example.com': ['93.184.216.34', '192.168.1.10'],
  'mixed6.example.com': ['2606:2800:220:1:248:1893:25c8:1946', 'fd12:3456::1'],
  'metadata.example.com': ['169.254.169.254'],
  'mapped.example.com': ['::ffff:10.0.0.1'],
  'nothing.example.com': [],
  localhost: ['127.0.0.1', '::1'],
};

const guardOf = (options: { allowHttp?: boolean; allowHosts?: string[]; resolver?: Resolver } = {}) =>
  createCallbackUrlGuard({ allowHttp: options.allowHttp ?? false, allowHosts: options.allowHosts ?? [], resolver: options.resolver ?? tableResolver(DNS) });

async function refusal(promise: Promise<unknown>): Promise<CallbackUrlError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CallbackUrlError);
  return error as CallbackUrlError;
}

// [address, the class the guard names]
const BLOCKED: Array<[string, string]> = [
  // IPv4
  ['0.0.0.0', 'this-network'],
  ['0.255.255.255', 'this-network'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.254', 'private'],
  ['192.168.0.1', 'private'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.0.1', 'link-local'],
  ['169.254.169.254', 'cloud metadata'],
  ['169.254.170.2', 'cloud metadata'],
  ['100.100.100.200', 'cloud metadata'],
  ['100.64.0.1', 'CGNAT'],
  ['100.127.255.254', 'CGNAT'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  ['192.0.0.8', 'IETF protocol assignment'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.254', 'benchmarking'],
  ['192.0.2.1', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['192.88.99.1', '6to4 relay anycast'],
  // IPv6
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf:ffff::1', 'link-local'],
  ['fec0::1', 'site-local'],
  ['fc00::1', 'unique local'],
  ['fd12:3456:789a::1', 'unique local'],
  ['fd00:ec2::254', 'cloud metadata'],
  ['ff02::1', 'multicast'],
  ['ff05::1:3', 'multicast'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['64:ff9b:1::a00:1', 'NAT64 local-use'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
  ['100::1', 'discard-only'],
  ['::2:3:4:5:6', 'non-global IPv6'],
  ['4000::1', 'non-global IPv6'],
  // IPv4 inside IPv6: the embedded address decides
  ['::ffff:10.0.0.1', 'private (IPv4-mapped 10.0.0.1)'],
  ['::ffff:a00:1', 'private (IPv4-mapped 10.0.0.1)'],
  ['::ffff:127.0.0.1', 'loopback (IPv4-mapped 127.0.0.1)'],
  ['::ffff:7f00:1', 'loopback (IPv4-mapped 127.0.0.1)'],
  ['0:0:0:0:0:ffff:a9fe:a9fe', 'cloud metadata (IPv4-mapped 169.254.169.254)'],
  ['::ffff:0:192.168.1.1', 'private (IPv4-translated 192.168.1.1)'],
  ['::10.0.0.1', 'private (IPv4-compatible 10.0.0.1)'],
  ['::7f00:1', 'loopback (IPv4-compatible 127.0.0.1)'],
  ['64:ff9b::10.0.0.1', 'private (NAT64 10.0.0.1)'],
  ['64:ff9b::7f00:1', 'loopback (NAT64 127.0.0.1)'],
  ['64:ff9b::a9fe:a9fe', 'cloud metadata (NAT64 169.254.169.254)'],
  ['2002:a00:1::1', 'private (6to4 10.0.0.1)'],
  ['2002:7f00:1::', 'loopback (6to4 127.0.0.1)'],
  ['2002:c0a8:101:1::1', 'private (6to4 192.168.1.1)'],
  // Not an address at all: refused, never guessed at
  ['0x7f.1', 'not an IP'],
  ['010.0.0.1', 'not an IP'],
  ['localhost', 'not an IP'],
];

const PUBLIC = [
  '93.184.216.34',
  '8.8.8.8',
  '1.1.1.1',
  '9.255.255.255',
  '11.0.0.1',
  '100.63.255.255',
  '100.128.0.1',
  '172.15.255.255',
  '172.32.0.1',
  '169.253.255.255',
  '169.255.0.1',
  '192.167.255.255',
  '192.169.0.1',
  '198.17.255.255',
  '198.20.0.1',
  '223.255.255.255',
  '2606:2800:220:1:248:1893:25c8:1946',
  '2a00:1450:4001:80b::200e',
  '::ffff:93.184.216.34',
  '::ffff:5db8:d822',
  '64:ff9b::5db8:d822',
  '2002:5db8:d822::1',
];

describe('isBlockedAddress', () => {
  const guard = guardOf();
  it.each(BLOCKED)('%s is refused as %s', (ip, className) => {
    expect(guard.isBlockedAddress(ip)).toBe(className);
  });
  it.each(PUBLIC)('%s is allowed', (ip) => {
    expect(guard.isBlockedAddress(ip)).toBeUndefined();
  });
});

describe('checkUrl', () => {
  const literalUrl = (ip: string) => (ip.includes(':') ? `https://[${ip}]/hook` : `https://${ip}/hook`);

  // Every blocked IP literal, in a URL (zones cannot be written in a URL).
  it.each(BLOCKED.filter(([ip]) => isIP(ip) !== 0 && !ip.includes('%')))('refuses a literal %s (%s)', async (ip) => {
    const error = await refusal(guardOf().checkUrl(literalUrl(ip)));
    expect(error.code).toBe('BLOCKED_ADDRESS');
    expect(error.message).toMatch(/^callBackUrl points to an? .+ address( \([\w -]+\))?$/);
  });

  it('names the class, never the address', async () => {
    expect((await refusal(guardOf().checkUrl('https://10.0.0.5/x'))).message).toBe('callBackUrl points to a private address');
    expect((await refusal(guardOf().checkUrl('https://internal.example.com/x'))).message).toBe('callBackUrl resolves to a private address');
    expect((await refusal(guardOf().checkUrl('https://[::]/x'))).message).toBe('callBackUrl points to an unspecified address');
    expect((await refusal(guardOf().checkUrl('https://[::ffff:10.0.0.1]/x'))).message).toBe('callBackUrl points to a private address (IPv4-mapped)');
  });

  // The message reaches the tenant: what a name resolves to inside the operator's network is not theirs to learn.
  it.each(Object.entries(DNS).filter(([, addresses]) => addresses.some((a) => guardOf().isBlockedAddress(a))))(
    'does not tell the tenant what %s resolves to',
    async (name, addresses) => {
      const error = await refusal(guardOf().checkUrl(`https://${name}/hook`));
      expect(error.code).toBe('BLOCKED_ADDRESS');
      for (const address of addresses) expect(error.message).not.toContain(address);
      expect(error.message).not.toMatch(/\d+\.\d+\.\d+\.\d+|[0-9a-f]*::?[0-9a-f]+:/i);
    },
  );

  // WHATWG URL canonicalises these before the guard looks at the host.
  it.each([
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254'],
    ['http://3232235777/', '192.168.1.1'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[0:0:0:0:0:0:0:1]/', '::1'],
    ['http://LOCALHOST.internal.example.com/', undefined],
  ])('an odd spelling, %s, is checked as %s', async (url, canonical) => {
    const error = await refusal(guardOf({ allowHttp: true }).checkUrl(url));
    if (canonical === undefined) {
      expect(error.code).toBe('UNRESOLVABLE'); // lower-cased, then looked up like any name
    } else {
      expect(error.code).toBe('BLOCKED_ADDRESS');
      // The class says which address was checked: the canonical one, whatever the spelling.
      const className = guardOf()
        .isBlockedAddress(canonical)!
        .replace(/ \(.*\)$/, '');
      expect(error.message).toMatch(new RegExp(`^callBackUrl points to an? ${className} address`));
    }
  });

  it.each<[string, string, CallbackUrlErrorCode, RegExp]>([
    ['a private address', 'https://internal.example.com/hook', 'BLOCKED_ADDRESS', /^callBackUrl resolves to a private address$/],
    ['one public and one private address', 'https://mixed.example.com/hook', 'BLOCKED_ADDRESS', /^callBackUrl resolves to a private address$/],
    ['one public and one private IPv6 address', 'https://mixed6.example.com/hook', 'BLOCKED_ADDRESS', /^callBackUrl resolves to a unique local address$/],
    ['the metadata address', 'https://metadata.example.com/hook', 'BLOCKED_ADDRESS', /^callBackUrl resolves to a cloud metadata address$/],
    ['an IPv4-mapped private address', 'https://mapped.example.com/hook', 'BLOCKED_ADDRESS', /^callBackUrl resolves to a private address \(IPv4-mapped\)$/],
    ['localhost (not allow-listed)', 'https://localhost/hook', 'BLOCKED_ADDRESS', /^callBackUrl resolves to a loopback address$/],
    ['nothing (unknown name)', 'https://no-such-host.example.com/hook', 'UNRESOLVABLE', /no-such-host\.example\.com does not resolve \(ENOTFOUND\)/],
    ['an empty answer', 'https://nothing.example.com/hook', 'UNRESOLVABLE', /does not resolve/],
  ])('refuses a name resolving to %s', async (_what, url, code, message) => {
    const error = await refusal(guardOf().checkUrl(url));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it.each<[string, string, { allowHttp?: boolean; allowHosts?: string[] }, CallbackUrlErrorCode]>([
    ['not a URL', 'not a url', {}, 'BAD_URL'],
    ['a relative URL', '/callbacks/hook', {}, 'BAD_URL'],
    ['an empty string', '', {}, 'BAD_URL'],
    ['http', 'http://hooks.example.com/hook', {}, 'SCHEME'],
    ['http to an allowed host without allowHttp', 'http://localhost:3000/hook', { allowHosts: ['localhost'] }, 'SCHEME'],
    ['ftp', 'ftp://hooks.example.com/hook', { allowHttp: true }, 'SCHEME'],
    ['file', 'file:///etc/passwd', { allowHttp: true }, 'SCHEME'],
    ['gopher', 'gopher://hooks.example.com:6379/_INFO', { allowHttp: true }, 'SCHEME'],
    ['user and password', 'https://user:secret@hooks.example.com/hook', {}, 'CREDENTIALS'],
    ['a user name only', 'https://user@hooks.example.com/hook', {}, 'CREDENTIALS'],
    ['a password only', 'https://:secret@hooks.example.com/hook', {}, 'CREDENTIALS'],
    ['credentials to an allowed host', 'https://u:p@localhost/hook', { allowHosts: ['localhost'] }, 'CREDENTIALS'],
  ])('refuses %s', async (_what, url, options, code) => {
    const error = await refusal(guardOf(options).checkUrl(url));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(/^callBackUrl /);
  });

  it('says which schemes are accepted', async () => {
    expect((await refusal(guardOf().checkUrl('http://hooks.example.com/'))).message).toBe('callBackUrl must use https, not http');
    expect((await refusal(guardOf({ allowHttp: true }).checkUrl('ftp://hooks.example.com/'))).message).toBe('callBackUrl must use https or http, not ftp');
  });

  it.each<[string, string, { allowHttp?: boolean; allowHosts?: string[] }]>([
    ['a public name', 'https://hooks.example.com/hook', {}],
    ['a public IPv6 name', 'https://hooks6.example.com/hook', {}],
    ['a name with public IPv4 and IPv6 addresses', 'https://dual.example.com:8443/a?b=c', {}],
    ['a public IPv4 literal', 'https://93.184.216.34/hook', {}],
    ['a public IPv6 literal', 'https://[2606:2800:220:1:248:1893:25c8:1946]/hook', {}],
    ['http when allowed', 'http://hooks.example.com/hook', { allowHttp: true }],
    ['allow-listed localhost', 'http://localhost:3000/hook', { allowHttp: true, allowHosts: ['localhost'] }],
    ['allow-listed localhost, any case', 'https://LocalHost/hook', { allowHosts: ['localhost'] }],
    ['allow-listed 127.0.0.1', 'http://127.0.0.1:3000/hook', { allowHttp: true, allowHosts: ['127.0.0.1'] }],
    ['127.0.0.1 spelt oddly, allow-listed', 'http://2130706433:3000/hook', { allowHttp: true, allowHosts: ['127.0.0.1'] }],
    ['allow-listed ::1', 'https://[::1]/hook', { allowHosts: ['::1'] }],
    ['allow-listed [0:0::1]', 'https://[::1]/hook', { allowHosts: ['[0:0::1]'] }],
    ['a name resolving only to allow-listed addresses', 'https://localhost/hook', { allowHosts: ['127.0.0.1', '::1'] }],
  ])('allows %s', async (_what, url, options) => {
    await expect(guardOf(options).checkUrl(url)).resolves.toBeUndefined();
  });

  it('refuses a name resolving to an allow-listed and a private address', async () => {
    const error = await refusal(guardOf({ allowHosts: ['127.0.0.1'] }).checkUrl('https://localhost/hook'));
    expect(error.message).toBe('callBackUrl resolves to a loopback address');
  });

  it('does not resolve allow-listed names at all', async () => {
    const asked: string[] = [];
    const guard = guardOf({
      allowHosts: ['dev.internal'],
      resolver: async (name) => {
        asked.push(name);
        return [{ address: '10.0.0.1', family: 4 }];
      },
    });
    await guard.checkUrl('https://dev.internal/hook');
    expect(asked).toEqual([]);
  });
});

describe('lookupForConnect', () => {
  const lookup = (guard: ReturnType<typeof guardOf>, host: string, options: { all?: boolean; family?: number }) =>
    new Promise<{ error: Error | null; address: unknown; family: unknown }>((resolve) =>
      guard.lookupForConnect(host, options, (error, address, family) => resolve({ error, address, family })),
    );

  it.each<[string, string, { all?: boolean; family?: number }, unknown, unknown]>([
    ['one address', 'hooks.example.com', {}, '93.184.216.34', 4],
    [
      'every address',
      'dual.example.com',
      { all: true },
      [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
      ],
      undefined,
    ],
    ['the IPv6 address', 'dual.example.com', { family: 6 }, '2606:2800:220:1:248:1893:25c8:1946', 6],
    ['an IP literal, unresolved', '93.184.216.34', { all: true }, [{ address: '93.184.216.34', family: 4 }], undefined],
  ])('answers %s', async (_what, host, options, address, family) => {
    const answer = await lookup(guardOf(), host, options);
    expect(answer.error).toBeNull();
    expect(answer.address).toEqual(address);
    expect(answer.family).toEqual(family);
  });

  it.each<[string, { all?: boolean; family?: number }, CallbackUrlErrorCode]>([
    ['internal.example.com', {}, 'BLOCKED_ADDRESS'],
    ['mixed.example.com', { family: 4 }, 'BLOCKED_ADDRESS'],
    ['mixed.example.com', { all: true }, 'BLOCKED_ADDRESS'],
    ['10.0.0.1', { all: true }, 'BLOCKED_ADDRESS'],
    ['no-such-host.example.com', { all: true }, 'UNRESOLVABLE'],
    ['hooks.example.com', { family: 6 }, 'UNRESOLVABLE'],
  ])('refuses %s %o', async (host, options, code) => {
    const answer = await lookup(guardOf(), host, options);
    expect(answer.error).toBeInstanceOf(CallbackUrlError);
    expect((answer.error as CallbackUrlError).code).toBe(code);
  });
});

// ---------------------------------------------------------------------------------------------
// Delivery time, through real sockets to servers on 127.0.0.1.

interface LocalServer {
  port: number;
  paths: string[];
  close(): Promise<void>;
}

async function startServer(handler: (path: string, res: import('node:http').ServerResponse, port: number) => void): Promise<LocalServer> {
  const paths: string[] = [];
  let port = 0;
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    handler(req.url ?? '', res, port);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    port,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Public for the first `publicAnswers` lookups (createTask's check), then 127.0.0.1: DNS rebinding. */
function rebindingResolver(publicAnswers = 1): Resolver & { calls: number } {
  const resolver = Object.assign(
    async () => {
      resolver.calls += 1;
      return [{ address: resolver.calls <= publicAnswers ? '93.184.216.34' : '127.0.0.1', family: 4 as const }];
    },
    { calls: 0 },
  );
  return resolver;
}

describe('the guarded dispatcher', () => {
  let servers: LocalServer[] = [];
  let dispatchers: Agent[] = [];
  afterEach(async () => {
    await Promise.all(dispatchers.map((d) => d.close()));
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
    dispatchers = [];
  });
  const serve = async (handler: Parameters<typeof startServer>[0]) => {
    const server = await startServer(handler);
    servers.push(server);
    return server;
  };
  const dispatcherFor = (guard: ReturnType<typeof guardOf>) => {
    const dispatcher = createGuardedDispatcher(guard, { connectTimeoutMs: 60_000, responseTimeoutMs: 60_000 }); // ceilings for a local server on a busy machine
    dispatchers.push(dispatcher);
    return dispatcher;
  };
  const ok = (_path: string, res: import('node:http').ServerResponse) => res.end('ok');

  it('refuses a name that rebinds to 127.0.0.1 after the check: no request reaches the server', async () => {
    const server = await serve(ok);
    const resolver = rebindingResolver();
    const guard = guardOf({ allowHttp: true, resolver });
    const url = `http://rebind.example.com:${server.port}/hook`;

    await guard.checkUrl(url); // 93.184.216.34: fine at createTask
    const error = await refusal(request(url, { method: 'POST', body: '{}', dispatcher: dispatcherFor(guard) }));

    expect(error.code).toBe('BLOCKED_ADDRESS');
    expect(error.message).toBe('callBackUrl host rebind.example.com resolves at connect time to a loopback address');
    expect(resolver.calls).toBe(2);
    expect(server.paths).toEqual([]);
  });

  it('lets the same rebinding through when 127.0.0.1 is allow-listed', async () => {
    const server = await serve(ok);
    const guard = guardOf({ allowHttp: true, allowHosts: ['127.0.0.1'], resolver: rebindingResolver() });
    const url = `http://rebind.example.com:${server.port}/hook`;

    await guard.checkUrl(url);
    const response = await request(url, { method: 'POST', body: '{}', dispatcher: dispatcherFor(guard) });

    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('ok');
    expect(server.paths).toEqual(['/hook']);
  });

  it('lets an allow-listed name through whatever it resolves to', async () => {
    const server = await serve(ok);
    const guard = guardOf({ allowHttp: true, allowHosts: ['localhost'], resolver: tableResolver({ localhost: ['127.0.0.1'] }) });
    const response = await request(`http://localhost:${server.port}/dev`, { dispatcher: dispatcherFor(guard) });
    expect(response.statusCode).toBe(200);
    await response.body.dump();
    expect(server.paths).toEqual(['/dev']);
  });

  it.each([
    ['127.0.0.1', (port: number) => `http://127.0.0.1:${port}/hook`],
    ['127.0.0.1 spelt as a number', (port: number) => `http://2130706433:${port}/hook`],
    ['::1', (port: number) => `http://[::1]:${port}/hook`],
    ['::ffff:127.0.0.1', (port: number) => `http://[::ffff:127.0.0.1]:${port}/hook`],
  ])('refuses an IP literal, %s, which never goes through a lookup', async (_what, urlOf) => {
    const server = await serve(ok);
    const error = await refusal(request(urlOf(server.port), { dispatcher: dispatcherFor(guardOf({ allowHttp: true })) }));
    expect(error.code).toBe('BLOCKED_ADDRESS');
    expect(server.paths).toEqual([]);
  });

  it('connects to an allow-listed IP literal', async () => {
    const server = await serve(ok);
    const response = await request(`http://127.0.0.1:${server.port}/hook`, {
      dispatcher: dispatcherFor(guardOf({ allowHttp: true, allowHosts: ['127.0.0.1'] })),
    });
    expect(response.statusCode).toBe(200);
    await response.body.dump();
  });

  it('does not follow a redirect', async () => {
    const server = await serve((path, res, port) => {
      if (path === '/hook') {
        res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
      } else {
        res.end('followed');
      }
    });
    const guard = guardOf({ allowHttp: true, allowHosts: ['127.0.0.1'] });
    const response = await request(`http://127.0.0.1:${server.port}/hook`, { method: 'POST', body: '{}', dispatcher: dispatcherFor(guard) });

    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(`http://127.0.0.1:${server.port}/elsewhere`);
    await response.body.dump();
    expect(server.paths).toEqual(['/hook']);
  });
});
