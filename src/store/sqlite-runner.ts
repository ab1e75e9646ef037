// Runs the store's prepared queries on SQLite synchronously (better-sqlite3), with group commit.
//
// Why group commit: every committed write appends its pages (the row, each index it touches) and
// a commit frame to the WAL. Under load many requests write within one turn of the event loop;
// committing them as one transaction writes the shared index pages once. Measured on the
// tasks table: ~100 µs per task (insert + final update) one by one, ~30 µs in batches of 32.
//
// How: a write is queued and its promise resolves once the batch holding it has committed, so a
// caller never answers before its write is durable (as durable as `synchronous = NORMAL`). The
// batch is flushed on setImmediate: after the I/O callbacks of this turn, so everything they
// queued rides along, and within the same turn, so a lone request waits microseconds.
// Each write is its own unit: a failing one (a constraint) is refused alone, the others commit.
//
// Reads run at once. A read that finds nothing while writes are queued flushes them and reads
// again, so a row written by a request still in flight is visible to whoever learns of it early
// (the provider's callback can beat the insert of the task it announces).
//
// Every statement runs under the file's lock (sqlite-lock.ts), taken without waiting when it is
// free, so nothing here runs inside a transaction Kysely holds open across awaits.
import type SqliteDatabase from 'better-sqlite3';
import type { PreparedQuery, QueryRunner, Write } from './prepared.js';
import type { Lock } from './sqlite-lock.js';

interface Pending {
  exec(): number | undefined;
  /** One statement: alone, it may run in autocommit. */
  single: boolean;
  resolve(changed: number | undefined): void;
  reject(error: unknown): void;
}

export interface SqliteRunner extends QueryRunner {
  /** Commits what is queued; resolves when it has. */
  flush(): Promise<void>;
}

export function createSqliteRunner(sqlite: SqliteDatabase.Database, lock: Lock, prepare: (sql: string) => SqliteDatabase.Statement): SqliteRunner {
  let queue: Pending[] = [];
  let scheduled = false;
  const statement = (query: PreparedQuery<never>) => prepare(query.sql);
  const exec = ([query, parameters]: Write) => statement(query).run(parameters).changes;

  async function withLock<T>(fn: () => T): Promise<T> {
    if (!lock.tryLock()) await lock.lock();
    try {
      return fn();
    } finally {
      lock.unlock();
    }
  }

  function commitBatch(batch: Pending[]): void {
    if (batch.length === 1 && batch[0]!.single) {
      settle(batch[0]!);
      return;
    }
    const outcomes: Array<{ changed: number | undefined } | { error: unknown }> = [];
    try {
      prepare('begin immediate').run();
      for (const item of batch) {
        try {
          outcomes.push({ changed: item.exec() });
        } catch (error) {
          // A constraint failure undoes its own statement only; anything that ended the
          // transaction (I/O, a full disk) ends the batch.
          if (!sqlite.inTransaction) throw error;
          outcomes.push({ error });
        }
      }
      prepare('commit').run();
    } catch (error) {
      try {
        if (sqlite.inTransaction) prepare('rollback').run();
      } catch {
        // The connection is unusable either way; every write of the batch is refused below.
      }
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if ('error' in outcome) item.reject(outcome.error);
      else item.resolve(outcome.changed);
    });
  }

  function settle(item: Pending): void {
    try {
      item.resolve(item.exec());
    } catch (error) {
      item.reject(error);
    }
  }

  async function flush(): Promise<void> {
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    await withLock(() => commitBatch(batch));
  }

  function enqueue<T extends number | undefined>(run: () => T, single: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ exec: run, single, resolve: resolve as Pending['resolve'], reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          void flush();
        });
      }
    });
  }

  return {
    async all<R>(query: PreparedQuery<never>, parameters: unknown[]): Promise<R[]> {
      const read = () => statement(query).all(parameters) as R[];
      const rows = await withLock(read);
      if (rows.length > 0 || queue.length === 0) return rows;
      await flush();
      return withLock(read);
    },
    run: (query, parameters) => enqueue(() => exec([query, parameters]), true),
    // Every write here rides the turn's group commit already.
    insert: async (query, parameters) => void (await enqueue(() => exec([query, parameters]), true)),
    insertReturning: (query, parameters) =>
      enqueue(() => {
        const row = statement(query).get(parameters) as Record<string, number | bigint> | undefined;
        return row === undefined ? undefined : Number(Object.values(row)[0]);
      }, true),
    runThen: (first, then) =>
      enqueue(() => {
        // A savepoint makes the pair one unit inside the batch (or a transaction of its own).
        prepare('savepoint run_then').run();
        try {
          const changed = exec(first);
          if (changed > 0) exec(then);
          prepare('release run_then').run();
          return changed;
        } catch (error) {
          if (sqlite.inTransaction) {
            prepare('rollback to run_then').run();
            prepare('release run_then').run();
          }
          throw error;
        }
      }, false),
    flush,
  };
}
