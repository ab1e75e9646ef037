// The fast path for "1,000,000 stored tasks": clone one real task row (written by the gateway
// itself, so every column holds what the gateway would write) inside SQLite, 100,000 rows per
// transaction, with a recursive CTE as the row source. The column list is read from the table,
// so columns added by later migrations are copied as they are; columns under a unique index
// (other than the key) get a per-row suffix so the clones stay unique.
import SqliteDatabase from 'better-sqlite3';
import { openStore } from '../../src/store/index.js';

const BATCH = 100_000;
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export interface BulkInsert {
  inserted: number;
  seconds: number;
  /** Row count of the tasks table afterwards. */
  storedTasks: number;
  /** The clone ids are `${prefix}${n}` for n in 1..inserted. */
  prefix: string;
}

export async function cloneTask(sqlitePath: string, templateTaskId: string, count: number, prefix = 'bench_bulk_'): Promise<BulkInsert> {
  // Whoever opens the file first migrates it; make sure the schema is today's before writing rows.
  await (await openStore(`sqlite:${sqlitePath}`)).close();

  const db = new SqliteDatabase(sqlitePath);
  try {
    db.pragma('busy_timeout = 10000');
    db.pragma('cache_size = -262144'); // 256 MB for this connection only: the index inserts stay in memory
    const columns = (db.prepare('pragma table_info(tasks)').all() as Array<{ name: string }>).map((c) => c.name);
    const unique = new Set<string>();
    for (const index of db.prepare('pragma index_list(tasks)').all() as Array<{ name: string; unique: number; origin: string }>) {
      if (!index.unique || index.origin === 'pk') continue;
      for (const column of db.prepare(`pragma index_info(${quote(index.name)})`).all() as Array<{ name: string }>) unique.add(column.name);
    }
    const expressions = columns.map((name) => {
      if (name === 'task_id') return `:prefix || seq.n`;
      if (name === 'record') return `replace(t.record, :template, :prefix || seq.n)`;
      if (unique.has(name)) return `CASE WHEN t.${quote(name)} IS NULL THEN NULL ELSE t.${quote(name)} || '-' || seq.n END`;
      return `t.${quote(name)}`;
    });
    const insert = db.prepare(
      `WITH RECURSIVE seq(n) AS (SELECT CAST(:from AS INTEGER) UNION ALL SELECT n + 1 FROM seq WHERE n < :to) ` +
        `INSERT INTO tasks (${columns.map(quote).join(', ')}) SELECT ${expressions.join(', ')} FROM seq, tasks t WHERE t.task_id = :template`,
    );
    const batch = db.transaction((from: number, to: number) => insert.run({ from, to, prefix, template: templateTaskId }).changes);

    const started = performance.now();
    let inserted = 0;
    for (let from = 1; from <= count; from += BATCH) inserted += batch(from, Math.min(count, from + BATCH - 1));
    // Fold the WAL into the file so the gateway reads the table, not a 1 GB log.
    db.pragma('wal_checkpoint(TRUNCATE)');
    const seconds = (performance.now() - started) / 1000;
    if (inserted !== count) throw new Error(`bench: cloned ${inserted} rows of ${templateTaskId}, wanted ${count} (is it in the store?)`);
    const storedTasks = (db.prepare('select count(*) as n from tasks').get() as { n: number }).n;
    return { inserted, seconds, storedTasks, prefix };
  } finally {
    db.close();
  }
}
