// What a user installs: the compiled client under `liangxin-gateway/client`, the bin, and a
// client that pulls in nothing heavy (no express, no store, no mock).
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/spec/files.js';

const run = promisify(execFile);

beforeAll(async () => {
  await run('npm', ['run', '--silent', 'build'], { cwd: packageRoot });
}, 120_000);

describe('the built package', () => {
  it('exports the typed client as liangxin-gateway/client', async () => {
    const script = "const m = await import('liangxin-gateway/client'); console.log(JSON.stringify(Object.keys(m).sort()))";
    const { stdout } = await run('node', ['--input-type=module', '-e', script], { cwd: packageRoot });
    expect(JSON.parse(stdout)).toEqual(
      expect.arrayContaining(['createLiangxinClient', 'parseResult', 'verifyWebhook', 'LiangxinError', 'LiangxinTimeoutError']),
    );
  });

  it('ships type declarations for the client', async () => {
    const types = await readFile(join(packageRoot, 'dist/src/client/index.d.ts'), 'utf8');
    expect(types).toContain('createLiangxinClient');
  });

  it('has a working bin', async () => {
    const { stdout } = await run('node', [join(packageRoot, 'dist/src/cli/main.js'), '--help']);
    expect(stdout).toMatch(/Usage: liangxin-gateway/);
  });

  it('keeps the client free of server-side dependencies', async () => {
    const dir = join(packageRoot, 'dist/src/client');
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.js'))) {
      const source = await readFile(join(dir, file), 'utf8');
      const imports = [...source.matchAll(/^import .*?from ['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
      for (const specifier of imports) {
        const allowed = specifier === 'openapi-fetch' || specifier.startsWith('node:') || specifier.startsWith('./');
        expect(allowed, `${file} imports ${specifier}`).toBe(true);
      }
    }
  });
});
