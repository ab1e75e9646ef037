// `create --wait` and `--download` against the gateway: the wait follows the gateway's task events
// (no polls: counted at the simulator) until the copy is made, and the download fetches the
// gateway's durable copy (results.test.ts shows it outlives the provider's link).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kindOf } from '../helpers/files.js';
import { ACME_KEY, startStack, type Stack } from '../helpers/gateway-stack.js';
import { runCli } from './run-cli.js';

let stack: Stack | undefined;
let dir: string | undefined;
afterEach(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  stack = dir = undefined;
});

describe('create --wait --download through the gateway', () => {
  it('follows the events and saves the durable copy', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lxg-cli-wait-'));
    stack = await startStack({
      config: () => ({
        results: { enabled: true, store: { kind: 'directory', path: join(dir!, 'copies') }, allowHttp: true, allowHosts: ['127.0.0.1'], pollIntervalMs: 50 },
      }),
    });
    const out = join(dir, 'out');
    // A first poll an hour away: the command only ends quickly by following the events.
    const result = await runCli([
      'create',
      'z-image',
      '--input',
      '{"prompt":"x","aspect_ratio":"1:1"}',
      '--download',
      out,
      '--poll-interval',
      '3600000',
      '--json',
      '--base-url',
      stack.url,
      '--api-key',
      ACME_KEY,
    ]);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { resultUrls: string[]; files: string[] };
    expect(printed.resultUrls[0]).toMatch(new RegExp(`^${stack.url}/results/`));
    expect(await readdir(out)).toHaveLength(1);
    expect(kindOf(await readFile(printed.files[0]!))).toBe('png');
    expect(stack.sim.counters().recordInfo).toBe(0);
  });
});
