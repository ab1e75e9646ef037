// Where the OpenAPI documents live. The package ships `openapi/` beside `src/` (and beside
// `dist/` once built), so the path is found by walking up rather than hard-coding a depth that
// differs between `src/spec/files.ts` and `dist/src/spec/files.js`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(from: string): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'openapi'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`liangxin-gateway: cannot find the package root above ${from}`);
    dir = parent;
  }
}

export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** The provider's contract: the single source of truth for models, fields and answers. */
export const liangxinSpecPath = join(packageRoot, 'openapi', 'liangxin.yaml');

/** The gateway's contract: the tenant-facing API and the admin API. */
export const gatewaySpecPath = join(packageRoot, 'openapi', 'gateway.yaml');

/** The public "Market" API that LiangXin re-brands: its dialect, served as a compatibility profile. */
export const marketSpecPath = join(packageRoot, 'openapi', 'market.yaml');
