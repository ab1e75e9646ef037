// A gateway as its own process (`liangxin-gateway serve --config FILE`), for tests that need
// what in-process gateways cannot show: two instances, and `kill -9`.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../src/config/index.js';
import { packageRoot } from '../../src/spec/files.js';
import { HANG_CEILING_MS } from './wait.js';

const MAIN = join(packageRoot, 'src/cli/main.ts');
const TSX = pathToFileURL(join(packageRoot, 'node_modules/tsx/dist/loader.mjs')).href;

export interface GatewayProcess {
  url: string;
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Sends the signal and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function spawnGateway(config: ConfigInput, options: { timeoutMs?: number } = {}): Promise<GatewayProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'lxg-proc-'));
  const path = join(dir, 'gateway.yaml');
  await writeFile(path, stringify(config));
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--config', path], { cwd: dir, env: { ...process.env } });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const ceiling = options.timeoutMs ?? HANG_CEILING_MS;
    const timer = setTimeout(() => reject(new Error(`gateway did not start within ${ceiling} ms:\n${out}`)), ceiling);
    const onData = () => {
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill(signal);
        });
      }
      await rm(dir, { recursive: true, force: true });
      return child.exitCode;
    },
  };
}
