// Diagnostics for bench/profile.ts: counts the SQL statements the gateway process runs, by text,
// by wrapping better-sqlite3's Statement methods (the store's own connection included). Loaded
// only when BENCH_SQL_COUNTS=1; the measured runs never load it.
import SqliteDatabase from 'better-sqlite3';

export const sqlCounts = new Map<string, number>();

export function countSql(): void {
  const probe = new SqliteDatabase(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = proto[method]!;
    // Named so a profile shows SQLite's own time (native, charged to its JS caller) as `sqlite run` etc.
    const name = `sqlite ${method}`;
    proto[method] = {
      [name](this: { source: string }, ...args: unknown[]) {
        sqlCounts.set(this.source, (sqlCounts.get(this.source) ?? 0) + 1);
        return original.apply(this, args);
      },
    }[name]!;
  }
}
