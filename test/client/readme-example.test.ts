// The README's client example runs as written: its block is examples/client.ts word for word,
// and that file, run as a user runs it (tsx, the base URL and key in the environment), takes a
// Kling task to its result against a gateway in front of the simulator, as `npm start` is.
// The package name it imports is pointed at the client's source (a tsconfig `paths` entry), so
// the test needs no build and runs the code the build compiles.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/spec/files.js';
import { download, kindOf } from '../helpers/files.js';
import { ACME_KEY, startStack, type Stack } from '../helpers/gateway-stack.js';

const EXAMPLE = join(packageRoot, 'examples/client.ts');
const MARKER = '<!-- examples/client.ts';
const TSX = pathToFileURL(join(packageRoot, 'node_modules/tsx/dist/loader.mjs')).href;

let stack: Stack | undefined;
let dir: string | undefined;
afterEach(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  stack = dir = undefined;
});

/** The fenced block right after the marker comment. */
function readmeBlock(readme: string): string {
  const at = readme.indexOf(MARKER);
  expect(at, `README.md has no ${MARKER} marker`).toBeGreaterThan(-1);
  const block = /```ts\n([\s\S]*?)```\n/.exec(readme.slice(at));
  expect(block, 'no ```ts block after the marker').not.toBeNull();
  return block![1]!;
}

function run(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, file], { cwd: packageRoot, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the README's client example", () => {
  it('is examples/client.ts, word for word', async () => {
    expect(readmeBlock(await readFile(join(packageRoot, 'README.md'), 'utf8'))).toBe(await readFile(EXAMPLE, 'utf8'));
  });

  it('takes a Kling task to its result against a gateway, as written', async () => {
    const source = await readFile(EXAMPLE, 'utf8');
    const specifier = /^import \{[^}]*createLiangxinClient[^}]*\} from '([^']+)';$/m.exec(source)?.[1];
    expect(specifier).toBeDefined();
    dir = await mkdtemp(join(tmpdir(), 'lxg-example-'));
    const tsconfig = join(dir, 'tsconfig.json');
    await writeFile(tsconfig, JSON.stringify({ compilerOptions: { module: 'NodeNext', paths: { [specifier!]: [join(packageRoot, 'src/client/index.ts')] } } }));

    stack = await startStack();
    const result = await run(EXAMPLE, { LIANGXIN_BASE_URL: stack.url, LIANGXIN_API_KEY: ACME_KEY, TSX_TSCONFIG_PATH: tsconfig });
    expect(result.code, result.stderr).toBe(0);
    // onProgress lines, the last one `success 100`, then the result URLs, which download.
    expect(result.stdout).toMatch(/^success 100$/m);
    const urls = [...result.stdout.matchAll(/'(http:\/\/[^']+\/0\.mp4)'/g)].map((m) => m[1]!);
    expect(urls).toHaveLength(1);
    expect(kindOf((await download(urls[0]!)).bytes)).toBe('mp4');
  });
});
