// Where the dashboard's built files are (`npm run build:dashboard` writes them to dist/dashboard,
// beside the compiled gateway; the package ships that folder), and how they are served: from
// this origin only, with a Content-Security-Policy that lets the page load nothing from anywhere
// else (scripts, styles and fonts are bundled) and be framed by no one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type RequestHandler, type Response } from 'express';
import { packageRoot } from '../../spec/files.js';

export const DASHBOARD_DIR = join('dist', 'dashboard');

/** dist/dashboard in the package (found the way the OpenAPI documents are: spec/files.ts). */
export function defaultAssetsDir(): string {
  return join(packageRoot, DASHBOARD_DIR);
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secureHeaders(res: Response): void {
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  // The bundle's names do not change between builds: always ask whether it did.
  res.setHeader('cache-control', 'no-cache');
}

/** Serves the built dashboard; a clear 503 page when it has not been built. */
export function assetsHandler(dir: string): RequestHandler {
  const serve = express.static(dir, { index: 'index.html', redirect: true, dotfiles: 'ignore', etag: true, setHeaders: secureHeaders });
  return (req, res, next) => {
    if (existsSync(join(dir, 'index.html'))) return serve(req, res, next);
    secureHeaders(res);
    res.status(503).type('text/plain').send('The dashboard is not built: run `npm run build:dashboard` (npm start and npm run build do it).\n');
  };
}
