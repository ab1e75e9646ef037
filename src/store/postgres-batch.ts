// Group commit on PostgreSQL, for the one write every sent task makes before it is sent: its
// insert. The single-row inserts of one turn of the event loop leave as one multi-row statement:
// one round trip, one commit and one socket write for all of them instead of one each (a socket
// write costs more than the insert it carries: the profile of a Redis + PostgreSQL createTask).
// Seen at 64 connections: half the inserts shared their statement (batches of 2 to 51 rows).
// As on SQLite (sqlite-runner.ts), a caller's promise resolves only once its row has committed,
// and each row is its own unit: when the statement fails (one row's constraint), every row of it
// is tried again alone, so only the one at fault is refused.
//
// The multi-row text is derived from the single-row one Kysely compiled (`insert into … values
// ($1, …, $n)`), numbering each further row's parameters on; a text of any other shape (a
// `returning`, an `on conflict`) is run row by row.

/** Rows in one statement at most (PostgreSQL allows 65,535 parameters; a task has 25). */
export const MAX_BATCH_ROWS = 64;

const SINGLE_ROW = /^(insert into .+ values )\((\$\d+(?:, \$\d+)*)\)$/s;

/** The statement inserting `rows` rows, from a single-row insert's text; undefined for any other shape. */
export function multiRowInsert(sql: string, rows: number): string | undefined {
  const match = SINGLE_ROW.exec(sql);
  if (!match) return undefined;
  const placeholders = match[2]!.split(', ');
  // Only $1..$n in order: then row r's k-th value is $(r·n + k).
  if (!placeholders.every((p, i) => p === `$${i + 1}`)) return undefined;
  const n = placeholders.length;
  const tuples = Array.from({ length: rows }, (_, r) => `(${placeholders.map((_, k) => `$${r * n + k + 1}`).join(', ')})`);
  return `${match[1]}${tuples.join(', ')}`;
}

interface Queued {
  values: unknown[];
  resolve(): void;
  reject(error: unknown): void;
}

/** Runs one statement (its text and values) and resolves once it committed. */
export type Execute = (sql: string, values: unknown[]) => Promise<unknown>;

/** A batcher per single-row insert text: `insert(values)` resolves once that row has committed. */
export function createInsertBatcher(sql: string, execute: Execute) {
  const texts = new Map<number, string | undefined>();
  const textFor = (rows: number) => {
    if (!texts.has(rows)) texts.set(rows, multiRowInsert(sql, rows));
    return texts.get(rows);
  };
  let queue: Queued[] = [];

  const alone = (item: Queued) => execute(sql, item.values).then(item.resolve, item.reject);

  function flush(): void {
    const batch = queue;
    queue = [];
    for (let start = 0; start < batch.length; start += MAX_BATCH_ROWS) {
      const rows = batch.slice(start, start + MAX_BATCH_ROWS);
      const text = rows.length > 1 ? textFor(rows.length) : undefined;
      if (text === undefined) {
        void Promise.all(rows.map(alone));
        continue;
      }
      execute(
        text,
        rows.flatMap((row) => row.values),
      ).then(
        () => {
          for (const row of rows) row.resolve();
        },
        // One row's constraint fails them all: each again alone, so only that one is refused.
        () => void Promise.all(rows.map(alone)),
      );
    }
  }

  return {
    insert(values: unknown[]): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ values, resolve, reject });
        // After this turn's I/O callbacks, so every request read in it rides along.
        if (queue.length === 1) setImmediate(flush);
      });
    },
  };
}
