// An empty project that installs the packed `liangxin-client` the way a user would, but offline:
// every tarball is packed from this repository (the client from its workspace, openapi-fetch and
// its own dependencies from node_modules) and npm is pointed at a registry that does not exist,
// so a dependency nobody packed fails the install instead of quietly coming from the network.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/spec/files.js';
import { deadPort } from '../cli/run-cli.js';

const exec = promisify(execFile);
/** This repository's compiler, for the client's build and the project's type-check. */
const TSC = join(packageRoot, 'node_modules/typescript/bin/tsc');

/** The client's one declared dependency; everything else installed must come from it. */
export const CLIENT_DEPENDENCY = 'openapi-fetch';

/**
 * The environment for npm and node in the project: nothing from the npm that runs the tests
 * (its npm_* variables would point the child at this repository's config and workspace).
 */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  return { ...env, ...extra };
}

export async function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec(command, args, { cwd, env: cleanEnv(env), maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`, { cause: error });
  }
}

/** The package.json of a dependency as installed here (nested first, as Node resolves it). */
async function installedManifest(name: string, from: string): Promise<{ dir: string; dependencies: Record<string, string> }> {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) {
      const manifest = JSON.parse(await readFile(join(candidate, 'package.json'), 'utf8'));
      return { dir: candidate, dependencies: manifest.dependencies ?? {} };
    }
    if (dir === packageRoot) throw new Error(`${name} is not installed in ${packageRoot}`);
  }
}

/** `name` and everything it depends on, transitively, as installed in this repository. */
export async function dependencyClosure(name: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const visit = async (dep: string, from: string): Promise<void> => {
    if (found.has(dep)) return;
    const { dir, dependencies } = await installedManifest(dep, from);
    found.set(dep, dir);
    for (const next of Object.keys(dependencies)) await visit(next, dir);
  };
  await visit(name, packageRoot);
  return found;
}

/** Packs each folder into `into` (no lifecycle scripts): package name → tarball file name. */
async function pack(into: string, folders: string[]): Promise<Map<string, string>> {
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', into, ...folders], packageRoot);
  return new Map((JSON.parse(stdout) as Array<{ name: string; filename: string }>).map((entry) => [entry.name, entry.filename]));
}

export interface PackedClient {
  tarball: string;
  files: string[];
  manifest: { dependencies?: Record<string, string>; exports?: unknown; license?: string };
}

/**
 * Builds and packs the client as `npm pack` in its workspace would, but from a copy (its sources,
 * the generated types, the root tsconfig it extends): the build writes nothing in this checkout,
 * where package.test.ts may be building at the same time.
 */
export async function packClient(into: string): Promise<PackedClient> {
  const stage = await mkdtemp(join(into, 'stage-'));
  await cp(join(packageRoot, 'src/client'), join(stage, 'src/client'), { recursive: true, filter: (from) => !from.endsWith('/dist') });
  await cp(join(packageRoot, 'src/generated'), join(stage, 'src/generated'), { recursive: true });
  await cp(join(packageRoot, 'tsconfig.json'), join(stage, 'tsconfig.json'));
  await symlink(join(packageRoot, 'node_modules'), join(stage, 'node_modules'));
  const client = join(stage, 'src/client');
  await run(process.execPath, [TSC, '-p', 'tsconfig.json'], client);
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', into], client);
  const [entry] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const manifest = JSON.parse(await readFile(join(client, 'package.json'), 'utf8'));
  return { tarball: entry!.filename, files: entry!.files.map((file) => file.path), manifest };
}

/**
 * Writes the project's package.json and installs it offline. The client is its only dependency;
 * openapi-fetch and its own dependencies are overridden to their tarballs, so they are installed
 * only because the client asks for them.
 */
export async function installOffline(project: string, packs: string, client: PackedClient): Promise<void> {
  const closure = await dependencyClosure(CLIENT_DEPENDENCY);
  const tarballs = await pack(packs, [...closure.values()]);
  const overrides = Object.fromEntries([...tarballs].map(([name, tarball]) => [name, `file:${join(packs, tarball)}`]));
  const manifest = {
    name: 'consumer',
    private: true,
    type: 'module',
    dependencies: { 'liangxin-client': `file:${join(packs, client.tarball)}` },
    overrides,
  };
  await writeFile(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  const registry = `http://127.0.0.1:${await deadPort()}/`;
  const flags = ['--offline', '--registry', registry, '--cache', join(packs, 'npm-cache'), '--no-audit', '--no-fund', '--no-update-notifier'];
  await run('npm', ['install', ...flags], project);
}

/** The names of every package npm installed in the project, nested ones included. */
export async function installedPackages(project: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(project, 'node_modules/.package-lock.json'), 'utf8'));
  return Object.keys(lock.packages as Record<string, unknown>)
    .map((path) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
    .sort();
}

/**
 * Type-checks (and with `outDir`, compiles) the project's .ts files with this repository's
 * compiler; `@types/node` comes from here too, as a Node project of the user's own would have it.
 * No DOM lib: the client's types must stand on Node's alone.
 */
export async function typecheck(project: string, options: { resolution: 'NodeNext' | 'Bundler'; outDir?: string }): Promise<void> {
  const module = options.resolution === 'NodeNext' ? 'NodeNext' : 'ESNext';
  const config = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      module,
      moduleResolution: options.resolution,
      strict: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [join(packageRoot, 'node_modules/@types')],
      ...(options.outDir ? { outDir: options.outDir } : { noEmit: true }),
    },
    include: ['*.ts'],
  };
  const file = `tsconfig.${options.resolution.toLowerCase()}.json`;
  await writeFile(join(project, file), JSON.stringify(config, null, 2));
  await run(process.execPath, [TSC, '-p', file], project);
}
