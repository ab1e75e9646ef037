// `create` and `get` as a user runs them, against the stateful simulator started in-process:
// task ids, progress on stderr, result URLs on stdout, downloads, and the exit code of every
// way it can end.
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { createLiangxinClient, parseResult, type TaskRecord } from '../../src/client/index.js';
import { HANG_CEILING_MS } from '../helpers/wait.js';
import { deadPort, runCli, stderrLines } from './run-cli.js';

const DEV_KEY = 'sk-sim-dev';
const FAIL_KEY = 'sk-sim-always-fails';
const input = '{"prompt":"A lighthouse at dawn","aspect_ratio":"16:9"}';
const limits = { createPer10s: 1000, recordInfoPerSecond: 1000 };

let sim: RunningSimulator;
let slowSim: RunningSimulator;
let dir: string;

beforeAll(async () => {
  // Slow enough that a busy machine still sees more than one state go by (the progress test).
  const timing = { visibleAfterMs: 10, waitingMs: 200, queuingMs: 200, generatingMs: 300, videoGeneratingMs: 1200 };
  sim = await createSimulator({ timing, accounts: [{ apiKey: DEV_KEY }, { apiKey: FAIL_KEY, quirks: ['fail'] }], ...limits });
  slowSim = await createSimulator({ timing: { generatingMs: 3_600_000 }, ...limits }); // never ends during a run
  dir = await mkdtemp(join(tmpdir(), 'liangxin-cli-create-'));
});
afterAll(async () => {
  await sim?.close();
  await slowSim?.close();
  await rm(dir, { recursive: true, force: true });
});

const connection = (server = sim, apiKey = DEV_KEY) => ['--base-url', server.url, '--api-key', apiKey];
const createArgs = (...extra: string[]) => ['create', 'z-image', '--input', input, ...extra];

async function readRecord(taskId: string): Promise<TaskRecord> {
  return createLiangxinClient({ baseUrl: sim.url, apiKey: DEV_KEY }).waitForTask(taskId, { initialDelayMs: 20, timeoutMs: HANG_CEILING_MS });
}

describe.concurrent('create against the simulator', () => {
  it('prints the taskId of a task the simulator knows', async () => {
    const result = await runCli([...createArgs(), ...connection()]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const taskId = result.stdout.trim();
    expect(taskId).toMatch(/^\S+$/);
    const record = await readRecord(taskId);
    expect(record.model).toBe('z-image');
    expect(parseResult(record).param?.input).toEqual(JSON.parse(input));
  });

  it('prints {"taskId"} with --json', async () => {
    const result = await runCli([...createArgs('--json'), ...connection()]);
    expect(result.code).toBe(0);
    const { taskId } = JSON.parse(result.stdout) as { taskId: string };
    expect((await readRecord(taskId)).taskId).toBe(taskId);
  });

  it('--wait shows progress on stderr, one line per change, and prints the result URLs', async () => {
    const result = await runCli([
      'create',
      'kling-v3-pro',
      '--input',
      '{"prompt":"a coffee commercial","duration":5}',
      '--wait',
      '--poll-interval',
      '50',
      ...connection(),
    ]);
    expect(result.code).toBe(0);
    const urls = result.stdout.trim().split('\n');
    expect(urls.length).toBeGreaterThanOrEqual(1);
    for (const url of urls) expect(url).toMatch(new RegExp(`^${sim.url}/\\S+$`));
    const taskId = /task (\S+):/.exec(result.stderr)?.[1];
    expect(taskId).toBeDefined();
    const progress = stderrLines(result);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const line of progress) expect(line).toMatch(new RegExp(`^task ${taskId}: (waiting|queuing|generating|success)  \\d+\\.\\d s(  \\d+%)?$`));
    expect(progress.at(-1)).toMatch(/: success .*100%$/);
    expect(new Set(progress).size).toBe(progress.length); // no repeats: not a TTY, so only changes
    expect(result.stderr).not.toContain('\r');
    // The printed URLs are the record's.
    expect(parseResult(await readRecord(taskId!)).resultUrls).toEqual(urls);
  });

  it('--wait --json prints the outcome', async () => {
    const result = await runCli([...createArgs('--wait', '--poll-interval', '50', '--json'), ...connection()]);
    expect(result.code).toBe(0);
    const outcome = JSON.parse(result.stdout) as { taskId: string; state: string; resultUrls: string[]; model: string };
    expect(outcome).toMatchObject({ state: 'success', model: 'z-image', failCode: null });
    expect(outcome.resultUrls).toEqual(parseResult(await readRecord(outcome.taskId)).resultUrls);
  });

  it('--download writes each result into DIR as <taskId>-<n>.<ext> and prints the paths', async () => {
    const inputFile = join(dir, 'input.json');
    await writeFile(inputFile, input);
    const target = join(dir, 'downloads', 'nested');
    const result = await runCli(['create', 'z-image', '--input', `@${inputFile}`, '--download', target, '--poll-interval', '50', ...connection()]);
    expect(result.code).toBe(0);
    const paths = result.stdout.trim().split('\n');
    const taskId = /task (\S+):/.exec(result.stderr)![1]!;
    expect(paths).toEqual((await readdir(target)).sort().map((name) => join(target, name)));
    for (const [i, path] of paths.entries()) expect(path).toMatch(new RegExp(`/${taskId}-${i + 1}\\.(png|jpg|jpeg|webp)$`));
    for (const path of paths) expect((await stat(path)).size).toBeGreaterThan(0);
    // The bytes are the ones the result URL serves.
    const url = parseResult(await readRecord(taskId)).resultUrls[0]!;
    expect((await stat(paths[0]!)).size).toBe((await (await fetch(url)).arrayBuffer()).byteLength);
  });

  it('a task that ends in fail: failCode and failMsg on stderr, exit 1', async () => {
    const result = await runCli([...createArgs('--wait', '--poll-interval', '50'), ...connection(sim, FAIL_KEY)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(stderrLines(result).at(-1)).toMatch(/^error: task \S+ failed: 501 \S.*$/);
    expect(result.stderr).not.toContain(FAIL_KEY);
  });

  it('a wrong API key: the API refuses, exit 1, and the key is not printed', async () => {
    const wrongKey = 'sk-wrong-key-0123456789';
    const result = await runCli([...createArgs('--wait'), ...connection(sim, wrongKey)]);
    expect(result.code).toBe(1);
    expect(stderrLines(result)).toEqual([expect.stringMatching(/^error: 401 \S/)]);
    expect(result.stderr + result.stdout).not.toContain(wrongKey);
  });

  it('--timeout shorter than the task: exit 3, with the task id to check later', async () => {
    // The task generates for an hour: exit 3 and "last state: generating" prove the command gave
    // up at its timeout rather than waiting for the task (no wall-clock bound needed).
    const result = await runCli([...createArgs('--wait', '--timeout', '0.5', '--poll-interval', '50'), ...connection(slowSim)]);
    expect(result.code).toBe(3);
    expect(stderrLines(result).at(-1)).toMatch(
      /^error: task (\S+) is not final after \d+ s \(last state: generating\); check it later with: liangxin-gateway get \1$/,
    );
  });

  it('nothing listening: exit 4', async () => {
    const result = await runCli([...createArgs('--wait'), '--base-url', `http://127.0.0.1:${await deadPort()}`, '--api-key', DEV_KEY]);
    expect(result.code).toBe(4);
    expect(stderrLines(result)).toEqual([expect.stringMatching(/^error: could not reach the server at http:\/\/127\.0\.0\.1:\d+ /)]);
  });

  it('takes the base URL and key from LIANGXIN_BASE_URL and LIANGXIN_API_KEY, flags first', async () => {
    const env = { LIANGXIN_BASE_URL: sim.url, LIANGXIN_API_KEY: DEV_KEY };
    const result = await runCli(createArgs(), { env });
    expect(result.code).toBe(0);
    expect((await readRecord(result.stdout.trim())).model).toBe('z-image');
    // A flag wins over the environment.
    const overridden = await runCli([...createArgs(), '--api-key', 'sk-wrong-key-0123456789'], { env });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toMatch(/^error: 401 /);
  });
});

describe.concurrent('get', () => {
  let taskId: string;
  let record: TaskRecord;
  beforeAll(async () => {
    const client = createLiangxinClient({ baseUrl: sim.url, apiKey: DEV_KEY });
    ({ taskId } = await client.createTask({ model: 'z-image', input: { prompt: 'a red fox', aspect_ratio: '1:1' } }));
    record = await client.waitForTask(taskId, { initialDelayMs: 20 });
  });

  it('--json prints the raw record', async () => {
    const result = await runCli(['get', taskId, '--json', ...connection()]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(record);
  });

  it('prints the record for people', async () => {
    const result = await runCli(['get', taskId, ...connection()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^task +${taskId}$`, 'm'));
    expect(result.stdout).toMatch(/^model +z-image$/m);
    expect(result.stdout).toMatch(/^state +success$/m);
    expect(result.stdout).toMatch(/^created +\d{4}-\d\d-\d\dT/m);
    expect(result.stdout).toContain(`result     ${parseResult(record).resultUrls[0]}`);
  });

  it('shows the failure of a failed task (exit 0: the record was read)', async () => {
    const client = createLiangxinClient({ baseUrl: sim.url, apiKey: FAIL_KEY });
    const { taskId: failed } = await client.createTask({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } });
    const final = await client.waitForTask(failed, { initialDelayMs: 20 });
    const result = await runCli(['get', failed, ...connection(sim, FAIL_KEY)]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^state +fail$/m);
    expect(result.stdout).toContain(`failure    ${final.failCode} ${final.failMsg}`);
  });

  it('an unknown task is the API refusing: exit 1', async () => {
    const result = await runCli(['get', 'task_does_not_exist', ...connection()]);
    expect(result.code).toBe(1);
    expect(stderrLines(result)).toEqual([expect.stringMatching(/^error: 422 recordInfo is null; a task created a moment ago is not visible yet/)]);
  });
});
