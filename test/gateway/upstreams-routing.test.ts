// Routing over upstreams without a network: which upstreams serve a model, in which order
// (healthy first, then cheapest, config order breaking ties), and which upstream a stored task
// belongs to (rows from before migration 0008 name none).
import { describe, expect, it } from 'vitest';
import { parseConfig, upstreamsOf, type ConfigInput } from '../../src/config/index.js';
import { createUpstreams } from '../../src/gateway/upstreams.js';
import { createProviders } from '../../src/providers/index.js';
import { aliasTable } from '../../src/providers/market/aliases.js';
import { createSpecValidator } from '../../src/spec/validator.js';

const validator = createSpecValidator();
const aliases = aliasTable();
const noNetwork = {
  createTask: async () => {
    throw new Error('no network');
  },
  recordInfo: async () => {
    throw new Error('no network');
  },
  close: async () => undefined,
};

function upstreams(input: Pick<ConfigInput, 'upstream' | 'upstreams'>, now = () => 1_000) {
  const config = parseConfig(input);
  return createUpstreams(upstreamsOf(config), { provider: createProviders({ validator, aliases }), aliases, now, client: () => noNetwork });
}

const entry = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  baseUrl: `http://${id}.test`,
  keys: [{ id: `${id}-key`, apiKey: `sk-${id}` }],
  ...extra,
});
const ids = (list: Array<{ id: string }>) => list.map((u) => u.id);

describe('route', () => {
  it('cheapest first, config order breaking ties', () => {
    const u = upstreams({ upstreams: [entry('a', { priceFactor: 1 }), entry('b', { priceFactor: 0.7 }), entry('c', { priceFactor: 1 })] });
    expect(ids(u.route('z-image'))).toEqual(['b', 'a', 'c']);
  });

  it('healthy ones first: an upstream in maintenance or without a usable key goes last', () => {
    const u = upstreams({ upstreams: [entry('a'), entry('b', { priceFactor: 0.5 }), entry('c', { priceFactor: 0.6 })] });
    u.byId('b')!.pool.report('b-key', 'maintenance', 'in maintenance');
    u.byId('c')!.pool.report('c-key', 'exhausted', 'out of credits');
    expect(ids(u.route('z-image'))).toEqual(['a', 'b', 'c']);
    expect(u.health().map((h) => [h.id, h.healthy, h.reason])).toEqual([
      ['a', true, null],
      ['b', false, 'provider in maintenance'],
      ['c', false, 'no usable key: c-key: exhausted'],
    ]);
  });

  it("only the upstreams whose models (either dialect's ids) include it, and whose provider can express it", () => {
    const u = upstreams({ upstreams: [entry('lx', { models: ['google/nano-banana', 'z-image'] }), entry('pub', { provider: 'market' })] });
    expect(ids(u.route('gemini-2.5-flash-image-preview'))).toEqual(['lx', 'pub']);
    expect(ids(u.route('kling-v3-pro'))).toEqual(['pub']);
    expect(ids(u.route('no-such-model'))).toEqual([]);
  });
});

describe('ofTask', () => {
  const u = upstreams({ upstreams: [entry('a'), entry('b')] });

  it('the upstream the row names', () => {
    expect(u.ofTask({ upstreamId: 'b', upstreamKeyId: 'a-key' })?.id).toBe('b');
  });

  it('a row from before 0008 (no upstream): the upstream holding its key, else the first', () => {
    expect(u.ofTask({ upstreamId: null, upstreamKeyId: 'b-key' })?.id).toBe('b');
    expect(u.ofTask({ upstreamId: null, upstreamKeyId: 'gone-key' })?.id).toBe('a');
  });

  it('an upstream the config no longer has: none (its reads say so, its callbacks are refused)', () => {
    expect(u.ofTask({ upstreamId: 'removed', upstreamKeyId: 'a-key' })).toBeUndefined();
  });

  it("the shorthand's upstream takes every old row", () => {
    const single = upstreams({ upstream: { baseUrl: 'http://x.test', keys: [{ id: 'k', apiKey: 'sk' }] } });
    expect(single.ofTask({ upstreamId: null, upstreamKeyId: 'k' })?.id).toBe('default');
  });
});
