// The spec is lint-clean and the committed generated types match it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/spec/files.js';
import { staleTargets } from '../../src/spec/generate.js';

const run = promisify(execFile);

describe('openapi/liangxin.yaml', () => {
  it('passes Redocly lint with every rule at its configured level', async () => {
    const { stdout, stderr } = await run('npm', ['run', '--silent', 'lint:spec'], { cwd: packageRoot });
    expect(stdout + stderr).toMatch(/valid/i);
    expect(stdout + stderr).not.toMatch(/You have \d+ warnings?/);
  });

  it('has committed generated types that are up to date (npm run generate)', async () => {
    expect(await staleTargets()).toEqual([]);
  });
});
