// The public "Market" API's model ids and fields, as aliases of the LiangXin models they denote:
// data, in one place (README "The public dialect" documents it; config `compat.aliases` merges over
// it). LiangXin re-brands the Market API, so clients written for the Market API are in use; the
// gateway serves them by translating here, and refuses, naming the LiangXin model and field, what
// has no faithful translation. Keys are typed from the Market contract (src/generated/market.ts),
// targets from LiangXin's (src/generated/liangxin.ts). Nothing here knows the gateway or the store.
//
// Same-named ids (z-image, nano-banana-pro, kling-v3-pro) need an entry only for fields; such an
// entry must never touch a field LiangXin's own model has (a LiangXin body with that id passes
// through it too): test/providers/aliases.test.ts checks it.
import type { ModelInput, ModelName } from '../../client/types.js';
import type { components as Market } from '../../generated/market.js';

type MarketRequest = Market['schemas']['CreateTaskRequest'];
export type MarketModel = MarketRequest['model'];
/** Field names of an input, across its alternatives (Kling's prompt and multi-shot inputs). */
type Keys<T> = T extends unknown ? keyof T & string : never;
type MarketField<M extends MarketModel> = Keys<Extract<MarketRequest, { model: M }>['input']>;

/** What one value of a field becomes. */
export type ValueRule = { action: 'drop'; why: string } | { action: 'refuse'; why: string } | { action: 'set'; value: string | number | boolean };

/** What a public `input` field becomes in LiangXin's body. */
export type FieldRule<To extends string = string> =
  | { action: 'rename'; to: To }
  /** Left out: LiangXin's own behaviour without it is what the field asked for (`why` says how). */
  | { action: 'drop'; why: string }
  /** No faithful translation: the request is refused, `why` naming what LiangXin has instead. */
  | { action: 'refuse'; why: string }
  /** Per value (by its JSON text without quotes: `basic`, `true`); other values pass on, renamed to `to`. */
  | { action: 'map'; to?: To; values: Record<string, ValueRule> }
  /** A string holding a whole number ≥ `min` becomes that integer; anything else is refused with `why`. */
  | { action: 'integer'; to?: To; min: number; why: string };

export interface AliasEntry {
  /** The LiangXin model the alias denotes. */
  model: string;
  fields?: Readonly<Record<string, FieldRule>>;
}

export type AliasTable = Readonly<Record<string, AliasEntry>>;

/** One entry per Market id, each checked against both contracts. */
type TypedTable = {
  [A in MarketModel]?: {
    [M in ModelName]: { model: M; fields?: { [F in MarketField<A>]?: FieldRule<Keys<ModelInput<M>>> } };
  }[ModelName];
};

const SAFETY = { action: 'rename', to: 'enable_safety_checker' } as const;

// The Market API's Seedream `quality`: `basic` is 2K output, `high` 4K. LiangXin's Seedream pages
// list no quality or size field (prompt, aspect_ratio, seed, enable_safety_checker), so LiangXin
// renders its standard output: assumed to be the Market API's `basic` (its standard tier), so
// `basic` is dropped; nothing in LiangXin's body can ask for 4K, so `high` is refused.
const seedreamQuality = (model: string): FieldRule<never> => ({
  action: 'map',
  values: {
    basic: { action: 'drop', why: `${model} renders its standard (2K) output without a quality field (assumed)` },
    high: { action: 'refuse', why: `${model} has no field asking for 4K output (its fields: prompt, aspect_ratio, seed, enable_safety_checker)` },
  },
});

const seedream = <M extends 'seedream-v4-5' | 'seedream-v4-5-edit' | 'seedream-v5-lite' | 'seedream-v5-lite-edit'>(model: M) =>
  ({ model, fields: { nsfw_checker: SAFETY, quality: seedreamQuality(model) } }) as const;

// Gemini 2.5 Flash Image (the Market API's nano-banana): `image_size` is the Market API's
// deprecated old name of `aspect_ratio` (same values); renamed unless aspect_ratio is also given.
const gemini = { model: 'gemini-2.5-flash-image-preview', fields: { image_size: { action: 'rename', to: 'aspect_ratio' } } } as const;

export const MARKET_ALIASES = {
  'seedream/4.5-text-to-image': seedream('seedream-v4-5'),
  'seedream/4.5-edit': seedream('seedream-v4-5-edit'),
  'seedream/5-lite-text-to-image': seedream('seedream-v5-lite'),
  'seedream/5-lite-image-to-image': seedream('seedream-v5-lite-edit'),
  'z-image': { model: 'z-image', fields: { nsfw_checker: SAFETY } },
  'google/nano-banana': gemini,
  'google/nano-banana-edit': gemini,
  'nano-banana-2': { model: 'nano-banana-pro-flash', fields: { google_search: { action: 'rename', to: 'use_google_search_tool' } } },
  'google/imagen4-fast': { model: 'imagen4-fast' },
  'google/imagen4-ultra': {
    model: 'imagen4-ultra',
    fields: {
      // The Market API's seed is free text (≤ 500 chars); LiangXin's is an integer ≥ 1.
      seed: { action: 'integer', min: 1, why: 'imagen4-ultra takes input.seed as an integer of at least 1; this value has no integer equivalent' },
      negative_prompt: {
        action: 'refuse',
        why: 'imagen4-ultra has no negative_prompt (LiangXin lists prompt, aspect_ratio, person_generation, safety_settings, seed, enhance_prompt, language, output_format, compression_quality)',
      },
    },
  },
  'flux-2/pro-text-to-image': {
    model: 'flux-2-pro',
    fields: {
      // LiangXin's Flux-2 Pro sizes by width × height (256–1440 each, default 1024×768) or aspect_ratio.
      resolution: {
        action: 'map',
        values: {
          '1K': { action: 'drop', why: 'flux-2-pro renders about 1 megapixel by default (1024×768, or aspect_ratio)' },
          '2K': { action: 'refuse', why: 'flux-2-pro has no resolution; its width and height go up to 1440, short of 2K' },
        },
      },
      nsfw_checker: {
        action: 'map',
        values: {
          false: { action: 'drop', why: 'flux-2-pro has no safety checker to turn off' },
          true: { action: 'refuse', why: 'flux-2-pro has no safety checker field (LiangXin lists none for this model)' },
        },
      },
    },
  },
} as const satisfies TypedTable;

/** The table with the config's entries over it (`compat.aliases`): an entry replaces the built-in one. */
export function aliasTable(overrides: AliasTable = {}): AliasTable {
  return Object.freeze({ ...MARKET_ALIASES, ...overrides });
}
