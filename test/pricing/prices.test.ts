// Task prices from the reference table (1 credit = USD 0.005), in integer micro-dollars, and the
// conversions at the edges (USD in from the config, USD text out to the usage API).
import { describe, expect, it } from 'vitest';
import { creditsToMicros, formatUsd, microsToCredits, usdToMicros } from '../../src/pricing/money.js';
import { DEFAULT_PRICES, estimateCostMicros, makesVideo } from '../../src/pricing/prices.js';
import { allModels } from '../fixtures/create-task-bodies.js';

describe('estimateCostMicros', () => {
  it('prices every model', () => {
    expect(Object.keys(DEFAULT_PRICES).sort()).toEqual([...allModels].sort());
  });

  it('knows the video models by their price per second (what the simulator draws as MP4)', () => {
    expect(makesVideo('kling-v3-pro')).toBe(true);
    expect(makesVideo('z-image')).toBe(false);
    expect(makesVideo('no-such-model')).toBe(false);
  });

  it.each([
    [{ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } }, 4_000],
    [{ model: 'seedream-v4-5', input: {} }, 32_500],
    [{ model: 'nano-banana-pro', input: { prompt: 'x' } }, 90_000], // LiangXin's default resolution, 2K
    [{ model: 'nano-banana-pro', input: { prompt: 'x', resolution: '4K' } }, 120_000],
    [{ model: 'nano-banana-pro', input: { prompt: 'x', resolution: 'high' } }, 120_000], // assumed 4K
    [{ model: 'nano-banana-pro-flash', input: { prompt: 'x' } }, 40_000], // LiangXin's default resolution, 1K
    [{ model: 'nano-banana-pro-flash', input: { prompt: 'x', resolution: '2K' } }, 60_000],
    [{ model: 'nano-banana-pro-flash', input: { prompt: 'x', resolution: 'medium' } }, 60_000], // assumed 2K
    [{ model: 'imagen4-fast', input: { prompt: 'x', num_images: '3' } }, 60_000],
    [{ model: 'flux-2-pro', input: { prompt: 'x' } }, 25_000],
    [{ model: 'flux-2-pro', input: { prompt: 'x', width: 1440, height: 1440 } }, 25_000], // flat: at most ~2 MP
    [{ model: 'kling-v3-pro', input: { prompt: 'x' } }, 675_000], // 5 s default, audio on by default
    [{ model: 'kling-v3-pro', input: { prompt: 'x', duration: 10, generate_audio: false } }, 900_000],
    [{ model: 'kling-v3-pro', input: { multi_prompt: [{ duration: 4 }, { duration: 6 }] } }, 1_350_000],
  ])('%j costs %i µ$', (body, micros) => {
    expect(estimateCostMicros(body)).toBe(micros);
  });

  it('is a whole number of micro-dollars for any price a config may give', () => {
    // 0.035 × 3 as floats is 0.10500000000000001; the unit price is converted first.
    expect(estimateCostMicros({ model: 'x', input: { num_images: '3' } }, { x: { perImage: 0.035 } })).toBe(105_000);
    expect(estimateCostMicros({ model: 'x', input: {} }, { x: { perImage: 0.0000004 } })).toBe(0);
    expect(estimateCostMicros({ model: 'v', input: { duration: 7 } }, { v: { perSecond: 0.0333333, perSecondWithAudio: 0.0333333 } })).toBe(233_331);
  });

  it('returns undefined for an unknown model and takes a custom table', () => {
    expect(estimateCostMicros({ model: 'unknown', input: {} })).toBeUndefined();
    expect(estimateCostMicros({ model: 'z-image', input: {} }, { 'z-image': { perImage: 1 } })).toBe(1_000_000);
  });
});

describe('money at the edges', () => {
  it('converts USD and credits to micro-dollars, and back to credits', () => {
    expect(usdToMicros(0.0325)).toBe(32_500);
    expect(usdToMicros(12.5)).toBe(12_500_000);
    expect(creditsToMicros(0.8)).toBe(4_000);
    expect(creditsToMicros(135)).toBe(675_000);
    expect(microsToCredits(90_000)).toBe(18);
    expect(microsToCredits(4_000)).toBe(0.8);
  });

  it.each([
    [220_000, '0.22'],
    [0, '0.00'],
    [1_000_000, '1.00'],
    [4_000, '0.004'],
    [1, '0.000001'],
    [123_456_789, '123.456789'],
    [10_500_000, '10.50'],
    [Number.MAX_SAFE_INTEGER, '9007199254.740991'],
    [-2_500, '-0.0025'],
  ])('formats %i µ$ as "%s" USD', (micros, text) => {
    expect(formatUsd(micros)).toBe(text);
  });
});
