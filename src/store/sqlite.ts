// The embedded store: one SQLite file (or memory) opened with better-sqlite3 and handed to the
// shared Kysely queries. better-sqlite3 is synchronous, so Kysely's driver runs one statement at
// a time on its single connection; WAL lets other processes read the file meanwhile.
//
// Two things make several writers on one file safe:
// - In this process: a transaction spans several awaits (updateTask with its delivery, a
//   migration). Were another store on the same file to write in between, SQLite would make it
//   wait for the write lock, synchronously, blocking the very event loop that would release it,
//   and fail after busy_timeout. So every store on one file in this process shares one lock,
//   held from a connection's acquisition to its release (a statement, or a whole transaction).
// - Across processes: transactions start with `begin immediate` (the write lock first, waiting up
//   to busy_timeout for it), so two of them never deadlock on a read lock they both want to
//   upgrade; migrations run in such a transaction (SQLite's DDL is transactional), so two
//   instances starting at once apply each migration once.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  type SqliteDatabase as KyselySqliteDatabase,
} from 'kysely';
import { createKyselyStore } from './kysely-store.js';
import { fileLocks, Lock } from './sqlite-lock.js';
import { createSqliteRunner } from './sqlite-runner.js';
import { startCheckpointer, type CheckpointResult } from './sqlite-checkpointer.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';

export interface SqliteStoreOptions {
  /** A file path (its directory is created) or `:memory:`. */
  path: string;
  /** WAL checkpoints in a worker thread (sqlite-checkpointer.ts); on by default for a file. */
  backgroundCheckpoints?: boolean;
  /** Each background checkpoint that copied pages (tests). */
  onCheckpoint?: (result: CheckpointResult) => void;
}

export const MEMORY = ':memory:';

export function createSqliteStore(options: SqliteStoreOptions): Store {
  const { path } = options;
  if (path === '') throw new Error('createSqliteStore: path is empty (give a file path or :memory:)');
  if (path !== MEMORY) mkdirSync(dirname(path), { recursive: true });

  // Opened here rather than lazily by Kysely, so a bad path fails at start, not at the first request.
  const sqlite = new SqliteDatabase(path);
  try {
    sqlite.pragma('journal_mode = WAL'); // stays `memory` for :memory:, which is fine
    sqlite.pragma('synchronous = NORMAL'); // with WAL: durable across crashes of the process, not of the OS
    sqlite.pragma('busy_timeout = 5000'); // another process holding the write lock: wait, do not fail
    sqlite.pragma('foreign_keys = ON');
    // Checkpoint every ~40 MB of WAL rather than every 4 MB: each checkpoint syncs the file, and
    // at the default they cost a third of a busy gateway's write time. A worker copies the WAL
    // back meanwhile (below), so what is left for this thread when the WAL gets there is little.
    sqlite.pragma('wal_autocheckpoint = 10000');
    // better-sqlite3 is built with a 16 MB page cache, which fills (as process memory) as the file
    // grows; SQLite's usual 2 MB is plenty: a miss is read from the OS page cache, not the disk.
    sqlite.pragma('cache_size = -2000');
  } catch (error) {
    sqlite.close();
    throw error;
  }

  // Every :memory: database is its own; a file is shared by every store that opens it.
  const lockKey = path === MEMORY ? undefined : resolve(path);
  // Without the worker (it failed to start, or died) the autocheckpoint above does it all, as before.
  const checkpointer =
    lockKey !== undefined && options.backgroundCheckpoints !== false ? startCheckpointer(lockKey, { onCheckpoint: options.onCheckpoint }) : undefined;
  const lock = lockKey === undefined ? new Lock() : fileLocks.acquire(lockKey);
  const statements = withStatementCache(sqlite);
  const dialect = new LockedSqliteDialect({ database: statements }, lock);
  const db = new Kysely<Database>({ dialect });
  // The per-request queries skip Kysely's driver: run synchronously, writes group-committed.
  const runner = createSqliteRunner(sqlite, lock, (text) => statements.prepare(text) as SqliteDatabase.Statement);

  return createKyselyStore(
    db,
    async () => {
      try {
        await checkpointer?.close();
        await runner.flush();
        // Kysely closes the database only if it ever ran a query; close it ourselves otherwise.
        await db.destroy();
        if (sqlite.open) sqlite.close();
      } finally {
        if (lockKey !== undefined) fileLocks.release(lockKey);
      }
    },
    { runner },
  );
}

// Kysely prepares every statement anew; on the hot paths (a task read per request) preparing
// costs about as much as running. The store issues a handful of distinct SQL texts, so keep
// them prepared. Safe because Kysely's driver runs one statement at a time on this connection.
function withStatementCache(sqlite: SqliteDatabase.Database, limit = 128): KyselySqliteDatabase & { prepare(sql: string): SqliteDatabase.Statement } {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      let statement = cache.get(sql);
      if (statement === undefined) {
        statement = sqlite.prepare(sql);
        cache.set(sql, statement);
        if (cache.size > limit) cache.delete(cache.keys().next().value!);
      }
      return statement;
    },
  };
}

class LockedSqliteDialect extends SqliteDialect {
  readonly #lock: Lock;

  constructor(config: ConstructorParameters<typeof SqliteDialect>[0], lock: Lock) {
    super(config);
    this.#lock = lock;
  }

  override createDriver(): Driver {
    return new LockedDriver(super.createDriver(), this.#lock);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/** SQLite's DDL is transactional: let the Migrator run each migration run in one transaction. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** Kysely's SQLite driver, holding the file's lock with the connection, and `begin immediate`. */
class LockedDriver implements Driver {
  readonly #inner: Driver;
  readonly #lock: Lock;

  constructor(inner: Driver, lock: Lock) {
    this.#inner = inner;
    this.#lock = lock;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.lock();
    try {
      return await this.#inner.acquireConnection();
    } catch (error) {
      this.#lock.unlock();
      throw error;
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#inner.releaseConnection(connection);
    } finally {
      this.#lock.unlock();
    }
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#inner.savepoint!(connection, name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#inner.rollbackToSavepoint!(connection, name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#inner.releaseSavepoint!(connection, name, compile);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}
