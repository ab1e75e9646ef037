// README's "Environment variables" table names exactly the variables the code and the examples
// read: commander's .env() and process.env in src/, process.env in examples/*.ts, ${NAME} in
// examples/*.yaml (outside comments). A new one cannot go undocumented, nor a gone one stay.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/spec/files.js';

/** Read by Node itself, documented for the heap settings the README recommends. */
const NODE_ITSELF = ['NODE_OPTIONS'];

async function filesUnder(dir: string, extension: string): Promise<string[]> {
  const entries = await readdir(join(packageRoot, dir), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(extension)).map((e) => join(e.parentPath, e.name));
}

const matches = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((m) => m[1]!);

async function variablesRead(): Promise<Set<string>> {
  const names = new Set<string>();
  const ts = [...(await filesUnder('src', '.ts')).filter((f) => !f.includes('/generated/')), ...(await filesUnder('examples', '.ts'))];
  for (const file of ts) {
    const text = await readFile(file, 'utf8');
    for (const name of [...matches(text, /\.env\('([A-Z][A-Z0-9_]*)'\)/g), ...matches(text, /process\.env\.([A-Z][A-Z0-9_]*)/g)]) names.add(name);
  }
  for (const file of await filesUnder('examples', '.yaml')) {
    const text = (await readFile(file, 'utf8')).replace(/#.*$/gm, '');
    for (const name of matches(text, /\$\{([A-Z][A-Z0-9_]*)(?::-[^}]*)?\}/g)) names.add(name);
  }
  return names;
}

async function variablesDocumented(): Promise<Set<string>> {
  const readme = await readFile(join(packageRoot, 'README.md'), 'utf8');
  const section = /^## Environment variables\n([\s\S]*?)^## /m.exec(readme)?.[1];
  expect(section, 'README.md has no "## Environment variables" section').toBeDefined();
  const firstColumns = section!
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => l.split('|')[1]!);
  return new Set(firstColumns.flatMap((cell) => matches(cell, /`([A-Z][A-Z0-9_]*)`/g)));
}

describe('the README on environment variables', () => {
  it('documents every variable the CLI and the examples read, and no other', async () => {
    const read = await variablesRead();
    expect(read).toContain('LIANGXIN_API_KEY'); // the scan finds what it should
    expect(read).toContain('PORT');
    expect([...(await variablesDocumented())].sort()).toEqual([...read, ...NODE_ITSELF].sort());
  });
});
