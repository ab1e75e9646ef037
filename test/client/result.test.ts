// parseResult on the spec's own examples and on the odd shapes live records take.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { LiangxinParseError, parseResult, type TaskRecord } from '../../src/client/index.js';
import { liangxinSpecPath } from '../../src/spec/files.js';

const spec = parse(readFileSync(liangxinSpecPath, 'utf8'));
const examples = spec.paths['/api/v1/jobs/recordInfo'].get.responses['200'].content['application/json'].examples as Record<
  string,
  { value: { code: number; data: TaskRecord } }
>;
const recordOf = (name: string) => examples[name]!.value.data;

describe('parseResult', () => {
  it('parses result URLs and the original request of a success', () => {
    const parsed = parseResult(recordOf('success-image'));
    expect(parsed.resultUrls).toEqual(['https://tempfile.your-cdn.com/results/task_seedream-v4-5_1777600000000.png']);
    expect(parsed.param).toMatchObject({ model: 'seedream-v4-5', input: { aspect_ratio: 'widescreen_16_9' } });
    // LiangXin's "Empty unless state is fail" is `""`: parsed, it is no failure at all.
    expect(recordOf('success-image').failCode).toBe('');
    expect(parsed).toMatchObject({ failCode: null, failMsg: null });
  });

  it('gives no URLs before the task ends and on failure', () => {
    expect(parseResult(recordOf('generating')).resultUrls).toEqual([]);
    const failed = parseResult(recordOf('failed'));
    expect(failed).toMatchObject({ state: 'fail', resultUrls: [], failCode: '501' });
  });

  it('parses an input that is itself a JSON string', () => {
    const record = { ...recordOf('success-image'), param: JSON.stringify({ model: 'z-image', input: JSON.stringify({ prompt: 'x' }) }) };
    expect(parseResult(record).param?.input).toEqual({ prompt: 'x' });
  });

  it('returns resultObject for text models', () => {
    const record = { ...recordOf('success-image'), resultJson: '{"resultObject":{"caption":"a fox"}}' };
    expect(parseResult(record)).toMatchObject({ resultUrls: [], resultObject: { caption: 'a fox' } });
  });

  it('refuses malformed JSON with LiangxinParseError naming the field', () => {
    const record = { ...recordOf('success-image'), resultJson: '{"resultUrls":[' };
    expect(() => parseResult(record)).toThrow(LiangxinParseError);
    expect(() => parseResult(record)).toThrow(/resultJson/);
    const badParam = { ...recordOf('success-image'), param: 'nope' };
    expect(() => parseResult(badParam)).toThrow(/param/);
  });
});
