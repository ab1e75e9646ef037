// The embedded store: one SQLite file (or memory) opened with better-sqlite3 and handed to the
// shared Kysely queries. better-sqlite3 is synchronous, so Kysely's driver runs one statement at
// a time on its single connection; WAL lets other processes read the file meanwhile.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase as KyselySqliteDatabase } from 'kysely';
import { createKyselyStore } from './kysely-store.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';

export interface SqliteStoreOptions {
  /** A file path (its directory is created) or `:memory:`. */
  path: string;
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
  } catch (error) {
    sqlite.close();
    throw error;
  }

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });

  return createKyselyStore(db, async () => {
    // Kysely closes the database only if it ever ran a query; close it ourselves otherwise.
    await db.destroy();
    if (sqlite.open) sqlite.close();
  });
}

// Kysely prepares every statement anew; on the hot paths (a task read per request) preparing
// costs about as much as running. The store issues a handful of distinct SQL texts, so keep
// them prepared. Safe because Kysely's driver runs one statement at a time on this connection.
function withStatementCache(sqlite: SqliteDatabase.Database, limit = 128): KyselySqliteDatabase {
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
