// `serve` reloads its config file on SIGHUP (issue 19, item 5): a tenant added to the file can
// call at once, without a restart; a broken file is reported on stderr and the running config
// kept. (What a reload changes in place is tested in test/gateway/reload.test.ts.)
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { packageRoot } from '../../src/spec/files.js';
import { pollUntil } from '../helpers/wait.js';
import { stop, waitForStdout } from './run-cli.js';

const MAIN = join(packageRoot, 'src/cli/main.ts');
const TSX = pathToFileURL(join(packageRoot, 'node_modules/tsx/dist/loader.mjs')).href;
const ACME = 'lxg_reload_acme_0123456789abcdef';
const INITECH = 'lxg_reload_initech_0123456789abcdef';
let child: ChildProcessWithoutNullStreams | undefined;
let sim: RunningSimulator | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (child) await stop(child, 'SIGKILL');
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  child = sim = dir = undefined;
});

const createTask = (url: string, key: string) =>
  fetch(`${url}/api/v1/jobs/createTask`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } }),
  });

describe('serve and SIGHUP', () => {
  it('reads the file again: a new tenant calls at once; a broken file keeps the running config', async () => {
    sim = await createSimulator({ timing: 'fast' });
    dir = await mkdtemp(join(tmpdir(), 'lxg-reload-'));
    const file = join(dir, 'gateway.yaml');
    const config = (tenants: unknown[]) => ({
      listen: { host: '127.0.0.1', port: 0 },
      store: `sqlite:${join(dir!, 'gateway.db')}`,
      upstream: { baseUrl: sim!.url, keys: [{ id: 'sim-dev', apiKey: 'sk-sim-dev' }] },
      tenants,
      log: { level: 'warn' },
    });
    await writeFile(file, stringify(config([{ id: 'acme', apiKeys: [ACME] }])));
    child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--config', file], { cwd: dir, env: process.env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const url = /listening on (http:\/\/\S+)/.exec(await waitForStdout(child, /listening on (http:\/\/\S+)/))![1]!;
    expect((await createTask(url, INITECH)).status).toBe(401);

    await writeFile(
      file,
      stringify(
        config([
          { id: 'acme', apiKeys: [ACME] },
          { id: 'initech', apiKeys: [INITECH] },
        ]),
      ),
    );
    child.kill('SIGHUP');
    await pollUntil('the reload on stderr', () => stderr.includes('SIGHUP: config reloaded'));
    expect((await createTask(url, INITECH)).status).toBe(200);

    await writeFile(file, 'tenants: [');
    child.kill('SIGHUP');
    await pollUntil('the refusal on stderr', () => stderr.includes('SIGHUP: config not reloaded, the running one is kept'));
    expect((await createTask(url, INITECH)).status).toBe(200);
    expect((await createTask(url, ACME)).status).toBe(200);
  });
});
