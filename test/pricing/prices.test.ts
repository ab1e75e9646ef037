// Task prices from the reference table (1 credit = USD 0.005).
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, estimateCostUsd, usdToCredits } from '../../src/pricing/prices.js';
import { allModels } from '../fixtures/create-task-bodies.js';

describe('estimateCostUsd', () => {
  it('prices every model', () => {
    expect(Object.keys(DEFAULT_PRICES).sort()).toEqual([...allModels].sort());
  });

  it.each([
    [{ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } }, 0.004],
    [{ model: 'seedream-v4-5', input: {} }, 0.0325],
    [{ model: 'nano-banana-pro', input: { prompt: 'x' } }, 0.09], // LiangXin's default resolution, 2K
    [{ model: 'nano-banana-pro', input: { prompt: 'x', resolution: '4K' } }, 0.12],
    [{ model: 'nano-banana-pro', input: { prompt: 'x', resolution: 'high' } }, 0.12], // assumed 4K
    [{ model: 'nano-banana-pro-flash', input: { prompt: 'x' } }, 0.04], // LiangXin's default resolution, 1K
    [{ model: 'nano-banana-pro-flash', input: { prompt: 'x', resolution: '2K' } }, 0.06],
    [{ model: 'nano-banana-pro-flash', input: { prompt: 'x', resolution: 'medium' } }, 0.06], // assumed 2K
    [{ model: 'imagen4-fast', input: { prompt: 'x', num_images: '3' } }, 0.06],
    [{ model: 'flux-2-pro', input: { prompt: 'x' } }, 0.025],
    [{ model: 'flux-2-pro', input: { prompt: 'x', width: 1440, height: 1440 } }, 0.025], // flat: at most ~2 MP
    [{ model: 'kling-v3-pro', input: { prompt: 'x' } }, 0.675], // 5 s default, audio on by default
    [{ model: 'kling-v3-pro', input: { prompt: 'x', duration: 10, generate_audio: false } }, 0.9],
    [{ model: 'kling-v3-pro', input: { multi_prompt: [{ duration: 4 }, { duration: 6 }] } }, 1.35],
  ])('%j costs $%f', (body, usd) => {
    expect(estimateCostUsd(body)).toBeCloseTo(usd, 6);
  });

  it('returns undefined for an unknown model and takes a custom table', () => {
    expect(estimateCostUsd({ model: 'unknown', input: {} })).toBeUndefined();
    expect(estimateCostUsd({ model: 'z-image', input: {} }, { 'z-image': { perImage: 1 } })).toBe(1);
  });

  it('converts to credits', () => {
    expect(usdToCredits(0.09)).toBe(18);
    expect(usdToCredits(0.004)).toBe(0.8);
  });
});
