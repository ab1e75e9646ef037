// The public Market API as an upstream dialect: LiangXin's (canonical) body translated into the
// Market API's ids and fields by the alias table read backwards, checked against the Market
// contract; its records and callbacks read back in LiangXin's terms.
import { describe, expect, it } from 'vitest';
import type { CreateTaskRequest } from '../../src/client/types.js';
import { createMarketProvider } from '../../src/providers/market/provider.js';
import { createSpecValidator } from '../../src/spec/validator.js';
import { loadMarketSpec } from '../../src/spec/document.js';

const market = createMarketProvider();
const marketContract = createSpecValidator(loadMarketSpec());
const body = (model: string, input: Record<string, unknown>) =>
  ({ model, callBackUrl: 'https://gw.example.org/callbacks/liangxin/gt_1/tok', input }) as CreateTaskRequest;

describe('LiangXin body → Market API body', () => {
  it.each([
    [
      'seedream-v4-5',
      { prompt: 'A fox', enable_safety_checker: true },
      'seedream/4.5-text-to-image',
      { prompt: 'A fox', nsfw_checker: true, quality: 'basic', aspect_ratio: '1:1' },
    ],
    [
      'seedream-v4-5-edit',
      { prompt: 'Blue', image_urls: ['https://cdn.example.org/a.png'], aspect_ratio: '16:9' },
      'seedream/4.5-edit',
      { prompt: 'Blue', image_urls: ['https://cdn.example.org/a.png'], aspect_ratio: '16:9', quality: 'basic' },
    ],
    ['z-image', { prompt: 'Neon' }, 'z-image', { prompt: 'Neon', aspect_ratio: '1:1' }],
    ['gemini-2.5-flash-image-preview', { prompt: 'A banana', aspect_ratio: 'auto' }, 'google/nano-banana', { prompt: 'A banana', aspect_ratio: 'auto' }],
    [
      'gemini-2.5-flash-image-preview',
      { prompt: 'Merge', image_urls: ['https://cdn.example.org/a.png'] },
      'google/nano-banana-edit',
      { prompt: 'Merge', image_urls: ['https://cdn.example.org/a.png'] },
    ],
    ['nano-banana-pro-flash', { prompt: 'Mood', use_google_search_tool: true }, 'nano-banana-2', { prompt: 'Mood', google_search: true }],
    ['imagen4-ultra', { prompt: 'Dew', seed: 7 }, 'google/imagen4-ultra', { prompt: 'Dew', seed: '7' }],
    ['flux-2-pro', { prompt: 'Kyoto' }, 'flux-2/pro-text-to-image', { prompt: 'Kyoto', resolution: '1K', nsfw_checker: false, aspect_ratio: '4:3' }],
    ['kling-v3-pro', { prompt: 'A fox', duration: 5 }, 'kling-v3-pro', { prompt: 'A fox', duration: 5 }],
  ])('%s %j → %s %j, valid in the Market contract', (model, input, marketModel, marketInput) => {
    const translated = market.translate(body(model, input));
    expect(translated).toEqual({ ok: true, body: { ...body(model, input), model: marketModel, input: marketInput } });
    expect(marketContract.validateCreateTask((translated as { body: unknown }).body).ok).toBe(true);
  });

  it.each([
    ['seedream-v4-5', { prompt: 'A fox', aspect_ratio: 'widescreen_16_9' }, 'aspect_ratio'],
    ['z-image', { prompt: 'Neon', num_inference_steps: 30 }, 'num_inference_steps'],
    ['flux-2-pro', { prompt: 'Kyoto', width: 1024, height: 1024 }, 'width'],
    ['nano-banana-pro', { prompt: 'Poster', reference_images: ['https://cdn.example.org/a.png'] }, 'reference_images'],
  ])('%s %j has no faithful Market body: refused, naming %s', (model, input, field) => {
    const translated = market.translate(body(model, input));
    expect(translated.ok).toBe(false);
    expect((translated as { why: string }).why).toContain(field);
  });

  it('serves the LiangXin models the Market API has a model for', () => {
    expect(market.serves('seedream-v4-5')).toBe(true);
    expect(market.serves('kling-v3-pro')).toBe(true);
    expect(market.serves('no-such-model')).toBe(false);
  });
});

describe("Market records and callbacks → the gateway's record", () => {
  const record = {
    taskId: 't1',
    model: 'seedream/4.5-text-to-image',
    state: 'success',
    param: '{}',
    resultJson: '{"resultUrls":["https://cdn.example.org/r.png"]}',
    failCode: null,
    failMsg: null,
    costTime: 3,
    completeTime: 2,
    createTime: 1,
    updateTime: 2,
    creditsConsumed: 6.5,
  };

  it("a record names LiangXin's model, and its cost is creditsConsumed × USD 0.005", () => {
    const read = market.readRecord({ httpStatus: 200, code: 200, msg: 'success', data: record, retryAfterMs: undefined });
    expect(read).toMatchObject({ kind: 'record', record: { model: 'seedream-v4-5', taskId: 't1' } });
    expect(market.costMicros((read as { record: typeof record & { state: 'success' } }).record as never)).toBe(32_500);
  });

  it("a failed task's callback (code 501) is read; a body that is not one is refused", () => {
    const failed = { ...record, state: 'fail', resultJson: '', failCode: '501', failMsg: 'Generation failed' };
    expect(market.readCallback({ code: 501, msg: 'Generation failed', data: failed })).toMatchObject({
      ok: true,
      record: { state: 'fail', model: 'seedream-v4-5' },
    });
    expect(market.readCallback({ code: 200, data: { taskId: 't1' } })).toMatchObject({ ok: false });
  });

  it('"recordInfo is null" inside HTTP 200 is a task not visible yet; a 401 says the key is refused', () => {
    expect(market.readRecord({ httpStatus: 200, code: 422, msg: 'recordInfo is null', data: null, retryAfterMs: undefined })).toEqual({ kind: 'not-visible' });
    expect(market.readRecord({ httpStatus: 200, code: 401, msg: 'no', data: null, retryAfterMs: undefined })).toMatchObject({
      kind: 'unavailable',
      key: 'disabled',
    });
  });
});
