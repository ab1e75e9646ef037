// What a task costs, from the provider's price list (1 credit = USD 0.005). Prices change, so the
// table is data: the gateway's configuration can replace it; these are the reference defaults.
// The table is in USD (as the provider quotes it, and as operators write it in the config); an
// estimate comes out in integer micro-dollars (money.ts), the unit of everything downstream.
import type { CreateTaskRequest } from '../client/types.js';
import { usdToMicros } from './money.js';

export type PriceRule =
  /** A price per image (at the model's default resolution); `byResolution` overrides it for the input's `resolution`. */
  | { perImage: number; byResolution?: Record<string, number> }
  /** A price per second of video, higher with a sound track. */
  | { perSecond: number; perSecondWithAudio: number };

export type PriceTable = Record<string, PriceRule>;

export const DEFAULT_PRICES: PriceTable = {
  'seedream-v4-5': { perImage: 0.0325 },
  'seedream-v4-5-edit': { perImage: 0.0325 },
  'seedream-v5-lite': { perImage: 0.0275 },
  'seedream-v5-lite-edit': { perImage: 0.0275 },
  'z-image': { perImage: 0.004 },
  'gemini-2.5-flash-image-preview': { perImage: 0.02 },
  'nano-banana-pro': { perImage: 0.09, byResolution: { '1K': 0.09, '2K': 0.09, '4K': 0.12 } },
  'nano-banana-pro-flash': { perImage: 0.04, byResolution: { '1K': 0.04, '2K': 0.06, '4K': 0.09 } },
  'imagen4-fast': { perImage: 0.02 },
  'imagen4-ultra': { perImage: 0.06 },
  // LiangXin's Flux-2 Pro has no `resolution`: width × height, each 256–1440 (default 1024×768),
  // so at most ~2 MP. The public API's 2K price is for ~4 MP images LiangXin cannot make; every
  // LiangXin Flux image is priced as the public API's 1K one, flat.
  'flux-2-pro': { perImage: 0.025 },
  'kling-v3-pro': { perSecond: 0.09, perSecondWithAudio: 0.135 },
};

type LooseInput = Record<string, unknown>;

/**
 * Whether a model makes video: its price is per second. The one place this is known, so a new
 * video model needs its price and nothing else (the simulator draws an MP4 and reports progress).
 */
export function makesVideo(model: string, table: PriceTable = DEFAULT_PRICES): boolean {
  const rule = table[model];
  return rule !== undefined && 'perSecond' in rule;
}

/**
 * Nano Banana Pro also takes `low`, `medium` and `high`; LiangXin does not say what they render,
 * so they are assumed to be priced as 1K, 2K and 4K.
 */
const RESOLUTION_ALIASES: Readonly<Record<string, string>> = { low: '1K', medium: '2K', high: '4K' };

/** How many images a body asks for (Imagen 4 Fast's `num_images` is a string, "1" to "4"). */
export function imageCount(input: LooseInput): number {
  const n = Number(input.num_images ?? 1);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/** Seconds of video a Kling body asks for: the shots' sum, else `duration`, else the default 5. */
export function videoSeconds(input: LooseInput): number {
  if (Array.isArray(input.multi_prompt)) {
    const shots = input.multi_prompt as Array<{ duration?: unknown }>;
    return shots.reduce<number>((sum, shot) => sum + Number(shot.duration ?? 0), 0);
  }
  return typeof input.duration === 'number' ? input.duration : 5;
}

/**
 * The estimated price of a task in integer micro-dollars; undefined for a model the table does
 * not know. The unit price is converted first and then multiplied, so the estimate is exactly
 * count × price however many images or seconds (0.035 × 3 in floats is 0.10500000000000001).
 */
export function estimateCostMicros(body: CreateTaskRequest | { model: string; input: LooseInput }, table: PriceTable = DEFAULT_PRICES): number | undefined {
  const rule = table[body.model];
  if (!rule) return undefined;
  const input = body.input as LooseInput;
  if ('perSecond' in rule) {
    const audio = input.generate_audio !== false; // the provider's default is true
    // Math.round: a shot's duration is a whole number of seconds, but the input is not the store's to trust.
    return Math.round(videoSeconds(input) * usdToMicros(audio ? rule.perSecondWithAudio : rule.perSecond));
  }
  const resolution = typeof input.resolution === 'string' ? (RESOLUTION_ALIASES[input.resolution] ?? input.resolution) : undefined;
  const each = (resolution === undefined ? undefined : rule.byResolution?.[resolution]) ?? rule.perImage;
  return usdToMicros(each) * imageCount(input);
}
