// `liangxin-client` as a user gets it: packed, installed into an empty project with no registry,
// type-checked there as an ESM consumer (NodeNext and bundler resolution), and the README's
// client example run as written against the simulator. The install may bring in openapi-fetch
// and what openapi-fetch itself depends on, nothing else.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { packageRoot } from '../../src/spec/files.js';
import { CLIENT_DEPENDENCY, dependencyClosure, installedPackages, installOffline, packClient, run, typecheck, type PackedClient } from './consumer-project.js';

/** The first ```ts block under `## The client` in the README: the example users copy. */
async function readmeClientExample(): Promise<string> {
  const readme = await readFile(join(packageRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## The client'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md has no ```ts block under "## The client"');
  return match[1]!;
}

// Compile errors a consumer must get: proof the generated types travelled with the package
// (a missing declaration file would turn every body into `any` and let these through).
const WRONG_BODIES = `import { createLiangxinClient } from 'liangxin-client';
const client = createLiangxinClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k' });
export async function wrong() {
  // @ts-expect-error '2:1' is not a Seedream 4.5 aspect ratio
  await client.createTask({ model: 'seedream-v4-5', input: { prompt: 'x', aspect_ratio: '2:1' } });
  // @ts-expect-error dall-e-3 is not a model
  await client.createTask({ model: 'dall-e-3', input: { prompt: 'x' } });
}
`;

let root: string;
let project: string;
let client: PackedClient;
let sim: RunningSimulator;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lxc-consumer-'));
  project = await mkdtemp(join(root, 'project-'));
  client = await packClient(root);
  await installOffline(project, root, client);
  await writeFile(join(project, 'example.ts'), await readmeClientExample());
  await writeFile(join(project, 'wrong-bodies.ts'), WRONG_BODIES);
  sim = await createSimulator({ accounts: [{ apiKey: 'sk-consumer-test' }] });
});

afterAll(async () => {
  await sim?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the packed liangxin-client', () => {
  it('declares openapi-fetch as its one dependency, ships its licence, types and generated types', () => {
    expect(Object.keys(client.manifest.dependencies ?? {})).toEqual([CLIENT_DEPENDENCY]);
    expect(client.manifest.license).toBe('MIT');
    expect(client.manifest.exports).toMatchObject({ '.': { types: expect.any(String), import: expect.any(String), default: expect.any(String) } });
    expect(client.files).toEqual(
      expect.arrayContaining(['LICENSE', 'package.json', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/generated/liangxin.d.ts']),
    );
    // Only the built output: no TypeScript sources, tests or build config.
    expect(client.files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(client.files.filter((file) => file.startsWith('tsconfig'))).toEqual([]);
  });

  it('installs offline with nothing but openapi-fetch and its own dependencies', async () => {
    const allowed = ['liangxin-client', ...(await dependencyClosure(CLIENT_DEPENDENCY)).keys()].sort();
    expect(await installedPackages(project)).toEqual(allowed);
  });

  it('type-checks the README example for ESM consumers, and refuses a wrong body', async () => {
    await typecheck(project, { resolution: 'Bundler' });
    await typecheck(project, { resolution: 'NodeNext', outDir: 'out' });
  });

  it('runs the README example as written against the simulator', async () => {
    // The example's one local URL is where the server runs; here that is the simulator's port.
    const example = (await readmeClientExample()).replace(/http:\/\/127\.0\.0\.1:\d+/g, sim.url);
    await writeFile(join(project, 'example.ts'), example);
    await typecheck(project, { resolution: 'NodeNext', outDir: 'out' });
    const env = { LIANGXIN_API_KEY: 'sk-consumer-test', LIANGXIN_BASE_URL: sim.url };
    const { stdout, stderr } = await run(process.execPath, [join(project, 'out/example.js')], project, env);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^success/m);
    expect(stdout).toContain(`${sim.url}/`); // the result URLs the example prints
    expect(sim.tasks()).toHaveLength(1);
  });
});
