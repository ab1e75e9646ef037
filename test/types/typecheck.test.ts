// Runs the compiler over the whole project, the type-level tests in narrowing.typecheck.ts
// included: a consumer's wrong body must be a compile error, not a runtime surprise.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/spec/files.js';

const run = promisify(execFile);

describe('types', () => {
  it('the project compiles and every @ts-expect-error in the type tests is an error', async () => {
    const result = await run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: packageRoot }).then(
      () => ({ code: 0, out: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, out: error.stdout }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });
});
