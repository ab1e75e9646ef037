// Configuration: YAML + ${ENV} + zod, one clear message naming the path and the reason.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig, publicUrlOf } from '../../src/config/index.js';
import { configRows } from '../../src/config/reference.js';
import { join } from 'node:path';
import { packageRoot } from '../../src/spec/files.js';

const minimal = { upstream: { baseUrl: 'http://127.0.0.1:4011', keys: [{ id: 'a', apiKey: 'sk-a' }] } };
const message = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('parseConfig', () => {
  it('fills in the defaults', () => {
    const config = parseConfig(minimal);
    expect(config).toMatchObject({
      listen: { host: '127.0.0.1', port: 8080 },
      store: 'sqlite:./.data/gateway.db',
      upstream: { timeoutMs: 30_000, keys: [{ id: 'a', createPer10s: 20, recordInfoPerSecond: 10 }], health: { coolDownMs: 10_000 } },
      tenants: [],
      queue: { admission: 'queue', weight: 1, concurrency: 8, pollIntervalMs: 1000 },
    });
    expect(publicUrlOf(config)).toBe('http://127.0.0.1:8080');
    expect(Object.isFrozen(config.upstream!.keys[0])).toBe(true);
  });

  it('expands ${ENV} and ${ENV:-fallback}', () => {
    const config = parseConfig(
      {
        ...minimal,
        listen: { port: '${PORT:-9090}' },
        upstream: { baseUrl: '${URL}', keys: [{ id: 'a', apiKey: 'key-${SUFFIX}' }] },
        admin: { token: '$${NOT_EXPANDED}-and-long-enough' },
      },
      { env: { URL: 'http://upstream.test', SUFFIX: 'x1' } },
    );
    expect(config.listen.port).toBe(9090);
    expect(config.upstream!.baseUrl).toBe('http://upstream.test');
    expect(config.upstream!.keys[0]!.apiKey).toBe('key-x1');
    expect(config.admin!.token).toBe('${NOT_EXPANDED}-and-long-enough');
  });

  it('names a missing environment variable and where it is used', () => {
    expect(message(() => parseConfig({ ...minimal, upstream: { ...minimal.upstream, keys: [{ id: 'a', apiKey: '${LIANGXIN_KEY_A}' }] } }, { env: {} }))).toBe(
      'config: upstream.keys[0].apiKey: environment variable LIANGXIN_KEY_A is not set',
    );
  });

  it.each([
    [{}, 'upstream: '],
    [{ upstream: { baseUrl: 'not a url', keys: [{ id: 'a', apiKey: 'k' }] } }, 'upstream.baseUrl: '],
    [{ upstream: { baseUrl: 'http://x', keys: [] } }, 'upstream.keys: needs at least one provider key'],
    [{ ...minimal, listen: { port: 70000 } }, 'listen.port: '],
    [{ ...minimal, listen: { headersTimeoutMs: 60_000 } }, 'listen.headersTimeoutMs: must not be longer than requestTimeoutMs'],
    [
      { ...minimal, tenants: [{ id: 'acme', apiKeys: ['short'] }] },
      'tenants[0].apiKeys[0]: must be sha256:<64 hex digits> or a secret of at least 16 characters',
    ],
    [{ ...minimal, tenants: [{ id: 'acme' }, { id: 'acme' }] }, 'tenants[1].id: duplicate tenant id "acme"'],
    [{ ...minimal, admin: { token: 'short' } }, 'admin.token: must be at least 16 characters'],
    [{ ...minimal, upstreem: {} }, 'upstreem'],
  ])('refuses %j naming the path', (raw, expected) => {
    expect(message(() => parseConfig(raw))).toContain(expected);
  });

  it.each([
    [{ ...minimal, tenant: [] }, 'config: unknown key "tenant" (did you mean "tenants"?)'],
    [{ ...minimal, redis: { url: 'redis://127.0.0.1:6379', failopen: true } }, 'config: redis: unknown key "failopen" (did you mean "failOpen"?)'],
    [
      { upstream: { ...minimal.upstream, keys: [{ id: 'a', apiKey: 'k', createPer10: 5 }] } },
      'config: upstream.keys[0]: unknown key "createPer10" (did you mean "createPer10s"?)',
    ],
    [{ ...minimal, zzz: 1 }, 'config: unknown key "zzz"'],
  ])('names the key it guesses was meant for a misspelt %j', (raw, expected) => {
    expect(message(() => parseConfig(raw))).toBe(expected);
  });

  it('reports a missing file and bad YAML in one line', () => {
    expect(message(() => loadConfigFile('/nonexistent/gateway.yaml'))).toBe('/nonexistent/gateway.yaml: cannot read the file (ENOENT)');
  });
});

describe('the configuration reference (examples/README.md)', () => {
  it('describes every key (a key without a description would show blank in the reference)', () => {
    expect(
      configRows()
        .filter((row) => !row.description)
        .map((row) => row.key),
    ).toEqual([]);
  });
});

describe('the examples', () => {
  it('examples/gateway.yaml is valid as it is', () => {
    const config = loadConfigFile(join(packageRoot, 'examples/gateway.yaml'), {});
    expect(config.upstream!.baseUrl).toBe('http://127.0.0.1:4011');
    expect(config.tenants.map((t) => t.id)).toEqual(['acme', 'globex']);
  });

  it('examples/gateway.production.yaml takes every secret from the environment', () => {
    const missing = message(() => loadConfigFile(join(packageRoot, 'examples/gateway.production.yaml'), {}));
    for (const name of [
      'LIANGXIN_BASE_URL',
      'LIANGXIN_KEY_A',
      'LIANGXIN_KEY_B',
      'ACME_KEY_SHA256',
      'GATEWAY_ADMIN_TOKEN',
      'GATEWAY_OPS_TOKEN',
      'DATABASE_URL',
      'REDIS_URL',
      'ACME_WEBHOOK_SECRET',
    ])
      expect(missing).toContain(name);
    const env = {
      LIANGXIN_BASE_URL: 'https://provider.test',
      LIANGXIN_KEY_A: 'a',
      LIANGXIN_KEY_B: 'b',
      LIANGXIN_HMAC_A: 'ha',
      LIANGXIN_HMAC_B: 'hb',
      ACME_KEY_SHA256: `sha256:${'a'.repeat(64)}`,
      GLOBEX_KEY_SHA256: `sha256:${'b'.repeat(64)}`,
      GATEWAY_ADMIN_TOKEN: 'x'.repeat(32),
      GATEWAY_OPS_TOKEN: 'o'.repeat(32),
      DATABASE_URL: 'postgres://gateway@db.internal/gateway',
      REDIS_URL: 'redis://cache.internal:6379',
      ACME_WEBHOOK_SECRET: 'whsec_c2VjcmV0',
    };
    expect(loadConfigFile(join(packageRoot, 'examples/gateway.production.yaml'), env).upstream!.keys).toHaveLength(2);
  });
});
