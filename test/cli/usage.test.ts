// The command's surface without a server: help, the model catalogue, and every way `create`
// refuses input before sending anything (exit 2, one line naming the field).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../src/spec/models.js';
import { listModels } from '../../src/spec/models.js';
import { json, startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { deadPort, runCli, stderrLines } from './run-cli.js';
import { allModels } from '../fixtures/create-task-bodies.js';

const apiKey = 'sk-test-NEVER-PRINTED-0123';
let nowhere: string;
let dir: string;

beforeAll(async () => {
  nowhere = `http://127.0.0.1:${await deadPort()}`;
  dir = await mkdtemp(join(tmpdir(), 'liangxin-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.concurrent('help', () => {
  it('documents every command and the exit codes', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['start', 'models', 'create', 'get', 'simulate', 'mock']) expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(result.stdout).toMatch(/Exit codes:[\s\S]*0 +ok[\s\S]*1 +the API refused[\s\S]*2 +invalid usage[\s\S]*3 +--wait timed out[\s\S]*4 +could not reach/);
    expect(result.stdout).toContain('LIANGXIN_API_KEY');
  });

  const expected: Record<string, string[]> = {
    models: ['--json'],
    create: [
      '<model>',
      '--input',
      '--callback-url',
      '--wait',
      '--download',
      '--timeout',
      '--poll-interval',
      '--json',
      '--base-url',
      '--api-key',
      'LIANGXIN_BASE_URL',
    ],
    get: ['<taskId>', '--json', '--base-url', '--api-key', 'LIANGXIN_API_KEY'],
    simulate: ['--port', '--host', '--timing', 'fast', 'demo', 'realistic', '--api-key', '--credits', '--hmac-key', '--quirk'],
    start: ['--port', '--json'],
  };
  for (const [command, words] of Object.entries(expected)) {
    it(`${command} --help lists its options`, async () => {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: liangxin-gateway ${command}`);
      for (const word of words) expect(result.stdout).toContain(word);
    });
  }

  it('exits 2 on a usage error commander catches', async () => {
    const unknown = await runCli(['create', 'z-image', '--input', '{}', '--no-such-flag']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/error: unknown option '--no-such-flag'/);
    const badNumber = await runCli(['create', 'z-image', '--input', '{}', '--timeout', 'soon']);
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toContain('"soon" is not a positive number of seconds');
    expect((await runCli(['create', 'z-image'])).code).toBe(2); // --input is required
    expect((await runCli([])).code).toBe(2); // no command
  });
});

describe.concurrent('models', () => {
  const catalogue = listModels();

  it('prints every model of the contract with its fields', async () => {
    const result = await runCli(['models']);
    expect(result.code).toBe(0);
    expect(catalogue.map((m) => m.model)).toEqual([...allModels]);
    for (const info of catalogue) expect(result.stdout).toContain(`${info.model} — ${info.title}`);
    expect(result.stdout).toMatch(/^ {2}image_size +string +optional +1–64 chars; default square_hd$/m); // z-image
    expect(result.stdout).toMatch(/^ {2}resolution +string +optional +one of 1K, 2K, 4K, low, medium, high; default 2K$/m); // nano-banana-pro
    expect(result.stdout).toContain('  rule: image_input + reference_images: at most 3 items together');
    // Kling's two input variants, each with its own fields.
    expect(result.stdout).toContain('Kling 3 Pro – one prompt:');
    expect(result.stdout).toMatch(/Kling 3 Pro – multi-shot:\n {4}multi_prompt +array<object> +required +1–6 items/);
  });

  it('prints the ModelInfo array with --json', async () => {
    const result = await runCli(['models', '--json']);
    expect(result.code).toBe(0);
    const models = JSON.parse(result.stdout) as ModelInfo[];
    expect(models.map((m) => m.model)).toEqual([...allModels]);
    expect(models).toEqual(catalogue);
    const kling = models.find((m) => m.model === 'kling-v3-pro')!;
    expect(kling.variants).toHaveLength(2);
    expect(kling.variants[1]!.fields.find((f) => f.name === 'multi_prompt')?.required).toBe(true);
  });
});

describe.concurrent('create refuses bad input before sending anything', () => {
  // Pointed at a port where nothing listens: had anything been sent, the exit would be 4.
  const create = (...args: string[]) => runCli(['create', ...args, '--base-url', nowhere, '--api-key', apiKey]);

  function expectOneLine(result: Awaited<ReturnType<typeof runCli>>, pattern: RegExp) {
    expect(result.code).toBe(2);
    expect(stderrLines(result)).toHaveLength(1);
    expect(stderrLines(result)[0]).toMatch(pattern);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain(apiKey);
  }

  it('an unknown model', async () => {
    const result = await create('z-imagine', '--input', '{"prompt":"x","aspect_ratio":"1:1"}');
    expectOneLine(result, /^error: model must be one of .*\bz-image\b.*kling-v3-pro.* \(got "z-imagine"\)$/);
  });

  it('--input that is not JSON', async () => {
    expectOneLine(await create('z-image', '--input', '{prompt: x}'), /^error: --input is not JSON: /);
  });

  it('--input @file that does not exist', async () => {
    const path = join(dir, 'missing.json');
    expectOneLine(await create('z-image', '--input', `@${path}`), new RegExp(`^error: --input @${path}: cannot read the file \\(no such file\\)$`));
  });

  it('--input @file that is not JSON', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, 'prompt = "x"\n');
    expectOneLine(await create('z-image', '--input', `@${path}`), /^error: --input @.*broken\.json is not JSON: /);
  });

  it('a value outside the enum', async () => {
    const result = await create('imagen4-ultra', '--input', '{"prompt":"x","aspect_ratio":"2:1"}');
    expectOneLine(
      result,
      /^error: input\.aspect_ratio must be one of square_1_1, social_story_9_16, widescreen_16_9, traditional_3_4, classic_4_3, 1:1, 9:16, 16:9, 3:4, 4:3$/,
    );
  });

  it("a field of another model (Kling's duration on z-image)", async () => {
    const result = await create('z-image', '--input', '{"prompt":"x","aspect_ratio":"1:1","duration":5}');
    expectOneLine(result, /^error: input\.duration is not a field here$/);
  });

  it('a missing required field, and every failing field on the one line', async () => {
    const result = await create('seedream-v4-5-edit', '--input', '{"aspect_ratio":"1:1"}');
    expectOneLine(result, /^error: input\.prompt is required; input\.image_urls is required$/);
  });

  it('a callback URL that is not a URL', async () => {
    const result = await create('z-image', '--input', '{"prompt":"x","aspect_ratio":"1:1"}', '--callback-url', 'not a url');
    expectOneLine(result, /^error: callBackUrl /);
  });

  it('a --download folder that cannot be created', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const result = await create('z-image', '--input', '{"prompt":"x","aspect_ratio":"1:1"}', '--download', join(file, 'sub'));
    expectOneLine(result, /^error: --download .*a-file\/sub: cannot create the folder \(ENOTDIR\)$/);
  });

  it('no API key', async () => {
    const result = await runCli(['create', 'z-image', '--input', '{"prompt":"x","aspect_ratio":"1:1"}', '--base-url', nowhere]);
    expectOneLine(result, /^error: no API key: pass --api-key or set LIANGXIN_API_KEY$/);
  });

  it('a base URL that is not http(s)', async () => {
    const result = await runCli(['get', 't1', '--base-url', 'ftp://example.com', '--api-key', apiKey]);
    expectOneLine(result, /^error: --base-url must be http:\/\/ or https:\/\//);
  });
});

describe('create and get against nothing', () => {
  it('exit 4 when nothing listens, without printing the key', async () => {
    const result = await runCli(['create', 'z-image', '--input', '{"prompt":"x","aspect_ratio":"1:1"}', '--base-url', nowhere, '--api-key', apiKey]);
    expect(result.code).toBe(4);
    expect(stderrLines(result)).toEqual([expect.stringMatching(new RegExp(`^error: could not reach the server at ${nowhere} \\(.*ECONNREFUSED.*\\)$`))]);
    expect(result.stderr).not.toContain(apiKey);
    const get = await runCli(['get', 't1', '--base-url', nowhere, '--api-key', apiKey]);
    expect(get.code).toBe(4);
  });

  describe('with a server that records what arrives', () => {
    let server: ScriptedServer;
    beforeAll(async () => {
      server = await startScriptedServer((_req, res) => json(res, 200, { code: 200, msg: 'success', data: { taskId: 't-recorded' } }));
    });
    afterAll(() => server.close());

    it('sends nothing for a refused body, and the checked body for a good one', async () => {
      const bad = await runCli(['create', 'flux-2-pro', '--input', '{"prompt":"x","width":1024}', '--base-url', server.url, '--api-key', apiKey]);
      expect(bad.code).toBe(2);
      expect(server.requests).toHaveLength(0);
      const good = await runCli([
        'create',
        'z-image',
        '--input',
        '{"prompt":"x","aspect_ratio":"1:1"}',
        '--callback-url',
        'https://example.com/hook',
        '--base-url',
        server.url,
        '--api-key',
        apiKey,
      ]);
      expect(good).toMatchObject({ code: 0, stdout: 't-recorded\n' });
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]).toMatchObject({ method: 'POST', url: '/api/v1/jobs/createTask' });
      expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${apiKey}`);
      expect(JSON.parse(server.requests[0]!.body)).toEqual({
        model: 'z-image',
        callBackUrl: 'https://example.com/hook',
        input: { prompt: 'x', aspect_ratio: '1:1' },
      });
    });
  });
});
