// Per-tenant order on PostgreSQL with several writers (src/store/tenant-order.ts): a tenant's
// events commit in seq order, and a claim under maxInFlight counts what was claimed just before
// it. First what the statements do, step by step against a lock held by hand (the lock is taken
// before the identity draws seq; the count after it sees the commit it waited for); then many
// writers from two stores at once, as several instances would be.
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { TENANT_LOCKS } from '../../src/store/tenant-order.js';
import { databaseUrl, type FreshPostgres, freshPostgres } from '../helpers/postgres.js';
import { pollUntil } from '../helpers/wait.js';
import { sending } from './sending-suite.js';
import { task } from './store-suite.js';

const T0 = 1_760_000_000_000;
const claim = { upstreamKeyId: 'key-a', upstreamId: 'default', callbackTokenHash: 'c'.repeat(64), nextCheckAt: T0 + 7_200_000 };
const GT = sending().taskId;
const event = (taskId: string, n: number) => ({ tenantId: 'acme', taskId, state: 'waiting', record: JSON.stringify({ n }), createdAt: T0 + n });

function queued(n: number) {
  const id = `gt_q${String(n).padStart(4, '0')}`;
  return task({ taskId: id, gatewayTaskId: id, state: 'queued', upstreamKeyId: '', queuedAt: T0 + n, slotId: `slot-${n}`, upstreamBody: '{}' });
}

let fresh: FreshPostgres;
let stores: Store[];
/** A connection of its own on the schema, in a transaction, holding the tenant's lock. */
let side: pg.Client;

beforeEach(async () => {
  fresh = await freshPostgres();
  stores = [await openStore(fresh.url), await openStore(fresh.url)];
  side = new pg.Client({ connectionString: databaseUrl(), options: `-c search_path=${fresh.schema}` });
  await side.connect();
});
afterEach(async () => {
  await side.end();
  await Promise.all(stores.map((s) => s.close()));
  await fresh.drop();
});

/** Takes the tenant's lock for `purpose` in a transaction of `side`, the key spelt as the store spells it. */
async function holdLock(purpose: keyof typeof TENANT_LOCKS, tenantId: string): Promise<void> {
  await side.query('begin');
  await side.query(`select pg_advisory_xact_lock($1, hashtext(current_schema() || '/' || $2))`, [TENANT_LOCKS[purpose], tenantId]);
}

/** Resolves once `count` connections wait for that lock (the statements under test got that far). */
async function someoneWaitsFor(purpose: keyof typeof TENANT_LOCKS, tenantId: string, count = 1): Promise<'waiting'> {
  await pollUntil(`${count} statement(s) waiting for the ${purpose} lock`, async () => {
    const { rows } = await side.query<{ n: number }>(
      `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and classid = $1::int::oid
         and objid = hashtext(current_schema() || '/' || $2)::oid and objsubid = 2
         and database = (select oid from pg_database where datname = current_database())`,
      [TENANT_LOCKS[purpose], tenantId],
    );
    return rows[0]!.n >= count;
  });
  return 'waiting';
}

const lastSeq = async () =>
  Number((await side.query<{ v: string | null }>(`select pg_sequence_last_value(pg_get_serial_sequence('task_events', 'seq')::regclass) as v`)).rows[0]!.v);

describe('PostgreSQL: per-tenant order', () => {
  it("an event append waits for its tenant's lock before it draws its seq", async () => {
    const [store] = stores;
    expect(await store!.appendEvent(event('t1', 1))).toBe(1);
    await holdLock('events', 'acme');
    const append = store!.appendEvent(event('t1', 2));
    expect(await Promise.race([append.then(() => 'appended'), someoneWaitsFor('events', 'acme')])).toBe('waiting');
    // Blocked, and no seq drawn yet: the one it draws comes after the holder's commit.
    expect(await lastSeq()).toBe(1);
    // Another tenant does not wait for acme's lock.
    expect(await stores[1]!.appendEvent({ ...event('t2', 3), tenantId: 'globex' })).toBe(2);
    await side.query('commit');
    expect(await append).toBe(3);
  });

  it("a task's created event (conditional; alone or with its confirmation) waits for the same lock before it draws its seq", async () => {
    const [store] = stores;
    await store!.insertTask(task({ taskId: 't1' }));
    await store!.insertTask(sending());
    expect(await store!.appendEvent(event('t0', 1))).toBe(1);
    await holdLock('events', 'acme');
    const created = store!.appendCreatedEvent(event('t1', 2));
    const confirmed = store!.confirmAndAppendCreated(GT, { providerTaskId: 'p-1', upstreamKeyId: 'key-a', nextCheckAt: T0 + 60_000 }, event(GT, 3));
    const appended = Promise.race([created, confirmed]).then(() => 'appended');
    expect(await Promise.race([appended, someoneWaitsFor('events', 'acme', 2)])).toBe('waiting');
    expect(await lastSeq()).toBe(1);
    await side.query('commit');
    expect([await created, await confirmed].sort()).toEqual([2, 3]);
    expect(await store!.getTask(GT)).toMatchObject({ state: 'waiting', providerTaskId: 'p-1' });
  });

  it("a created event that waited for the lock sees the provider's record committed meanwhile, and is not written after it", async () => {
    const [store] = stores;
    await store!.insertTask(task({ taskId: 't1' }));
    await holdLock('events', 'acme');
    const created = store!.appendCreatedEvent(event('t1', 2));
    expect(await Promise.race([created.then(() => 'appended'), someoneWaitsFor('events', 'acme')])).toBe('waiting');
    // The provider's callback, on another instance: its record reaches the row (and its own event
    // would take the lock next). The created event's statement began before; its check did not.
    await stores[1]!.updateTask('t1', { state: 'success', record: '{"state":"success"}', updatedAt: T0 + 5, finalAt: T0 + 5 });
    await side.query('commit');
    expect(await created).toBeUndefined();
    expect(await store!.eventsAfter('acme', 0, 10)).toEqual([]);
  });

  it('a claim under maxInFlight counts after the lock, and sees the claim committed while it waited', async () => {
    const [store] = stores;
    for (const n of [1, 2, 3]) await store!.insertTask(queued(n));
    // Another instance's claim of the head, in flight: it holds the lock and has not committed.
    await holdLock('claims', 'acme');
    await side.query(`update tasks set state = 'sending' where task_id = 'gt_q0001'`);
    const taking = store!.claimQueued('acme', { ...claim, maxInFlight: 1 });
    expect(await Promise.race([taking.then(() => 'claimed'), someoneWaitsFor('claims', 'acme')])).toBe('waiting');
    await side.query('commit');
    // Its statement began before that commit; its count did not, so the room was already taken.
    expect(await taking).toBeUndefined();
    expect(await store!.countAtProvider('acme')).toBe(1);
    // With room for two, it takes the next head (the one taken is skipped, not waited for).
    expect((await store!.claimQueued('acme', { ...claim, maxInFlight: 2 }))?.taskId).toBe('gt_q0002');
    expect(await store!.claimQueued('acme', { ...claim, maxInFlight: 2 })).toBeUndefined();
  });

  it('many writers on two stores: a reader past its cursor sees every event once, in seq order', async () => {
    const reader = await openStore(fresh.url);
    try {
      const WRITERS = 16;
      const EACH = 40;
      let writing = true;
      const seen: number[] = [];
      const reading = (async () => {
        let cursor = 0;
        for (;;) {
          const last = !writing; // a read begun after every append returned: nothing more can come
          const page = await reader.eventsAfter('acme', cursor, 1000);
          for (const e of page) {
            seen.push(e.seq);
            cursor = e.seq;
          }
          if (last && page.length === 0) return;
        }
      })();
      const appended = (
        await Promise.all(
          Array.from({ length: WRITERS }, async (_, w) => {
            const seqs: number[] = [];
            for (let i = 0; i < EACH; i++) seqs.push(await stores[w % 2]!.appendEvent(event(`t${w}`, i)));
            return seqs;
          }),
        )
      ).flat();
      writing = false;
      await reading;
      expect(appended).toHaveLength(WRITERS * EACH);
      expect(seen).toEqual([...appended].sort((a, b) => a - b));
    } finally {
      await reader.close();
    }
  });
});
