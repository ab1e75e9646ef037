// Our own validator, compiled from the spec: the same fixtures Prism judges, with one clean
// reason per failing field (no noise from the other models' branches).
import { describe, expect, it } from 'vitest';
import { loadGatewaySpec } from '../../src/spec/document.js';
import { createSpecValidator, formatFieldErrors, REPORTED_ERRORS, type ValidationResult } from '../../src/spec/validator.js';
import { listModels } from '../../src/spec/models.js';
import { allModels, invalidBodies, refusedField, validBodies } from '../fixtures/create-task-bodies.js';

const validator = createSpecValidator();

describe('createSpecValidator', () => {
  it("knows LiangXin's models from the discriminator mapping", () => {
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

describe('hostile bodies', () => {
  const unknownFields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, 1]));
  const failed = (result: ValidationResult<unknown>) => {
    if (result.ok) throw new Error('expected a refusal');
    return result;
  };

  it(`names the first ${REPORTED_ERRORS} failing fields and counts them all`, () => {
    const result = failed(validator.validateCreateTask({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1', ...unknownFields(25) } }));
    expect(result.errors.map((e) => e.path)).toEqual(Array.from({ length: REPORTED_ERRORS }, (_, i) => `input.f${i}`));
    expect(result).toMatchObject({ errorCount: 25 });
    expect(result.partial).toBeUndefined();
    expect(formatFieldErrors(result.errors, result)).toMatch(/^input\.f0 is not a field here; .*input\.f19 is not a field here; and 5 more$/);
  });

  it('explains 90,000 unknown fields from the first ones, and still finds the real fields after them', () => {
    const result = failed(validator.validateCreateTask({ model: 'z-image', input: { ...unknownFields(90_000), prompt: 'x', aspect_ratio: '1:1' } }));
    expect(result.errors).toHaveLength(REPORTED_ERRORS);
    expect(result.partial).toBe(true);
    // Stopped early: a few dozen entries were explained, not 90,000.
    expect(result.errorCount).toBeGreaterThan(REPORTED_ERRORS);
    expect(result.errorCount).toBeLessThan(100);
    expect(result.errors.filter((e) => e.keyword === 'required')).toEqual([]);
    expect(formatFieldErrors(result.errors, result)).toMatch(/; and at least \d+ more$/);
  });

  it('explains a 400,000-item array by its size and its first items', () => {
    const result = failed(
      validator.validateCreateTask({ model: 'seedream-v4-5-edit', input: { prompt: 'x', aspect_ratio: '1:1', image_urls: Array(400_000).fill(1) } }),
    );
    expect(result.errors[0]).toMatchObject({ path: 'input.image_urls', keyword: 'maxItems' });
    expect(result.errors.slice(1).map((e) => e.path)).toEqual(Array.from({ length: REPORTED_ERRORS - 1 }, (_, i) => `input.image_urls.${i}`));
    expect(result).toMatchObject({ partial: true });
  });

  it('refuses deep nesting without descending into it', () => {
    const deep = (open: string, inner: string, close: string, n: number) => open.repeat(n) + inner + close.repeat(n);
    const body = JSON.parse(
      `{"model":"z-image","input":{"prompt":${deep('[', '', ']', 100_000)},"aspect_ratio":"1:1","x":${deep('{"a":', '1', '}', 100_000)}}}`,
    );
    expect(
      failed(validator.validateCreateTask(body))
        .errors.map((e) => e.path)
        .sort(),
    ).toEqual(['input.prompt', 'input.x']);
  });

  it('keeps a key named __proto__ a key when cutting an object', () => {
    const body = JSON.parse(`{"model":"z-image","input":{"__proto__":{"prompt":"x"},${JSON.stringify(unknownFields(100)).slice(1, -1)},"aspect_ratio":"1:1"}}`);
    const paths = failed(validator.validateCreateTask(body)).errors.map((e) => e.path);
    expect(paths.slice(0, 2)).toEqual(['input.prompt', 'input.__proto__']);
  });

  it('judges an oversized container the contract leaves open on all of it', () => {
    const urls = Array(1000).fill('https://files.example.com/a.png');
    const object = unknownFields(1000);
    expect(validator.validateSchema('TaskResult', { resultUrls: urls, resultObject: object }).ok).toBe(true);
    expect(failed(validator.validateSchema('TaskResult', { resultUrls: [...urls, 5], resultObject: object })).errors).toEqual([
      { path: 'resultUrls.1000', message: 'must be string', keyword: 'type' },
    ]);
  });

  it('says the cap in the gateway contract', () => {
    const refusal = loadGatewaySpec().components.schemas.RefusalDetails as { properties: { errors: { maxItems: number } } };
    expect(refusal.properties.errors.maxItems).toBe(REPORTED_ERRORS);
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
    expect(seedream.find((f) => f.name === 'aspect_ratio')).toMatchObject({
      required: false,
      default: 'square_1_1',
      values: expect.arrayContaining(['21:9', 'widescreen_16_9']),
    });
    expect(seedream.filter((f) => f.required).map((f) => f.name)).toEqual(['prompt', 'image_urls']);
    const pro = models.find((m) => m.model === 'nano-banana-pro')!;
    expect(pro.variants[0]!.fields.find((f) => f.name === 'resolution')).toMatchObject({ default: '2K' });
    expect(pro.rules).toEqual(['image_input + reference_images: at most 3 items together']);
  });
});
