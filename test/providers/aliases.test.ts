// The alias table against both contracts, and the translation of a body, as plain functions.
import { describe, expect, it } from 'vitest';
import { aliasTable, MARKET_ALIASES } from '../../src/providers/market/aliases.js';
import { liangxinModelOf, translateMarketBody } from '../../src/providers/market/translate.js';
import { loadLiangxinSpec, loadMarketSpec, modelBranches, resolveSchema, type JsonSchema } from '../../src/spec/document.js';

const table = aliasTable();
const liangxinModels = new Set(modelBranches(loadLiangxinSpec()).keys());

/** The input fields a model's schema names (across its alternatives). */
function fieldsOf(model: string): Set<string> {
  const doc = loadLiangxinSpec();
  const branch = doc.components.schemas[modelBranches(doc).get(model)!]!;
  const input = resolveSchema(doc, branch.properties!.input as JsonSchema);
  const variants = input.oneOf ? input.oneOf.map((v) => resolveSchema(doc, v)) : [input];
  return new Set(variants.flatMap((v) => Object.keys(v.properties ?? {})));
}

describe('the alias table', () => {
  it('maps every Market model id to a LiangXin model', () => {
    for (const marketId of modelBranches(loadMarketSpec()).keys()) {
      expect(liangxinModels.has(liangxinModelOf(marketId, table)), marketId).toBe(true);
    }
    expect(liangxinModelOf('nano-banana-2', table)).toBe('nano-banana-pro-flash');
    expect(liangxinModelOf('google/nano-banana-edit', table)).toBe('gemini-2.5-flash-image-preview');
    expect(liangxinModelOf('seedream-v4-5', table)).toBe('seedream-v4-5');
  });

  it('never rewrites a LiangXin field under a LiangXin id (a LiangXin body passes through those entries too)', () => {
    for (const [id, entry] of Object.entries(MARKET_ALIASES)) {
      if (!liangxinModels.has(id)) continue;
      const own = fieldsOf(entry.model);
      for (const field of Object.keys('fields' in entry ? entry.fields : {})) expect(own.has(field), `${id} ${field}`).toBe(false);
    }
  });

  it('renames into fields the LiangXin model has', () => {
    for (const [id, entry] of Object.entries(table)) {
      const own = fieldsOf(entry.model);
      for (const rule of Object.values(entry.fields ?? {})) {
        const to = 'to' in rule ? rule.to : undefined;
        if (to) expect(own.has(to), `${id} → ${to}`).toBe(true);
      }
    }
  });

  it('lets the config replace an entry or add an alias', () => {
    const merged = aliasTable({ 'my-z': { model: 'z-image' } });
    expect(liangxinModelOf('my-z', merged)).toBe('z-image');
    expect(liangxinModelOf('google/imagen4-fast', merged)).toBe('imagen4-fast');
  });
});

describe('translateMarketBody', () => {
  it('renames, maps and drops, and says which', () => {
    const out = translateMarketBody(
      { model: 'seedream/4.5-text-to-image', input: { prompt: 'p', aspect_ratio: '16:9', quality: 'basic', nsfw_checker: true } },
      table,
    );
    expect(out).toEqual({
      ok: true,
      model: 'seedream-v4-5',
      body: { model: 'seedream-v4-5', input: { prompt: 'p', aspect_ratio: '16:9', enable_safety_checker: true } },
      notes: { alias: 'seedream/4.5-text-to-image', renamed: [{ from: 'nsfw_checker', to: 'enable_safety_checker' }], dropped: ['quality'] },
    });
  });

  it('keeps the current name when a deprecated one is sent beside it', () => {
    const out = translateMarketBody({ model: 'google/nano-banana', input: { prompt: 'p', image_size: '1:1', aspect_ratio: '16:9' } }, table);
    expect(out).toMatchObject({ ok: true, body: { input: { prompt: 'p', aspect_ratio: '16:9' } }, notes: { dropped: ['image_size'] } });
    const renamed = translateMarketBody({ model: 'google/nano-banana', input: { prompt: 'p', image_size: '4:3' } }, table);
    expect(renamed).toMatchObject({ ok: true, body: { model: 'gemini-2.5-flash-image-preview', input: { prompt: 'p', aspect_ratio: '4:3' } } });
  });

  it('turns a numeric seed string into LiangXin integer, and refuses one that is not, naming model and field', () => {
    expect(translateMarketBody({ model: 'google/imagen4-ultra', input: { prompt: 'p', seed: '42' } }, table)).toMatchObject({
      ok: true,
      body: { input: { seed: 42 } },
    });
    const refused = translateMarketBody({ model: 'google/imagen4-ultra', input: { prompt: 'p', seed: 'lighthouse-7' } }, table);
    expect(refused).toMatchObject({ ok: false, path: 'input.seed' });
    expect(refused.ok === false && refused.message).toMatch(/imagen4-ultra.*seed.*integer/);
    expect(translateMarketBody({ model: 'google/imagen4-ultra', input: { prompt: 'p', seed: '0' } }, table)).toMatchObject({ ok: false, path: 'input.seed' });
  });

  it('refuses what has no faithful translation', () => {
    for (const [body, path] of [
      [{ model: 'seedream/4.5-edit', input: { prompt: 'p', image_urls: ['https://x.test/a.png'], quality: 'high' } }, 'input.quality'],
      [{ model: 'google/imagen4-ultra', input: { prompt: 'p', negative_prompt: 'blur' } }, 'input.negative_prompt'],
      [{ model: 'flux-2/pro-text-to-image', input: { prompt: 'p', resolution: '2K' } }, 'input.resolution'],
      [{ model: 'flux-2/pro-text-to-image', input: { prompt: 'p', nsfw_checker: true } }, 'input.nsfw_checker'],
    ] as const) {
      const out = translateMarketBody(body as Record<string, unknown>, table);
      expect(out, path).toMatchObject({ ok: false, path });
      expect(out.ok === false && out.message, path).toMatch(/LiangXin's (seedream-v4-5-edit|imagen4-ultra|flux-2-pro)/);
    }
  });

  it('passes a LiangXin body, and anything it does not know, unchanged', () => {
    const body = { model: 'nano-banana-pro-flash', input: { prompt: 'p', use_google_search_tool: true } };
    expect(translateMarketBody(body, table)).toMatchObject({ ok: true, body, notes: { renamed: [], dropped: [] } });
    expect(translateMarketBody({ model: 42 }, table)).toMatchObject({ ok: true, body: { model: 42 } });
  });
});
