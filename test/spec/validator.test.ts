// Our own validator, compiled from the spec: the same fixtures Prism judges, with one clean
// reason per failing field (no noise from the other models' branches).
import { describe, expect, it } from 'vitest';
import { createSpecValidator, formatFieldErrors } from '../../src/spec/validator.js';
import { listModels } from '../../src/spec/models.js';
import { allModels, invalidBodies, validBodies } from '../fixtures/create-task-bodies.js';

const validator = createSpecValidator();

describe('createSpecValidator', () => {
  it('knows the 13 models from the discriminator mapping', () => {
    expect(validator.models).toEqual([...allModels]);
  });

  it.each(validBodies)('accepts $name', ({ body }) => {
    expect(validator.validateCreateTask(body)).toEqual({ ok: true, value: body });
  });

  it.each(invalidBodies)('refuses $name, naming the field', ({ body, at, keyword, mentions }) => {
    const result = validator.validateCreateTask(body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const field = (keyword === 'required' || keyword === 'additionalProperties') && mentions ? [at, mentions].filter(Boolean).join('.') : at;
    expect(result.errors.map((e) => e.path)).toContain(field);
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
    const result = validator.validateCreateTask({ model: 'seedream/4.5-text-to-image', input: { prompt: '', aspect_ratio: '5:4' } });
    expect(result.ok || result.errors.map((e) => e.path).sort()).toEqual(['input.aspect_ratio', 'input.prompt', 'input.quality']);
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, [], 'x', 3]) {
      expect(validator.validateCreateTask(body)).toMatchObject({ ok: false, errors: [{ path: '', keyword: 'type' }] });
    }
  });

  it('validates answers against named component schemas', () => {
    expect(validator.validateSchema('ErrorResponse', { code: 402, msg: 'x', data: null }).ok).toBe(true);
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
    const seedream = models.find((m) => m.model === 'seedream/4.5-edit')!.variants[0]!.fields;
    expect(seedream.find((f) => f.name === 'image_urls')).toMatchObject({ type: 'array<string>', limits: '1–14 items', required: true });
    expect(seedream.find((f) => f.name === 'quality')).toMatchObject({ values: ['basic', 'high'], required: true });
  });
});
