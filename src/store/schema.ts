// The tables as Kysely sees them. Column types are chosen so the same queries run on SQLite and
// PostgreSQL: no native booleans, no JSON columns, no timestamps, only types both read back alike.
// Everything that converts between these columns and the rows of types.ts lives in rows.ts.
import type { ColumnType } from 'kysely';

/**
 * Unix milliseconds in a `bigint` column. better-sqlite3 (safeIntegers off) reads it back as a
 * number; node-postgres reads int8 as a string unless told otherwise. Written as a number, read
 * as either, turned into a number in rows.ts.
 */
export type Millis = ColumnType<number | string, number, number>;

/** The same, nullable. */
export type NullableMillis = ColumnType<number | string | null, number | null, number | null>;

/**
 * Integer micro-dollars in a `bigint` column (migration 0005; USD in `double precision` before).
 * Read back like Millis: a number from better-sqlite3, a string from node-postgres.
 */
export type Micros = ColumnType<number | string | null, number | null, number | null>;

/** A boolean as integer 0/1: SQLite has no boolean type and PostgreSQL's would read back differently. */
export type Flag = number;

export type Source = 'config' | 'admin';

export interface TenantsTable {
  id: string;
  /** JSON array of model names, as text; null means every model. */
  models: string | null;
  /** JSON object of quotas, as text; null means none (migration 0003). */
  quotas: string | null;
  /** JSON object of the tenant's dialect settings (TenantSettings), as text; null means the defaults (migration 0007). */
  settings: string | null;
  disabled: Flag;
  source: Source;
  created_at: Millis;
  updated_at: Millis;
  // 0011_operate
  /** The Standard Webhooks secret callbacks are signed with; null = none (callBackUrl refused). */
  webhook_secret: ColumnType<string | null, string | null | undefined, string | null>;
  /** The secret before the last rotation, still signing until webhook_secret_previous_until. */
  webhook_secret_previous: ColumnType<string | null, string | null | undefined, string | null>;
  webhook_secret_previous_until: ColumnType<number | string | null, number | null | undefined, number | null>;
}

export interface TenantKeysTable {
  id: string;
  tenant_id: string;
  /** Unique: the lookup key of every authenticated request. */
  hash: string;
  label: string | null;
  source: Source;
  created_at: Millis;
  revoked_at: ColumnType<number | string | null, number | null, number | null>;
  /** 0011_operate: refused from this time on; null = never expires. */
  expires_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

/**
 * 0011_operate: provider keys managed through the admin API. A row with api_key is a key added
 * there; one without names a config key the operator disabled. removed_at: no longer offered to
 * createTasks, still used to read the tasks it created.
 */
export interface UpstreamKeysTable {
  id: string;
  upstream_id: string | null;
  api_key: string | null;
  webhook_hmac_key: string | null;
  create_per_10s: number | null;
  record_info_per_second: number | null;
  disabled: Flag;
  removed_at: NullableMillis;
  created_at: Millis;
  updated_at: Millis;
}

export interface TasksTable {
  task_id: string;
  tenant_id: string;
  upstream_key_id: string;
  model: string;
  call_back_url: string | null;
  state: string;
  /** The provider's last record, as JSON text. */
  record: string | null;
  created_at: Millis;
  updated_at: Millis;
  final_at: NullableMillis;
  // 0002_ledger_and_outbox
  slot_id: string | null;
  // 0005_integer_money (were estimated_cost_usd, actual_cost_usd)
  estimated_cost_micros: Micros;
  actual_cost_micros: Micros;
  /** Unique (null for tasks without a gateway callback). */
  callback_token_hash: string | null;
  /** Null once final. */
  next_check_at: NullableMillis;
  checks: ColumnType<number, number | undefined, number>;
  // 0006_record_before_send
  /** Unique (null for tasks recorded before 0006). */
  gateway_task_id: string | null;
  /** The tenant's createTask body, as JSON text. */
  param: string | null;
  // 0009_gateway_owned_tasks
  /** The provider's task id once it answered (or called back); null before. */
  provider_task_id: string | null;
  /** When the admission queue accepted it; null for a task sent at once. */
  queued_at: NullableMillis;
  /** Within its tenant's queue: higher first. */
  priority: ColumnType<number, number | undefined, number>;
  /** A queued task still waiting then ends `fail` (Cancel-After); null = none. */
  deadline_at: NullableMillis;
  /** A queued task's body for the provider (aliases translated), as JSON text; null otherwise. */
  upstream_body: string | null;
  // 0008_task_upstream
  /** The upstream (config id) the task was sent to; null for tasks from before 0008. */
  upstream_id: string | null;
  // 0011_operate
  /** The W3C traceparent of the createTask span (tracing on), for the callback and delivery spans. */
  trace_parent: ColumnType<string | null, string | null | undefined, string | null>;
}

/** One Idempotency-Key of a tenant: the body it came with and, once answered, the answer. */
export interface IdempotencyKeysTable {
  tenant_id: string;
  idem_key: string;
  /** Hex SHA-256 of the request body. */
  body_hash: string;
  /** The first answer's JSON body; null while that request is being processed. */
  answer: string | null;
  created_at: Millis;
}

export type DeliveryStateColumn = 'pending' | 'delivered' | 'failed';

/** The outbox: one row per callback owed to a tenant. */
export interface DeliveriesTable {
  id: string;
  task_id: string;
  tenant_id: string;
  url: string;
  payload: string;
  state: DeliveryStateColumn;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Millis;
  lease_owner: string | null;
  lease_until: NullableMillis;
  last_status: number | null;
  last_error: string | null;
  created_at: Millis;
  updated_at: Millis;
  delivered_at: NullableMillis;
}

export type CopyStateColumn = 'pending' | 'copied' | 'failed' | 'expired';

/** Result copies (migration 0010): one row per successful task whose files are copied. */
export interface ResultCopiesTable {
  task_id: string;
  tenant_id: string;
  state: CopyStateColumn;
  /** JSON array of the provider's result URLs. */
  sources: string;
  /** JSON array of the stored files (CopiedFile), once copied. */
  files: string | null;
  bytes: ColumnType<number | string, number | undefined, number>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Millis;
  lease_owner: string | null;
  lease_until: NullableMillis;
  last_error: string | null;
  retain_ms: Millis;
  expires_at: NullableMillis;
  created_at: Millis;
  updated_at: Millis;
}

/** The per-tenant event log (migration 0010); `seq` is assigned by the database. */
export interface TaskEventsTable {
  seq: ColumnType<number | string, never, never>;
  tenant_id: string;
  task_id: string;
  state: string;
  record: string;
  created_at: Millis;
}

export interface Database {
  tenants: TenantsTable;
  tenant_keys: TenantKeysTable;
  tasks: TasksTable;
  deliveries: DeliveriesTable;
  idempotency_keys: IdempotencyKeysTable;
  upstream_keys: UpstreamKeysTable;
  result_copies: ResultCopiesTable;
  task_events: TaskEventsTable;
}
