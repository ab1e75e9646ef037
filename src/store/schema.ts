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

/** A boolean as integer 0/1: SQLite has no boolean type and PostgreSQL's would read back differently. */
export type Flag = number;

export type Source = 'config' | 'admin';

export interface TenantsTable {
  id: string;
  /** JSON array of model names, as text; null means every model. */
  models: string | null;
  disabled: Flag;
  source: Source;
  created_at: Millis;
  updated_at: Millis;
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
  final_at: ColumnType<number | string | null, number | null, number | null>;
}

export interface Database {
  tenants: TenantsTable;
  tenant_keys: TenantKeysTable;
  tasks: TasksTable;
}
