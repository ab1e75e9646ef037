// Task lists stay fast among millions of tasks because each page is read from an index in its
// own order, never sorted: checked on SQLite's query plan (a property of the schema and the
// query, whatever the machine's speed). Filters on state and model are applied to the index's
// rows as they come; time bounds narrow the index range.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { listTasksQuery } from '../../src/store/operator-queries.js';
import type { Database } from '../../src/store/schema.js';
import type { TaskListQuery } from '../../src/store/types.js';
import { databaseUrl, freshPostgres } from '../helpers/postgres.js';
import { task } from './store-suite.js';

let dir: string;
let raw: SqliteDatabase.Database;
let db: Kysely<Database>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lxg-plan-'));
  const path = join(dir, 'plan.db');
  const store = await openStore(`sqlite:${path}`);
  for (let i = 0; i < 500; i++) await store.insertTask(task({ taskId: `t${i}`, tenantId: i % 2 ? 'acme' : 'globex', createdAt: 1_760_000_000_000 + i }));
  await store.close();
  raw = new SqliteDatabase(path);
  raw.exec('analyze');
  db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
});
afterAll(async () => {
  await db.destroy();
  await rm(dir, { recursive: true, force: true });
});

function plan(query: TaskListQuery): string {
  const compiled = listTasksQuery(db, query).compile();
  const rows = raw.prepare(`explain query plan ${compiled.sql}`).all(...(compiled.parameters as unknown[])) as Array<{ detail: string }>;
  return rows.map((r) => r.detail).join(' | ');
}

describe('task list pages on SQLite', () => {
  const after = { createdAt: 1_760_000_000_300, taskId: 't300' };
  it.each<[string, TaskListQuery, string]>([
    ["a tenant's first page", { tenantId: 'acme', limit: 51 }, 'USING INDEX tasks_tenant_id_created_at_task_id_idx (tenant_id=?)'],
    // A later page seeks to the cursor: it does not read the pages before it.
    [
      "a tenant's later page",
      { tenantId: 'acme', after, limit: 51 },
      'USING INDEX tasks_tenant_id_created_at_task_id_idx (tenant_id=? AND (created_at,task_id)<(?,?))',
    ],
    [
      "a tenant's page by state, model and time",
      { tenantId: 'acme', state: 'success', model: 'z-image', from: 1, to: 1_760_000_000_400, limit: 51 },
      'USING INDEX tasks_tenant_id_created_at_task_id_idx (tenant_id=? AND created_at>? AND created_at<?)',
    ],
    ["the operator's first page", { limit: 51 }, 'USING INDEX tasks_created_at_task_id_idx'],
    ["the operator's later page", { after, limit: 51 }, 'USING INDEX tasks_created_at_task_id_idx ((created_at,task_id)<(?,?))'],
  ])('reads %s from its index, in order, without sorting', (_name, query, expected) => {
    const detail = plan(query);
    expect(detail).toContain(expected);
    expect(detail).not.toMatch(/TEMP B-TREE/);
  });
});

// PostgreSQL: the same page shapes, with sequential scans priced out (its planner would rightly
// scan a table this small): each page must be an index scan in the index's order, with no Sort.
describe('task list pages on PostgreSQL', () => {
  it('reads every page shape from its index, in order, without sorting', async () => {
    const fresh = await freshPostgres();
    const store = await openStore(fresh.url);
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
    const pgDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }).withSchema(fresh.schema);
    try {
      for (let i = 0; i < 50; i++) await store.insertTask(task({ taskId: `t${i}`, tenantId: i % 2 ? 'acme' : 'globex', createdAt: 1_760_000_000_000 + i }));
      const client = await pool.connect();
      try {
        await client.query(`set search_path to "${fresh.schema}"`);
        await client.query('analyze tasks');
        await client.query('set enable_seqscan = off');
        const after = { createdAt: 1_760_000_000_030, taskId: 't30' };
        for (const [query, index] of [
          [{ tenantId: 'acme', limit: 51 }, 'tasks_tenant_id_created_at_task_id_idx'],
          [{ tenantId: 'acme', after, limit: 51 }, 'tasks_tenant_id_created_at_task_id_idx'],
          [{ limit: 51 }, 'tasks_created_at_task_id_idx'],
          [{ after, limit: 51 }, 'tasks_created_at_task_id_idx'],
        ] as Array<[TaskListQuery, string]>) {
          const compiled = listTasksQuery(pgDb, query).compile();
          const plan = (await client.query(`explain ${compiled.sql}`, compiled.parameters as unknown[])).rows
            .map((r: Record<string, string>) => r['QUERY PLAN'])
            .join('\n');
          expect(plan, JSON.stringify(query)).toMatch(new RegExp(`Index Scan Backward using ${index}`));
          expect(plan, JSON.stringify(query)).not.toMatch(/Sort/);
          // A later page seeks to the cursor itself (ties on created_at included), not to its millisecond.
          if (query.after) expect(plan, JSON.stringify(query)).toMatch(/Index Cond: .*ROW\(created_at, task_id\) < ROW\(/);
        }
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
      await store.close();
      await fresh.drop();
    }
  });
});
