// What the spec states as data beside its schemas: the `x-liangxin-rules` JSON Schema cannot
// express, and the `default` values the provider applies.
import { describe, expect, it } from 'vitest';
import { loadLiangxinSpec, type SpecDocument } from '../../src/spec/document.js';
import { inputDefaults } from '../../src/spec/defaults.js';
import { checkRules, inputRules, SpecRuleError } from '../../src/spec/rules.js';
import { createSpecValidator, formatFieldErrors } from '../../src/spec/validator.js';

const validator = createSpecValidator();
const urls = (n: number) => Array.from({ length: n }, (_, i) => `https://cdn.example.org/${i}.png`);

describe('x-liangxin-rules', () => {
  it('are read from the spec for the models that have them', () => {
    // toMatchObject: a model added later with rules of its own (or sharing these) is covered by its fixtures.
    expect(Object.fromEntries(inputRules())).toMatchObject({
      'nano-banana-pro': [{ maxCombinedItems: 3, fields: ['image_input', 'reference_images'] }],
      'nano-banana-pro-flash': [{ maxCombinedItems: 3, fields: ['image_input', 'reference_images'] }],
      'flux-2-pro': [{ maxCombinedItems: 4, fields: ['input_image', 'input_image_2', 'input_image_3', 'input_image_4', 'reference_images'] }],
      'kling-v3-pro': [{ maxSum: 15, field: 'multi_prompt', of: 'duration' }],
    });
  });

  it('refuse naming the fields and the numbers', () => {
    const pro = validator.validateCreateTask({ model: 'nano-banana-pro', input: { prompt: 'xy', image_input: urls(2), reference_images: urls(2) } });
    expect(pro.ok || formatFieldErrors(pro.errors)).toBe('input.image_input together with input.reference_images must have at most 3 items (4 given)');
    const flux = validator.validateCreateTask({
      model: 'flux-2-pro',
      input: { prompt: 'x', input_image: urls(1)[0], input_image_3: urls(1)[0], reference_images: urls(3) },
    });
    expect(flux.ok || formatFieldErrors(flux.errors)).toBe(
      'input.input_image together with input.input_image_3, input.reference_images must have at most 4 items (5 given)',
    );
    const kling = validator.validateCreateTask({
      model: 'kling-v3-pro',
      input: {
        multi_prompt: [
          { prompt: 'a', duration: 10 },
          { prompt: 'b', duration: 6 },
        ],
      },
    });
    expect(kling.ok || formatFieldErrors(kling.errors)).toBe('input.multi_prompt must have duration adding up to at most 15 (16 given)');
  });

  it('are checked only once the schema passed (its reasons come first and alone)', () => {
    const result = validator.validateCreateTask({ model: 'nano-banana-pro', input: { prompt: 'x', image_input: urls(2), reference_images: urls(2) } });
    expect(result.ok || result.errors.map((e) => e.keyword)).toEqual(['minLength']);
  });

  it('count a present non-array field as one item and ignore what is absent', () => {
    const rule = { maxCombinedItems: 1, fields: ['a', 'b'] };
    expect(checkRules([rule], { a: 'x' })).toEqual([]);
    expect(checkRules([rule], { a: 'x', b: [] })).toEqual([]);
    expect(checkRules([rule], { b: ['x', 'y'] })).toMatchObject([{ path: 'input.b', message: 'must have at most 1 items (2 given)' }]);
    expect(checkRules([rule], 'not an object')).toEqual([]);
  });

  it('refuse at start-up a rule the validator does not know', () => {
    const spec = loadLiangxinSpec();
    const doc = structuredClone(spec) as SpecDocument;
    doc.components.schemas.ZImageInput!['x-liangxin-rules'] = [{ minCombinedItems: 1, fields: ['seed'] }];
    expect(() => inputRules(doc)).toThrow(SpecRuleError);
    expect(() => createSpecValidator(doc)).toThrow(/ZImageTask input has a x-liangxin-rules entry this validator does not know/);
  });
});

describe('defaults from the spec', () => {
  it('are the ones LiangXin states, per model', () => {
    const defaults = inputDefaults();
    expect(defaults.get('seedream-v4-5')).toEqual({ aspect_ratio: 'square_1_1' });
    expect(defaults.get('z-image')).toEqual({ image_size: 'square_hd' });
    expect(defaults.get('nano-banana-pro')).toEqual({ aspect_ratio: '1:1', resolution: '2K', output_format: 'png' });
    expect(defaults.get('nano-banana-pro-flash')).toMatchObject({ resolution: '1K' });
    expect(defaults.get('imagen4-ultra')).toEqual({ aspect_ratio: 'square_1_1' });
    expect(defaults.get('flux-2-pro')).toEqual({ width: 1024, height: 768 });
  });

  it("include the public API's where LiangXin is silent, across Kling's alternatives", () => {
    const defaults = inputDefaults();
    expect(defaults.get('imagen4-fast')).toEqual({ aspect_ratio: '16:9', num_images: '1' });
    expect(defaults.get('kling-v3-pro')).toEqual({
      shot_type: 'customize',
      duration: 5,
      aspect_ratio: '16:9',
      negative_prompt: 'blur, distort, and low quality',
      generate_audio: true,
      cfg_scale: 0.5,
    });
  });

  it("never make a field required: only model and input.prompt are (and an edit's images)", () => {
    const required = validator.validateCreateTask({ model: 'imagen4-ultra', input: {} });
    expect(required.ok || required.errors.map((e) => e.path)).toEqual(['input.prompt']);
  });
});
