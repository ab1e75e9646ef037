// Config `upstreams:` and the `upstream:` shorthand: one list of upstreams derived from either.
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_UPSTREAM_ID, parseConfig, upstreamsOf } from '../../src/config/index.js';

const key = (id: string) => ({ id, apiKey: `sk-${id}` });
const refusal = (raw: unknown) => {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('upstreams', () => {
  it('the shorthand is one LiangXin upstream named default, at the table price, serving every model', () => {
    const config = parseConfig({ upstream: { baseUrl: 'http://127.0.0.1:4011', keys: [key('a')] } });
    expect(upstreamsOf(config)).toMatchObject([
      {
        id: DEFAULT_UPSTREAM_ID,
        provider: 'liangxin',
        priceFactor: 1,
        baseUrl: 'http://127.0.0.1:4011',
        timeoutMs: 30_000,
        keys: [{ id: 'a', createPer10s: 20 }],
      },
    ]);
    expect(upstreamsOf(config)[0]).not.toHaveProperty('models');
  });

  it('several upstreams, each with its provider, models, price factor and defaults', () => {
    const config = parseConfig({
      upstreams: [
        { id: 'lx', baseUrl: 'http://lx.test', keys: [key('a')] },
        {
          id: 'public',
          provider: 'market',
          baseUrl: 'http://market.test',
          keys: [key('b')],
          models: ['z-image', 'seedream/4.5-text-to-image'],
          priceFactor: 0.8,
        },
      ],
    });
    expect(upstreamsOf(config)).toMatchObject([
      { id: 'lx', provider: 'liangxin', priceFactor: 1, health: { coolDownMs: 10_000 } },
      { id: 'public', provider: 'market', priceFactor: 0.8, models: ['z-image', 'seedream/4.5-text-to-image'] },
    ]);
  });

  it.each([
    [{}, 'upstream: needs an upstream (or upstreams)'],
    [
      { upstream: { baseUrl: 'http://x', keys: [key('a')] }, upstreams: [{ id: 'u', baseUrl: 'http://y', keys: [key('b')] }] },
      'upstreams: use either upstream (one provider) or upstreams (several), not both',
    ],
    [{ upstreams: [] }, 'upstreams: needs at least one upstream'],
    [
      {
        upstreams: [
          { id: 'u', baseUrl: 'http://x', keys: [key('a')] },
          { id: 'u', baseUrl: 'http://y', keys: [key('b')] },
        ],
      },
      'upstreams[1].id: duplicate upstream id "u"',
    ],
    [
      {
        upstreams: [
          { id: 'u', baseUrl: 'http://x', keys: [key('a')] },
          { id: 'v', baseUrl: 'http://y', keys: [key('a')] },
        ],
      },
      'upstreams[1].keys[0].id: duplicate key id "a"',
    ],
    [{ upstreams: [{ id: 'u', provider: 'kie', baseUrl: 'http://x', keys: [key('a')] }] }, 'upstreams[0].provider: '],
    [{ upstreams: [{ id: 'u', baseUrl: 'http://x', keys: [key('a')], priceFactor: 0 }] }, 'upstreams[0].priceFactor: '],
  ])('refuses %j naming the path', (raw, expected) => {
    expect(refusal(raw)).toContain(expected);
  });
});

describe('examples/gateway.upstreams.yaml', () => {
  it('is valid as it is: two upstreams, the Market one cheaper', async () => {
    const { loadConfigFile } = await import('../../src/config/index.js');
    const { join } = await import('node:path');
    const { packageRoot } = await import('../../src/spec/files.js');
    const config = loadConfigFile(join(packageRoot, 'examples/gateway.upstreams.yaml'), {});
    expect(upstreamsOf(config).map((u) => [u.id, u.provider, u.priceFactor])).toEqual([
      ['lx', 'liangxin', 1],
      ['market', 'market', 0.8],
    ]);
  });
});
