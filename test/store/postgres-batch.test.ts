// The multi-row form of a single-row insert (PostgreSQL group commit), from the text Kysely
// compiles for the store's own task insert; and the batcher's units: a turn's rows in one
// statement, a failed statement's rows tried again alone.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { prepareHotQueries } from '../../src/store/hot-queries.js';
import { createInsertBatcher, MAX_BATCH_ROWS, multiRowInsert } from '../../src/store/postgres-batch.js';
import type { Database } from '../../src/store/schema.js';

describe('multiRowInsert', () => {
  it("numbers each further row's parameters on, from the store's own task insert", async () => {
    // Compiling needs no server: the pool never connects.
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool() }) });
    const single = prepareHotQueries(db).insertTask.sql;
    const n = (single.match(/\$\d+/g) ?? []).length;
    expect(n).toBeGreaterThan(20);
    const three = multiRowInsert(single, 3)!;
    expect(three.startsWith(single.slice(0, single.indexOf(' values ') + 8))).toBe(true);
    expect(three.match(/\$\d+/g)).toEqual(Array.from({ length: 3 * n }, (_, i) => `$${i + 1}`));
    expect(three.endsWith(`$${3 * n})`)).toBe(true);
    await db.destroy();
  });

  it('leaves any other shape alone', () => {
    expect(multiRowInsert('insert into "t" ("a") values ($1) returning "id"', 2)).toBeUndefined();
    expect(multiRowInsert('insert into "t" ("a", "b") values ($2, $1)', 2)).toBeUndefined();
    expect(multiRowInsert('update "t" set "a" = $1', 2)).toBeUndefined();
  });
});

describe('createInsertBatcher', () => {
  const SQL = 'insert into "t" ("a", "b") values ($1, $2)';

  it("sends a turn's rows as one statement, at most MAX_BATCH_ROWS a statement", async () => {
    const sent: Array<{ sql: string; values: unknown[] }> = [];
    const batcher = createInsertBatcher(SQL, async (sql, values) => void sent.push({ sql, values }));
    await Promise.all(Array.from({ length: MAX_BATCH_ROWS + 2 }, (_, i) => batcher.insert([i, `b${i}`])));
    expect(sent.map((s) => s.values.length)).toEqual([2 * MAX_BATCH_ROWS, 4]);
    expect(sent[1]).toEqual({ sql: 'insert into "t" ("a", "b") values ($1, $2), ($3, $4)', values: [64, 'b64', 65, 'b65'] });
    await batcher.insert([9, 'alone']);
    expect(sent[2]).toEqual({ sql: SQL, values: [9, 'alone'] });
  });

  it('tries every row of a failed statement again alone, so only the one at fault is refused', async () => {
    const committed: unknown[] = [];
    const batcher = createInsertBatcher(SQL, async (sql, values) => {
      if (values.includes('bad')) throw new Error('duplicate key');
      if (sql === SQL) committed.push(values[0]);
    });
    const outcomes = await Promise.allSettled([batcher.insert([1, 'ok']), batcher.insert([2, 'bad']), batcher.insert([3, 'ok'])]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(committed).toEqual([1, 3]);
  });
});
