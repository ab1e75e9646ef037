// `serve --config examples/gateway.yaml`, as an operator runs it: the example works as it is
// against the local simulator, a bad config stops start-up with one line, SIGTERM drains.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { createLiangxinClient, parseResult } from '../../src/client/index.js';
import { packageRoot } from '../../src/spec/files.js';
import { stop, waitForStdout } from './run-cli.js';

const MAIN = join(packageRoot, 'src/cli/main.ts');
// `--import tsx` resolves from the working folder, which here is a temporary one: name the loader.
const TSX = pathToFileURL(join(packageRoot, 'node_modules/tsx/dist/loader.mjs')).href;
let child: ChildProcessWithoutNullStreams | undefined;
let sim: RunningSimulator | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (child) await stop(child, 'SIGKILL');
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  child = sim = dir = undefined;
});

/** Runs `serve` in a temporary folder, so the example's relative store path lands there. */
async function serve(configPath: string, env: Record<string, string>) {
  dir = await mkdtemp(join(tmpdir(), 'lxg-serve-'));
  child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--config', configPath], { cwd: dir, env: { ...process.env, ...env } });
  return child;
}

function exit(process: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  process.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => process.on('close', (code) => resolve({ code, stderr })));
}

describe('serve', () => {
  it('runs examples/gateway.yaml as it is against the simulator, and drains on SIGTERM', async () => {
    sim = await createSimulator({ timing: 'fast' }); // its default account is the example's key
    const running = await serve(join(packageRoot, 'examples/gateway.yaml'), { PORT: '0', SIMULATOR_URL: sim.url });
    const banner = await waitForStdout(running, /listening on (http:\/\/\S+)/);
    const url = /listening on (http:\/\/\S+)/.exec(banner)![1]!;
    expect(banner).not.toContain('sk-sim-dev');
    expect(banner).not.toContain('dev-admin-token-change-me');

    const client = createLiangxinClient({ baseUrl: url, apiKey: 'lxg_dev_acme_0123456789abcdef' });
    const { taskId } = await client.createTask({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } });
    const record = await client.waitForTask(taskId, { initialDelayMs: 50 });
    expect(parseResult(record).resultUrls).toHaveLength(1);
    const globex = createLiangxinClient({ baseUrl: url, apiKey: 'lxg_dev_globex_0123456789abcdef' }); // given hashed in the example
    await expect(globex.createTask({ model: 'kling-v3-pro', input: { prompt: 'x' } })).rejects.toMatchObject({ code: 403 });

    const exited = exit(running);
    running.kill('SIGTERM');
    expect((await exited).code).toBe(0);
  });

  it('stops start-up with one line naming the path and the reason', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'lxg-cfg-')), 'bad.yaml');
    await writeFile(path, 'upstream:\n  baseUrl: http://127.0.0.1:1\n  keys:\n    - id: a\n      apiKey: ${LIANGXIN_KEY_FOR_TEST}\n');
    const result = await exit(await serve(path, {}));
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([`error: invalid config ${path}: upstream.keys[0].apiKey: environment variable LIANGXIN_KEY_FOR_TEST is not set`]);
    await rm(path, { force: true });
  });
});
