// Our own validator, compiled from the spec: the same fixtures Prism judges, with one clean
// reason per failing field (no noise from the other models' branches).
import { describe, expect, it } from 'vitest';
import { createSpecValidator, formatFieldErrors } from '../../src/spec/validator.js';
import { listModels } from '../../src/spec/models.js';
import { allModels, invalidBodies, refusedField, validBodies } from '../fixtures/create-task-bodies.js';

const validator = createSpecValidator();

describe('createSpecValidator', () => {
  it('knows LiangXin\'s 12 models from the discriminator mapping', () => {
    expect(validator.models).toEqual([...allModels]);
  });

  it.each(validBodies)('accepts $name', ({ body }) => {
    expect(validator.validateCreateTask(body)).toEqual({ ok: true, value: body });
  });

  it.each(invalidBodies)('refuses $name, naming the field', (invalid) => {
    const result = validator.validateCreateTask(invalid.body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.path)).toContain(refusedField(invalid));
    if (invalid.byRule) {
      const broken = result.errors.find((e) => e.path === invalid.at);
      expect(broken).toMatchObject({ keyword: invalid.keyword });
      expect(broken!.message).toContain(invalid.mentions);
    }
    // Only this model's reasons: never a complaint about another model's `model` constant.
    expect(result.errors.filter((e) => e.path === 'model' && e.keyword === 'const')).toEqual([]);
  });

  it('explains Kling alternatives by their titles', () => {
    const both = validator.validateCreateTask({ model: 'kling-v3-pro', input: { prompt: 'x', multi_prompt: [{ prompt: 'y', duration: 3 }] } });
    expect(both.ok || formatFieldErrors(both.errors)).toBe(
      'input.multi_prompt is not allowed here (Kling 3 Pro – one prompt); input.prompt is not allowed here (Kling 3 Pro – multi-shot)',
    );
    const range = validator.validateCreateTask({ model: 'kling-v3-pro', input: { prompt: 'x', duration: 20 } });
    expect(range.ok || formatFieldErrors(range.errors)).toBe('input.duration must be <= 15');
  });

  it('lists every failing field at once', () => {
    const result = validator.validateCreateTask({ model: 'seedream-v4-5', input: { prompt: '', aspect_ratio: '5:4', quality: 'high' } });
    expect(result.ok || result.errors.map((e) => e.path).sort()).toEqual(['input.aspect_ratio', 'input.prompt', 'input.quality']);
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, [], 'x', 3]) {
      expect(validator.validateCreateTask(body)).toMatchObject({ ok: false, errors: [{ path: '', keyword: 'type' }] });
    }
  });

  it('validates answers against named component schemas', () => {
    expect(validator.validateSchema('ErrorResponse', { code: 402, msg: 'x', data: null }).ok).toBe(true);
    expect(validator.validateSchema('ErrorResponse', { code: 403, msg: 'insufficient quota', data: null }).ok).toBe(true);
    expect(validator.validateSchema('ErrorResponse', { code: 413, msg: 'request body too large', data: null }).ok).toBe(true);
    // LiangXin's 401 is not the envelope.
    expect(validator.validateSchema('AuthError', { error: { message: 'invalid token', type: 'new_api_error', code: '' } }).ok).toBe(true);
    expect(validator.validateSchema('ErrorResponse', { error: { message: 'invalid token' } }).ok).toBe(false);
    expect(validator.validateSchema('ErrorResponse', { code: 299, msg: 'x' }).ok).toBe(false);
    expect(() => validator.validateSchema('NoSuchSchema', {})).toThrow(/no schema named NoSuchSchema/);
  });
});

describe('listModels', () => {
  it('describes every model from the spec, Kling with two variants', () => {
    const models = listModels();
    expect(models.map((m) => m.model)).toEqual([...allModels]);
    const kling = models.find((m) => m.model === 'kling-v3-pro')!;
    expect(kling.variants.map((v) => v.title)).toEqual(['Kling 3 Pro – one prompt', 'Kling 3 Pro – multi-shot']);
    expect(kling.variants[0]!.fields.find((f) => f.name === 'duration')).toMatchObject({ type: 'integer', limits: '3–15', required: false });
    expect(kling.rules).toEqual(['multi_prompt[].duration: adding up to at most 15']);
    const seedream = models.find((m) => m.model === 'seedream-v4-5-edit')!.variants[0]!.fields;
    expect(seedream.find((f) => f.name === 'image_urls')).toMatchObject({ type: 'array<string>', limits: '1–5 items', required: true });
    expect(seedream.find((f) => f.name === 'aspect_ratio')).toMatchObject({ required: false, default: 'square_1_1', values: expect.arrayContaining(['21:9', 'widescreen_16_9']) });
    expect(seedream.filter((f) => f.required).map((f) => f.name)).toEqual(['prompt', 'image_urls']);
    const pro = models.find((m) => m.model === 'nano-banana-pro')!;
    expect(pro.variants[0]!.fields.find((f) => f.name === 'resolution')).toMatchObject({ default: '2K' });
    expect(pro.rules).toEqual(['image_input + reference_images: at most 3 items together']);
  });
});
