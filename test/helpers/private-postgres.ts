// PostgreSQL for the run when DATABASE_URL has no server: a private one in a child process
// (embedded-postgres.ts), stopped by the global setup's teardown, and by itself when this
// process dies (its stdin, a pipe from here, closes).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { packageRoot } from '../../src/spec/files.js';

export interface PrivatePostgres {
  /** Where it listens, as a DATABASE_URL (trust auth on loopback: no password to leak). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Whether a PostgreSQL server answers at `url`. A refusal from the server itself (wrong password,
 * no such database) is an answer: the tests then fail saying so, as they should for a server the
 * user pointed at. Only "nothing there" (refused, unreachable, no answer) is no server.
 */
export async function serverAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch (error) {
    return error instanceof pg.DatabaseError;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Resolves once the server accepts connections (initdb and start take a while: no deadline). */
export function startPrivatePostgres(): Promise<PrivatePostgres> {
  const script = join(packageRoot, 'test/helpers/embedded-postgres.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: packageRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n')) resolve({ url: (JSON.parse(line!) as { url: string }).url, stop });
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the private PostgreSQL exited with ${code} before it was ready:\n${stderr}`)));
  });
}
