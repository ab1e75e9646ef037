// Builds the dashboard's front-end (ui/) into static files: one script, one stylesheet (uPlot's
// included) and the page, all served from the gateway's own origin. esbuild, because it is the
// bundler the tree has already: it reads TypeScript and JSX itself (no plugin, no config file),
// bundles Preact and uPlot in well under a second, and so can run at every `npm start`.
// Run: `npm run build:dashboard` (also part of `npm run build`, hence of `prepare`).
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { defaultAssetsDir } from './assets.js';

const UI_DIR = join(dirname(fileURLToPath(import.meta.url)), 'ui');

export async function buildDashboard(outdir = defaultAssetsDir()): Promise<string> {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { app: join(UI_DIR, 'main.tsx') },
    outdir,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
    // Fonts and images inlined: the page never asks for anything the bundle does not hold.
    loader: { '.woff2': 'dataurl', '.svg': 'dataurl' },
  });
  await copyFile(join(UI_DIR, 'index.html'), join(outdir, 'index.html'));
  return outdir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outdir = await buildDashboard(process.argv[2]);
  process.stdout.write(`dashboard built into ${outdir}\n`);
}
