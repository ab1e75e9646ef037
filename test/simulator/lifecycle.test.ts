// Tasks move through every state on the simulator's clock and end with real, downloadable files.
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator, type SimulatorOptions } from '../../mock/simulator/index.js';
import { createLiangxinClient, LiangxinError, parseResult, type CreateTaskRequest, type TaskRecord } from '../../src/client/index.js';
import { download, kindOf, pngSize } from '../helpers/files.js';
import { pollUntil } from '../helpers/wait.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}) {
  sim = await createSimulator(options);
  return { sim, client: createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-sim-dev' }) };
}

describe('task lifecycle on a test clock', () => {
  it('goes waiting → queuing → generating → success, with the record filled in at the end', async () => {
    let now = 1_000_000;
    const timing = { visibleAfterMs: 100, waitingMs: 1000, queuingMs: 1000, generatingMs: 2000, videoGeneratingMs: 4000, lateCallbackMs: 0 };
    const { client } = await start({ now: () => now, timing });
    const { taskId } = await client.createTask({ model: 'kling-v3-pro', input: { prompt: 'x', duration: 5, generate_audio: false } });

    await expect(client.getTask(taskId)).rejects.toMatchObject({ code: 422, msg: 'recordInfo is null', httpStatus: 200 });
    const seen: TaskRecord[] = [];
    for (const at of [100, 1000, 2000, 3000, 6000]) {
      now = 1_000_000 + at;
      seen.push(await client.getTask(taskId));
    }
    expect(seen.map((r) => r.state)).toEqual(['waiting', 'queuing', 'generating', 'generating', 'success']);
    expect(seen.map((r) => r.progress)).toEqual([0, 0, 0, 25, 100]);
    // LiangXin: failCode and failMsg are "Empty unless state is fail".
    expect(seen[0]).toMatchObject({
      resultJson: '',
      costTime: null,
      completeTime: null,
      failCode: '',
      failMsg: '',
      createTime: 1_000_000,
      updateTime: 1_000_000,
    });
    expect(seen[1]!.updateTime).toBe(1_001_000);
    expect(seen[4]).toMatchObject({ completeTime: 1_006_000, costTime: 6, creditsConsumed: 90 }); // 5 s × $0.09 = $0.45 = 90 credits
    expect(JSON.parse(seen[4]!.param)).toEqual({ model: 'kling-v3-pro', input: { prompt: 'x', duration: 5, generate_audio: false } });
  });

  it('ends a task with the fail quirk in fail/501 and refunds its credits', async () => {
    let now = 0;
    const { sim, client } = await start({
      now: () => now,
      timing: { waitingMs: 0, queuingMs: 0, generatingMs: 50, visibleAfterMs: 0 },
      accounts: [{ apiKey: 'sk-sim-dev', credits: 100, quirks: ['fail'] }],
    });
    const { taskId } = await client.createTask({ model: 'nano-banana-pro', input: { prompt: 'xy' } });
    expect(sim.accounts()[0]!.credits).toBe(82); // $0.09 = 18 credits held while it runs
    now = 50;
    const record = await client.getTask(taskId);
    expect(parseResult(record)).toMatchObject({ state: 'fail', failCode: '501', resultUrls: [] });
    expect(record.creditsConsumed).toBe(0);
    // The refund runs on a real timer: waited for, not slept on.
    await pollUntil('the refund', () => sim.accounts()[0]!.credits === 100);
  });
});

describe('results are real files', () => {
  it('draws a PNG of the requested aspect ratio', async () => {
    const { client } = await start();
    const { taskId } = await client.createTask({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '16:9' } });
    const [url] = parseResult(await client.waitForTask(taskId, { initialDelayMs: 20 })).resultUrls;
    const file = await download(url!);
    expect(file).toMatchObject({ status: 200, type: 'image/png' });
    expect(kindOf(file.bytes)).toBe('png');
    expect(pngSize(file.bytes)).toEqual({ width: 256, height: 144 });
  });

  it('draws JPEGs when asked, one file per requested image', async () => {
    const { client } = await start();
    const { taskId } = await client.createTask({
      model: 'gemini-2.5-flash-image-preview',
      input: { prompt: 'x', output_format: 'jpeg', aspect_ratio: '9:16' },
    });
    const [url] = parseResult(await client.waitForTask(taskId, { initialDelayMs: 20 })).resultUrls;
    expect(kindOf((await download(url!)).bytes)).toBe('jpeg');

    const four = await client.createTask({ model: 'imagen4-fast', input: { prompt: 'x', num_images: '4' } });
    const urls = parseResult(await client.waitForTask(four.taskId, { initialDelayMs: 20 })).resultUrls;
    expect(urls).toHaveLength(4);
    const sizes = await Promise.all(urls.map(async (u) => pngSize((await download(u)).bytes)));
    expect(sizes.every((s) => s.width === 256 && s.height === 144)).toBe(true); // Imagen 4 Fast defaults to 16:9
  });

  it("draws what the spec's defaults say when a field is left out, and reads Magnific ratio names", async () => {
    const { client } = await start({ createPer10s: 100 });
    const sizeOf = async (body: CreateTaskRequest) => {
      const { taskId } = await client.createTask(body);
      const [url] = parseResult(await client.waitForTask(taskId, { initialDelayMs: 20 })).resultUrls;
      const file = await download(url!);
      return { type: file.type, ...pngSize(file.bytes) };
    };
    const png = (width: number, height: number) => ({ type: 'image/png', width, height });
    expect(await sizeOf({ model: 'flux-2-pro', input: { prompt: 'x' } })).toEqual(png(256, 192)); // 1024×768
    expect(await sizeOf({ model: 'flux-2-pro', input: { prompt: 'x', width: 512, height: 1024 } })).toEqual(png(128, 256));
    expect(await sizeOf({ model: 'z-image', input: { prompt: 'x', image_size: 'portrait_16_9' } })).toEqual(png(144, 256));
    expect(await sizeOf({ model: 'seedream-v4-5', input: { prompt: 'x', aspect_ratio: 'social_story_9_16' } })).toEqual(png(144, 256));
    expect(await sizeOf({ model: 'imagen4-ultra', input: { prompt: 'x' } })).toEqual(png(256, 256)); // square_1_1
    // Nano Banana Pro Flash: png, the only format LiangXin accepts (the public API's default was jpg).
    expect(await sizeOf({ model: 'nano-banana-pro-flash', input: { prompt: 'xy', aspect_ratio: '4:3' } })).toEqual(png(256, 192));
  });

  it('serves a playable MP4 for Kling', async () => {
    const { client } = await start();
    const { taskId } = await client.createTask({ model: 'kling-v3-pro', input: { prompt: 'x', aspect_ratio: '9:16' } });
    const [url] = parseResult(await client.waitForTask(taskId, { initialDelayMs: 20 })).resultUrls;
    const file = await download(url!);
    expect(file.type).toBe('video/mp4');
    expect(kindOf(file.bytes)).toBe('mp4');
    expect(file.bytes.includes(Buffer.from('avc1'))).toBe(true); // an H.264 track
  });

  it('has no file before the task succeeded', async () => {
    const { sim, client } = await start({ timing: 'realistic' });
    const { taskId } = await client.createTask({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } });
    expect((await download(`${sim.url}/files/${taskId}/0.png`)).status).toBe(404);
  });
});

describe('accounts', () => {
  it('never shows one account a task of another (same answer as an unknown id)', async () => {
    const { sim } = await start({ accounts: [{ apiKey: 'sk-a' }, { apiKey: 'sk-b' }] });
    const a = createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-a' });
    const b = createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-b' });
    const { taskId } = await a.createTask({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } });
    await a.waitForTask(taskId, { initialDelayMs: 20 });
    const other = await b.getTask(taskId).catch((e: LiangxinError) => e);
    const unknown = await b.getTask('task_does_not_exist').catch((e: LiangxinError) => e);
    expect(other).toBeInstanceOf(LiangxinError);
    expect({ ...other }).toEqual({ ...unknown });
  });
});
