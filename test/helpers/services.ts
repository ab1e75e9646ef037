// The outside programs some tests need, looked for once per run (test/helpers/global-setup.ts)
// rather than by each test on its own: a missing redis-server used to cost every Redis test a
// 10 s wait on a swallowed `spawn ENOENT` before failing. A test that needs one declares it on its
// describe (`describe(name, needsRedis, ...)`): skipped, with the reason, when the program is
// missing; the summary line names the skipped files and the command that installs it; CI
// (CI=true) never skips.
import { spawnSync } from 'node:child_process';

export interface Service {
  /** The program the tests start themselves. */
  program: string;
  /** The one command that installs it (Debian/Ubuntu; the package the README names). */
  install: string;
}

export const SERVICES = {
  redis: { program: 'redis-server', install: 'apt-get install redis-server' },
  /** The dashboard's browser tests (test/dashboard) drive Debian's chromium through playwright-core. */
  chromium: { program: 'chromium', install: 'apt-get install chromium' },
} as const satisfies Record<string, Service>;

export type ServiceName = keyof typeof SERVICES;

declare module 'vitest' {
  interface TaskMeta {
    /** The service a test needs (set through `needsRedis` and the like, inherited from describe). */
    needs?: ServiceName;
  }
}

/** Set by the global setup for the test processes: the services missing on this machine. */
export const MISSING_ENV = 'LXG_TEST_MISSING_SERVICES';

export function missingServices(): ServiceName[] {
  return (process.env[MISSING_ENV] ?? '').split(',').filter((name): name is ServiceName => name in SERVICES);
}

/** Whether `program --version` runs here (spawnSync reports ENOENT at once: no waiting). */
export function isInstalled(program: string): boolean {
  const result = spawnSync(program, ['--version'], { stdio: 'ignore' });
  return result.error === undefined;
}

function needs(name: ServiceName): { skip: boolean; meta: { needs: ServiceName } } {
  return { skip: missingServices().includes(name), meta: { needs: name } };
}

/** Options for a describe whose tests start their own redis-server. */
export const needsRedis = needs('redis');

/** Options for a describe whose tests drive a headless chromium. */
export const needsChromium = needs('chromium');
