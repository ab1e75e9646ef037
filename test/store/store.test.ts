// The SQLite store: the shared suite in memory and on a file, then what only a file or a URL has.
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { createSqliteStore, openStore } from '../../src/store/index.js';
import { migrations } from '../../src/store/migrations.js';
import type { CheckpointResult } from '../../src/store/sqlite-checkpointer.js';
import { before0005, expectAfter0005, writeBefore0005 } from './migration-0005.js';
import { describeOperatorQueries } from './operator-suite.js';
import { describeQueue } from './queue-suite.js';
import { describeSendingTasks } from './sending-suite.js';
import { describeStore, key, task } from './store-suite.js';
import { pollUntil } from '../helpers/wait.js';

let dir: string;
let files = 0;
const nextFile = () => join(dir, `store-${++files}.db`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liangxin-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Two stores on one SQLite file, as two instances would open it. */
async function twoOnOneFile() {
  const url = `sqlite:${nextFile()}`;
  const [a, b] = [await openStore(url), await openStore(url)];
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
}

describeStore('SQLite in memory', () => openStore('sqlite::memory:'));
describeStore('SQLite file', () => openStore(`sqlite:${nextFile()}`), twoOnOneFile);

describeOperatorQueries('SQLite in memory', () => openStore('sqlite::memory:'));
describeSendingTasks('SQLite in memory', () => openStore('sqlite::memory:'));
describeSendingTasks('SQLite file', () => openStore(`sqlite:${nextFile()}`), twoOnOneFile);

describeQueue('SQLite file', () => openStore(`sqlite:${nextFile()}`), twoOnOneFile);

describe('SQLite file store', () => {
  it('keeps its data across close and reopen', async () => {
    const url = `sqlite:${nextFile()}`;
    const first = await openStore(url);
    await first.upsertTenant({ id: 'acme', models: ['z-image'], disabled: false, source: 'config' }, 1);
    await first.addTenantKey(key());
    await first.insertTask(task({ createdAt: 1, updatedAt: 1 }));
    await first.updateTask('task-1', { state: 'success', record: '{"state":"success"}', updatedAt: 5, finalAt: 5 });
    await first.close();

    const second = await openStore(url);
    try {
      expect(await second.getTenant('acme')).toMatchObject({ models: ['z-image'], createdAt: 1 });
      expect(await second.findKeyByHash(key().hash)).toMatchObject({ keyId: 'tk_1', revoked: false });
      expect(await second.getTask('task-1')).toMatchObject({ state: 'success', finalAt: 5 });
      expect(await second.countTasks()).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('creates the parent directory and writes in WAL mode', async () => {
    const path = join(dir, 'nested', 'deeper', 'gateway.db');
    const store = await openStore(`sqlite:${path}`);
    await store.close();
    expect(existsSync(path)).toBe(true);
    const raw = new SqliteDatabase(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = raw.prepare(`select name from sqlite_master where type = 'table' order by name`).pluck().all();
      expect(tables).toEqual(expect.arrayContaining(['tasks', 'tenant_keys', 'tenants']));
    } finally {
      raw.close();
    }
  });

  it('migrates an existing file without touching its data', async () => {
    const url = `sqlite:${nextFile()}`;
    const first = await openStore(url);
    await first.insertTask(task());
    await first.close();
    const second = await openStore(url);
    await second.migrate();
    expect(await second.countTasks()).toBe(1);
    await second.close();
  });

  it('leaves the newer record when two stores on one file race', async () => {
    const url = `sqlite:${nextFile()}`;
    const [a, b] = [await openStore(url), await openStore(url)];
    try {
      await a.insertTask(task({ createdAt: 1, updatedAt: 1 }));
      const older = { state: 'queuing', record: '{"n":1}', updatedAt: 10, finalAt: null } as const;
      const newer = { state: 'generating', record: '{"n":2}', updatedAt: 20, finalAt: null } as const;
      await Promise.all([b.updateTask('task-1', newer), a.updateTask('task-1', older)]);
      expect(await a.getTask('task-1')).toMatchObject({ state: 'generating', updatedAt: 20 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('two stores migrating one new file at once both succeed and migrate it once', async () => {
    const path = nextFile();
    const [a, b] = [createSqliteStore({ path }), createSqliteStore({ path })];
    try {
      await Promise.all([a.migrate(), b.migrate()]);
      await a.insertTask(task());
      expect(await b.getTask('task-1')).toEqual(task());
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const raw = new SqliteDatabase(path, { readonly: true });
    try {
      expect(raw.prepare('select name from kysely_migration order by name').pluck().all()).toEqual(Object.keys(migrations).sort());
    } finally {
      raw.close();
    }
  });

  it('a write transaction on one store does not stall another store on the same file', async () => {
    const url = `sqlite:${nextFile()}`;
    const [a, b] = [await openStore(url), await openStore(url)];
    try {
      await a.insertTask(task());
      await a.insertTask(task({ taskId: 'task-2' }));
      const at = task().updatedAt + 1;
      const delivery = { id: 'msg_1', tenantId: 'acme', url: 'https://t.example/cb', payload: '{}', createdAt: at };
      // a's transaction (update + insert) interleaves with b's plain writes at every await. Were
      // the lock not shared, b's write would block the event loop that a needs to commit, and
      // fail with SQLITE_BUSY after busy_timeout: an error here, whatever the machine's speed
      // (no wall-clock bound needed).
      const results = await Promise.all([
        a.updateTask('task-1', { state: 'success', record: '{}', updatedAt: at, finalAt: at }, delivery),
        b.scheduleCheck('task-2', at),
        b.updateTask('task-2', { state: 'generating', record: '{}', updatedAt: at, finalAt: null }),
      ]);
      expect(results).toEqual([true, undefined, true]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('migrates a file written before 0002: existing tasks keep their data, open ones get checked', async () => {
    const path = nextFile();
    const old = new Kysely<any>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path) }) });
    const only0001 = { getMigrations: async () => ({ '0001_initial': migrations['0001_initial']! }) };
    expect((await new Migrator({ db: old, provider: only0001 }).migrateToLatest()).error).toBeUndefined();
    const columns = { tenant_id: 'acme', upstream_key_id: 'up-1', model: 'z-image', call_back_url: null, record: null };
    await old
      .insertInto('tasks')
      .values([
        { ...columns, task_id: 'open', state: 'generating', created_at: 100, updated_at: 150, final_at: null },
        { ...columns, task_id: 'done', state: 'success', created_at: 200, updated_at: 250, final_at: 250 },
      ])
      .execute();
    await old.destroy();

    const store = await openStore(`sqlite:${path}`);
    try {
      expect(await store.getTask('open')).toEqual(
        task({ taskId: 'open', providerTaskId: 'open', state: 'generating', createdAt: 100, updatedAt: 150, nextCheckAt: 100 }),
      );
      // Keyed by the provider's id before 0009: that id is the provider's id too.
      expect(await store.getTask('done')).toEqual(
        task({ taskId: 'done', providerTaskId: 'done', state: 'success', createdAt: 200, updatedAt: 250, finalAt: 250 }),
      );
      expect((await store.claimTasksToCheck(1000, 60_000, 10)).map((t) => t.taskId)).toEqual(['open']);
    } finally {
      await store.close();
    }
  });

  it('migrates a file written before 0005: USD floats become micro-dollars, fractional times whole', async () => {
    const path = nextFile();
    const old = new Kysely<any>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path) }) });
    expect((await new Migrator({ db: old, provider: before0005 }).migrateToLatest()).error).toBeUndefined();
    await writeBefore0005(old, { fractions: true });
    await old.destroy();

    const store = await openStore(`sqlite:${path}`);
    try {
      await expectAfter0005(store);
    } finally {
      await store.close();
    }
    const raw = new SqliteDatabase(path, { readonly: true });
    try {
      const types = raw.prepare(`select typeof(created_at) || ',' || typeof(next_attempt_at) from deliveries`).pluck().all();
      expect(types).toEqual(['integer,integer']);
      const columns = raw.prepare(`select name from pragma_table_info('tasks') where name like '%cost%' order by name`).pluck().all();
      expect(columns).toEqual(['actual_cost_micros', 'estimated_cost_micros']);
    } finally {
      raw.close();
    }
  });

  describe('group commit (writes of one event-loop turn in one transaction)', () => {
    it('commits concurrent inserts together; a failing one is refused alone', async () => {
      const path = nextFile();
      const store = await openStore(`sqlite:${path}`);
      try {
        await store.insertTask(task({ taskId: 'taken' }));
        const ids = Array.from({ length: 40 }, (_, i) => `batch-${i}`);
        const outcomes = await Promise.allSettled([
          ...ids.map((taskId) => store.insertTask(task({ taskId, callbackTokenHash: `h-${taskId}` }))),
          store.insertTask(task({ taskId: 'taken' })),
        ]);
        expect(outcomes.slice(0, 40).every((o) => o.status === 'fulfilled')).toBe(true);
        expect(outcomes[40]).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ message: expect.stringMatching(/UNIQUE/) }) });
        expect(await store.countTasks()).toBe(41);
      } finally {
        await store.close();
      }
      // Durable once resolved: another connection sees every row.
      const raw = new SqliteDatabase(path, { readonly: true });
      try {
        expect(raw.prepare(`select count(*) from tasks where task_id like 'batch-%'`).pluck().get()).toBe(40);
      } finally {
        raw.close();
      }
    });

    it('keeps a final update and its delivery one unit inside a batch', async () => {
      const store = await openStore(`sqlite:${nextFile()}`);
      try {
        await Promise.all([store.insertTask(task({ taskId: 'a', callbackTokenHash: 'ha' })), store.insertTask(task({ taskId: 'b', callbackTokenHash: 'hb' }))]);
        const at = task().updatedAt + 1;
        const final = { state: 'success', record: '{}', updatedAt: at, finalAt: at } as const;
        const delivery = { id: 'msg_same', tenantId: 'acme', url: 'https://t.example/cb', payload: '{}', createdAt: at };
        // Same delivery id twice in one batch: the second pair fails on its insert, so its update is undone too.
        const [first, second] = await Promise.allSettled([store.updateTask('a', final, delivery), store.updateTask('b', final, delivery)]);
        expect(first).toEqual({ status: 'fulfilled', value: true });
        expect(second.status).toBe('rejected');
        expect(await store.getTask('a')).toMatchObject({ state: 'success' });
        expect(await store.getTask('b')).toMatchObject({ state: 'waiting', finalAt: null });
      } finally {
        await store.close();
      }
    });

    it('lets a reader find a row whose insert is still queued (a callback racing its task)', async () => {
      const store = await openStore(`sqlite:${nextFile()}`);
      try {
        const inserting = store.insertTask(task({ taskId: 'early', callbackTokenHash: 'h-early' }));
        // Not awaited: the insert is queued for the end of this turn, the read comes first.
        const found = await store.getTask('early');
        expect(found?.taskId).toBe('early');
        await inserting;
      } finally {
        await store.close();
      }
    });

    it('writes shared pages once for a batch: a fraction of the WAL of one commit per write', async () => {
      // Every commit appends the pages it changed (row, indexes) to the WAL: thirty inserts one
      // by one append them thirty times, thirty in one turn about once.
      async function walBytes(concurrent: boolean): Promise<number> {
        const path = nextFile();
        // No background checkpoints: one that restarted the WAL meanwhile would hide what it grew by.
        const store = createSqliteStore({ path, backgroundCheckpoints: false });
        await store.migrate();
        try {
          const before = statSync(`${path}-wal`).size;
          const insert = (i: number) => store.insertTask(task({ taskId: `t-${i}`, callbackTokenHash: `h-${i}` }));
          if (concurrent) await Promise.all(Array.from({ length: 30 }, (_, i) => insert(i)));
          else for (let i = 0; i < 30; i++) await insert(i);
          return statSync(`${path}-wal`).size - before;
        } finally {
          await store.close();
        }
      }
      const [oneByOne, together] = [await walBytes(false), await walBytes(true)];
      expect(together).toBeGreaterThan(0);
      expect(together * 5).toBeLessThan(oneByOne);
    });
  });

  it('copies the WAL back into the file from a worker thread, and closes with it', async () => {
    const path = nextFile();
    let last: CheckpointResult | undefined;
    const store = createSqliteStore({
      path,
      onCheckpoint: (result) => {
        last = result;
      },
    });
    await store.migrate();
    try {
      for (let i = 0; i < 20; i++) await store.insertTask(task({ taskId: `t-${i}`, callbackTokenHash: `h-${i}` }));
      last = undefined;
      // The worker's checkpoint runs on its own timer: wait for one that copied the whole WAL.
      await pollUntil('a background checkpoint of the whole WAL', () => last !== undefined && last.checkpointed === last.log);
      // So the rows are in the database file itself: a copy of the file alone, without its WAL, has them.
      const alone = `${path}-alone.db`;
      copyFileSync(path, alone);
      const raw = new SqliteDatabase(alone, { readonly: true });
      try {
        expect(raw.prepare(`select count(*) from tasks`).pluck().get()).toBe(20);
      } finally {
        raw.close();
      }
    } finally {
      await store.close();
    }
    // The worker's connection closed with the store: the main one, the last, removed the WAL.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('can be closed before it ran a query', async () => {
    const store = createSqliteStore({ path: nextFile() });
    await expect(store.close()).resolves.toBeUndefined();
  });
});

describe('openStore', () => {
  it('refuses a URL it does not know, naming it', async () => {
    await expect(openStore('redis://x')).rejects.toThrow(/store URL "redis:\/\/x" is not supported: use sqlite:PATH/);
  });

  it('refuses sqlite: without a path', async () => {
    await expect(openStore('sqlite:')).rejects.toThrow(/store URL "sqlite:" has no path/);
  });

  it('refuses sqlite:// rather than guessing the path', async () => {
    await expect(openStore('sqlite://data/gateway.db')).rejects.toThrow(/without \/\//);
  });

  it('refuses a bad PostgreSQL schema before connecting, without showing the password', async () => {
    const refusal = openStore('postgres://gateway:s3cret@db.internal:5432/gateway?schema=');
    await expect(refusal).rejects.toThrow(/schema "" is not a valid PostgreSQL schema name/);
    await expect(refusal).rejects.toThrow(/postgres:\/\/gateway:\*\*\*@db\.internal:5432\/gateway/);
    await expect(refusal).rejects.not.toThrow(/s3cret/);
  });

  it('returns a migrated store', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      expect(await store.countTasks()).toBe(0);
    } finally {
      await store.close();
    }
  });
});
