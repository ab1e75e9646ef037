// What a user installs: the bin, the client under `liangxin-gateway/client` (a re-export of the
// `liangxin-client` workspace package, which client-package.test.ts installs on its own), and a
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
});

describe('the built package', () => {
  it('exports the typed client as liangxin-gateway/client', async () => {
    const script = "const m = await import('liangxin-gateway/client'); console.log(JSON.stringify(Object.keys(m).sort()))";
    const { stdout } = await run('node', ['--input-type=module', '-e', script], { cwd: packageRoot });
    expect(JSON.parse(stdout)).toEqual(
      expect.arrayContaining(['createLiangxinClient', 'parseResult', 'verifyWebhook', 'LiangxinError', 'LiangxinTimeoutError']),
    );
  });

  it('hands out liangxin-client itself as liangxin-gateway/client, types included', async () => {
    const script =
      "const [a, b] = await Promise.all([import('liangxin-gateway/client'), import('liangxin-client')]);" +
      'console.log(a.LiangxinError === b.LiangxinError && a.createLiangxinClient === b.createLiangxinClient)';
    const { stdout } = await run('node', ['--input-type=module', '-e', script], { cwd: packageRoot });
    expect(stdout.trim()).toBe('true');
    const types = await readFile(join(packageRoot, 'dist/src/exports/client.d.ts'), 'utf8');
    expect(types).toContain("from 'liangxin-client'");
  });

  it('depends on the client workspace at its version and ships a licence', async () => {
    const gateway = JSON.parse(await readFile(join(packageRoot, 'package.json'), 'utf8'));
    const client = JSON.parse(await readFile(join(packageRoot, 'src/client/package.json'), 'utf8'));
    expect(gateway.dependencies[client.name]).toBe(client.version);
    const { stdout } = await run('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: packageRoot });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'dist/src/exports/client.js', 'dist/src/exports/client.d.ts']));
    // The dashboard, built: the gateway serves it from the package, with nothing to fetch.
    expect(files).toEqual(expect.arrayContaining(['dist/dashboard/index.html', 'dist/dashboard/app.js', 'dist/dashboard/app.css']));
    expect(files.filter((f) => f.includes('dashboard/ui/'))).toEqual([]);
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
