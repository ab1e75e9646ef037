// Per-tenant order on PostgreSQL, where several instances write at once (SQLite has one writer,
// so there it holds by itself). Two statements take a transaction-scoped advisory lock on their
// tenant first, inside the statement (a CTE it reads from), so neither adds a round trip:
//   - an event append: the lock is taken before the identity draws `seq`, so the tenant's next
//     append draws its seq only once this one has committed. Per tenant, commit order is seq
//     order: whoever sees seq n sees every seq below it, and a feed reading past its cursor, or a
//     stream resuming with Last-Event-ID, skips nothing (issue 18). This needs the identity's
//     CACHE 1 (the default: a cached range would be drawn ahead of the lock).
//   - a queue claim under maxInFlight: the tenant's tasks at the provider are counted after the
//     lock, by tasks_at_provider() (migration 0012). A function, because a statement's snapshot is
//     taken before its lock is granted: counted in the statement itself, the claim committed just
//     before ours would be missed. A VOLATILE function's query takes a snapshot of its own (READ
//     COMMITTED, PostgreSQL's default and the store's), so it sees every claim before ours.
//   - a task's created event (conditional: only while nothing the provider said reached the row)
//     asks task_untold() after the lock (migration 0013), for the same reason: a callback whose
//     record committed, and whose event took the lock first, while this append waited, must be
//     seen, or the created event (waiting) would follow the callback's (success) in the log.
// The lock ends with the transaction: the statement's own, or a caller's larger one (still
// correct, only held longer). Keys are pg_advisory_xact_lock(int, int): PostgreSQL keeps that key
// space apart from the single-bigint one of Kysely's migration lock, the only other advisory lock
// here. The first int names the purpose, the second hashes schema and tenant (two schemas of one
// database do not wait for each other); a hash collision only makes two tenants take turns.
import { sql, type Kysely, type RawBuilder } from 'kysely';

/** The first key of each per-tenant lock ('lxe1', 'lxq1'). */
export const TENANT_LOCKS = { events: 0x6c786531, claims: 0x6c787131 } as const;

/** The CTE name the locked statements read from, so the lock is taken before what follows. */
export const TENANT_LOCK_CTE = 'tenant_lock';

/** `pg_advisory_xact_lock(purpose, hashtext(schema/tenant))`: waits for the tenant's previous holder to commit. */
export function tenantLock(purpose: keyof typeof TENANT_LOCKS, tenantId: string): RawBuilder<void> {
  return sql<void>`pg_advisory_xact_lock(${sql.lit(TENANT_LOCKS[purpose])}, hashtext(current_schema() || '/' || ${tenantId}))`;
}

/**
 * Migration 0012 (PostgreSQL only): the count of a tenant's tasks at the provider, with a snapshot
 * of its own (see above). The predicate is the partial index tasks_at_provider_idx's, so the
 * count is read from it; unqualified names resolve through the store's search_path at each call.
 */
export async function createAtProviderFunction(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function tasks_at_provider(tenant text) returns bigint language sql volatile as $$
      select count(*) from tasks where tenant_id = $1 and final_at is null and state <> 'queued'
    $$`.execute(db);
}

export async function dropAtProviderFunction(db: Kysely<unknown>): Promise<void> {
  await sql`drop function tasks_at_provider(text)`.execute(db);
}

/**
 * Migration 0013 (PostgreSQL only): whether nothing the provider said has reached a task's row
 * yet (no record, not final), with a snapshot of its own (see above).
 */
export async function createUntoldFunction(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function task_untold(task text) returns boolean language sql volatile as $$
      select exists (select 1 from tasks where task_id = $1 and record is null and final_at is null)
    $$`.execute(db);
}

export async function dropUntoldFunction(db: Kysely<unknown>): Promise<void> {
  await sql`drop function task_untold(text)`.execute(db);
}
