// `serve --config examples/gateway.yaml`, as an operator runs it: the example works as it is
// against the local simulator, a bad config stops start-up with one line, SIGTERM drains.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
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
let occupier: Server | undefined;
afterEach(async () => {
  if (child) await stop(child, 'SIGKILL');
  await new Promise((resolve) => (occupier ? occupier.close(resolve) : resolve(undefined)));
  occupier = undefined;
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  child = sim = dir = undefined;
});

/** Runs `serve` in a temporary folder, so the example's relative store path lands there. */
async function serve(configPath: string, env: Record<string, string>, flags: string[] = []) {
  dir = await mkdtemp(join(tmpdir(), 'lxg-serve-'));
  child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--config', configPath, ...flags], { cwd: dir, env: { ...process.env, ...env } });
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
    expect(result.stderr.trim().split('\n')).toEqual([
      `error: invalid config ${path}: upstream.keys[0].apiKey: environment variable LIANGXIN_KEY_FOR_TEST is not set`,
    ]);
    await rm(path, { force: true });
  });
});

/** A port something else holds for the rest of the test. */
async function occupiedPort(): Promise<number> {
  occupier = createServer();
  await new Promise<void>((resolve) => occupier!.listen(0, '127.0.0.1', resolve));
  return (occupier.address() as { port: number }).port;
}

const EXAMPLE = join(packageRoot, 'examples/gateway.yaml');

describe('serve --port/--host', () => {
  it('listens on what the flags say, whatever listen in the file says', async () => {
    const taken = await occupiedPort();
    // The file's listen.port is the taken one: only the flag can make this start.
    const running = await serve(EXAMPLE, { PORT: String(taken), SIMULATOR_URL: 'http://127.0.0.1:9' }, ['--port', '0', '--host', '127.0.0.1']);
    const url = /listening on (http:\/\/\S+)/.exec(await waitForStdout(running, /listening on (http:\/\/\S+)/))![1]!;
    expect(new URL(url).port).not.toBe(String(taken));
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ status: 'ok' });
  });

  it('names the flag when the port it gave is in use, and the key and the flag when the file gave it', async () => {
    const taken = await occupiedPort();
    const byFlag = await exit(await serve(EXAMPLE, { PORT: '0' }, ['--port', String(taken)]));
    expect(byFlag.code).toBe(2);
    expect(byFlag.stderr.trim()).toBe(`error: port ${taken} is in use; pick another with --port (0 picks a free one)`);
    const byFile = await exit(await serve(EXAMPLE, { PORT: String(taken) }));
    expect(byFile.code).toBe(2);
    expect(byFile.stderr.trim()).toBe(`error: port ${taken} is in use; pick another with listen.port (or serve --port) (0 picks a free one)`);
  });

  it('checks --host like listen.host: open ops endpoints are refused off loopback', async () => {
    const result = await exit(await serve(EXAMPLE, { PORT: '0' }, ['--host', '0.0.0.0']));
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^error: invalid config \S+gateway\.yaml: ops: listen\.host 0\.0\.0\.0 is reachable from other machines/);
  });

  it('refuses a --port that is not a port', async () => {
    const result = await exit(await serve(EXAMPLE, {}, ['--port', 'eighty']));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"eighty" is not a port (0-65535)');
  });
});
