// The one place where columns become rows and back: flags, JSON text and bigint milliseconds.
// A new dialect that reads these columns differently only changes what these functions accept.
import type { Selectable } from 'kysely';
import type { TaskStateName, TaskRow, TenantKeyRow, TenantRow, KeyLookup } from './types.js';
import type { Flag, TasksTable, TenantKeysTable, TenantsTable } from './schema.js';

export function toFlag(value: boolean): Flag {
  return value ? 1 : 0;
}

/** 0/1 from SQLite or an integer column; a boolean too, so a boolean column would also read right. */
export function fromFlag(value: number | boolean | string): boolean {
  return value === true || Number(value) === 1;
}

export function encodeModels(models: readonly string[] | null): string | null {
  return models === null ? null : JSON.stringify(models);
}

export function decodeModels(text: string | null): string[] | null {
  return text === null ? null : (JSON.parse(text) as string[]);
}

/** int8 comes back as a string from node-postgres, as a number (or bigint) elsewhere. */
export function toMillis(value: number | string | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

/** count(*) is a bigint in PostgreSQL (a string from node-postgres), a number in SQLite. */
export function toCount(value: number | string | bigint): number {
  return Number(value);
}

export function toMillisOrNull(value: number | string | bigint | null): number | null {
  return value === null ? null : toMillis(value);
}

export function toTenantRow(row: Selectable<TenantsTable>): TenantRow {
  return {
    id: row.id,
    models: decodeModels(row.models),
    disabled: fromFlag(row.disabled),
    source: row.source,
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
  };
}

export function toTenantKeyRow(row: Selectable<TenantKeysTable>): TenantKeyRow {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    hash: row.hash,
    label: row.label,
    source: row.source,
    createdAt: toMillis(row.created_at),
    revokedAt: toMillisOrNull(row.revoked_at),
  };
}

export function toKeyLookup(row: {
  id: string;
  tenant_id: string;
  revoked_at: number | string | null;
  disabled: Flag;
  models: string | null;
}): KeyLookup {
  return {
    keyId: row.id,
    tenantId: row.tenant_id,
    revoked: row.revoked_at !== null,
    tenantDisabled: fromFlag(row.disabled),
    models: decodeModels(row.models),
  };
}

export function toTaskRow(row: Selectable<TasksTable>): TaskRow {
  return {
    taskId: row.task_id,
    tenantId: row.tenant_id,
    upstreamKeyId: row.upstream_key_id,
    model: row.model,
    callBackUrl: row.call_back_url,
    state: row.state as TaskStateName,
    record: row.record,
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
    finalAt: toMillisOrNull(row.final_at),
  };
}

export const FINAL_STATES: readonly TaskStateName[] = ['success', 'fail'];

export function isFinalState(state: TaskStateName): boolean {
  return FINAL_STATES.includes(state);
}
